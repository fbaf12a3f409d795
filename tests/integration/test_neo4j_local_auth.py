"""scripts/neo4j-local answers nobody without its password: not a local process, not a web page in the responder's browser."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ClientError

from keytrail.graph.backends import Neo4jSettings
from keytrail.graph.neo4j_local import local_credentials

pytestmark = pytest.mark.neo4j


def _home() -> Path | None:
    """The home of the scripts/neo4j-local server under test; in CI there always is one, so the checks never skip."""
    home = os.environ.get("KEYTRAIL_NEO4J_HOME")
    if home and (Path(home) / "run" / "neo4j-local.ports").is_file():
        return Path(home)
    if os.environ.get("CI"):
        pytest.fail("CI runs Neo4j from scripts/neo4j-local: its home must be known (KEYTRAIL_NEO4J_HOME)")
    return None


def test_bolt_refuses_a_caller_without_the_password(neo4j_settings: Neo4jSettings) -> None:
    if _home() is None:
        pytest.skip("not a scripts/neo4j-local server")
    for auth in (None, ("neo4j", "neo4j"), ("neo4j", "wrong")):
        with GraphDatabase.driver(neo4j_settings.uri, auth=auth) as driver, pytest.raises((AuthError, ClientError)):
            driver.verify_connectivity()
    # keytrail finds the generated password by itself, and it works.
    found = local_credentials(neo4j_settings.uri)
    assert found is not None
    with GraphDatabase.driver(neo4j_settings.uri, auth=found) as driver:
        driver.verify_connectivity()


def test_the_http_api_refuses_a_foreign_page(neo4j_settings: Neo4jSettings) -> None:
    home = _home()
    if home is None:
        pytest.skip("not a scripts/neo4j-local server")
    http = (home / "run" / "neo4j-local.ports").read_text().split()[1]
    request = urllib.request.Request(
        f"http://127.0.0.1:{http}/db/neo4j/tx/commit",
        data=b'{"statements": [{"statement": "MATCH (n) DETACH DELETE n"}]}',
        headers={"Content-Type": "application/json", "Origin": "http://evil.example", "Host": "evil.example"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    # The password file is the owner's alone.
    assert (home / "run" / "password").stat().st_mode & 0o077 == 0
