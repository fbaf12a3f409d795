"""The slice pattern through moto's Athena: a first pass by the leaked key, then ``load --follow KEY`` passes whose
``--key``/``--principal`` filters come from what the store holds, until nothing new comes. moto does not run SQL:
each pass's result is what the test's own filter keeps of the incident's records, seeded before the pass, and the
test checks that the query the command sent asked for exactly those keys and principals (from the incident's
facts: the role the leaked key created, the session that came through it, the key the session created, its user).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner, Result

from keytrail.cli.main import app
from keytrail.sample.doors import backdoor_role_incident

from ..support import docs_table_input
from .test_cloud_sources import seed_athena

TABLE = "athena://slice_trail.cloudtrail_logs"
WINDOW = ["--start", "2026-01-07", "--end", "2026-01-07", "--output", "s3://athena-results-follow/", "--incident", "slice"]


@pytest.fixture(scope="module")
def aws(moto_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The session's moto and the environment that points boto3 at it, with the documentation's CloudTrail table.

    moto's state is the process's, shared by every module that uses the session's moto: the names are this module's own.
    """
    env = dict(moto_env)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        session = boto3.Session()
        with contextlib.suppress(Exception):
            session.client("s3").create_bucket(Bucket="athena-results-follow")
        glue = session.client("glue")
        with contextlib.suppress(glue.exceptions.AlreadyExistsException):
            glue.create_database(DatabaseInput={"Name": "slice_trail"})
        with contextlib.suppress(glue.exceptions.AlreadyExistsException):
            glue.create_table(
                DatabaseName="slice_trail",
                TableInput=docs_table_input(),
            )
        yield env


@pytest.fixture
def cli(cli_store: tuple[list[str], dict[str, str]], aws: dict[str, str]) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Global options and environment that point the CLI at one store (emptied) and at moto."""
    args, env = cli_store[0], cli_store[1] | aws
    result = CliRunner().invoke(app, [*args, "reset", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    yield args, env


def run(cli: tuple[list[str], dict[str, str]], *words: str) -> Result:
    """The command on the store and moto of ``cli``, on a terminal wide enough that no message is wrapped."""
    args, env = cli
    return CliRunner().invoke(app, [*args, *words], env=env | {"COLUMNS": "400"})


def made_by(record: dict[str, Any], keys: set[str], principals: set[str]) -> bool:
    """What keytrail's Athena filter keeps: a record signed by one of the keys, or made by one of the principals or a session of one."""
    identity = record.get("userIdentity") or {}
    issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
    return identity.get("accessKeyId") in keys or identity.get("arn") in principals or issuer in principals


def asked(query_id: str) -> tuple[set[str], set[str]]:
    """The keys and ARNs among the parameters the command sent to Athena (past the days and times)."""
    execution = boto3.client("athena").get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    values = [p.strip("'") for p in execution["ExecutionParameters"][4:]]
    assert all(v not in execution["Query"] for v in values)
    return {v for v in values if not v.startswith("arn:")}, {v for v in values if v.startswith("arn:")}


def test_follow_passes_fetch_the_blast_radius_until_nothing_new(cli: tuple[list[str], dict[str, str]]) -> None:
    incident = backdoor_role_incident()
    facts = incident.facts
    leaked = facts.leaked_key.access_key_id
    user_arn = f"arn:aws:iam::{facts.account_id}:user/{facts.further_key.user_name}"
    endpoint = cli[1]["AWS_ENDPOINT_URL"]
    # What each pass must ask for: the key; then the role it created; then the session that came through the role's
    # door, the key that session created and that key's user; then the same again (nothing new).
    passes: list[tuple[list[str], set[str], set[str]]] = [
        (["--key", leaked], {leaked}, set()),
        (["--follow", leaked], {leaked}, {facts.role_arn}),
        (["--follow", leaked], {leaked, facts.session_key_id, facts.further_key.access_key_id}, {facts.role_arn, user_arn}),
        (["--follow", leaked], {leaked, facts.session_key_id, facts.further_key.access_key_id}, {facts.role_arn, user_arn}),
    ]
    stored: set[str] = set()
    for number, (flags, keys, principals) in enumerate(passes, start=1):
        sliced = [r for r in incident.records if made_by(r, keys, principals)]
        seed_athena(endpoint, sliced)
        result = run(cli, "load", TABLE, *WINDOW, *flags, "--json")
        assert result.exit_code == 0, (number, result.output)
        summary = json.loads(result.stdout)
        [source] = summary["sources"]
        assert asked(source["query_id"]) == (keys, principals), number
        new = {r["eventID"] for r in sliced} - stored
        assert summary["loaded"] == len(new), number
        stored |= new
        if "--follow" in flags:
            follow = summary["follow"]
            assert follow["seen"] and follow["key"] == leaked
            assert {k["value"] for k in follow["keys"]} == keys and {p["value"] for p in follow["principals"]} == principals
    assert summary["loaded"] == 0 and len(stored) < len(incident.records)
    # Each pass brought records the one before could not have: the session's calls, then the created key's.
    session_calls = {r["eventID"] for r in incident.records if (r.get("userIdentity") or {}).get("accessKeyId") == facts.session_key_id}
    assert session_calls and set(facts.session_event_ids) <= session_calls <= stored

    # The blast radius of the leaked key now reaches the key its door's session created.
    report = run(cli, "blast-radius", leaked, "--incident", "slice", "--json")
    assert report.exit_code == 0, report.output
    assert facts.further_key.access_key_id in report.stdout and facts.session_key_id in report.stdout


def test_follow_says_what_it_derived_and_refuses_what_it_cannot_follow(cli: tuple[list[str], dict[str, str]]) -> None:
    incident = backdoor_role_incident()
    leaked = incident.facts.leaked_key.access_key_id
    endpoint = cli[1]["AWS_ENDPOINT_URL"]
    missing = run(cli, "load", TABLE, *WINDOW, "--follow", leaked)
    assert missing.exit_code == 2 and "signed no event of incident 'slice'" in missing.output
    seed_athena(endpoint, [r for r in incident.records if made_by(r, {leaked}, set())])
    assert run(cli, "load", TABLE, *WINDOW, "--key", leaked).exit_code == 0
    seed_athena(endpoint, [r for r in incident.records if made_by(r, {leaked}, {incident.facts.role_arn})])
    text = run(cli, "load", TABLE, *WINDOW, "--follow", leaked)
    assert text.exit_code == 0, text.output
    assert f"--follow {leaked}: 1 keys and 1 principals" in text.stderr and f"--principal {incident.facts.role_arn}" in text.stderr
    not_athena = run(cli, "load", "s3://some-bucket", "--start", "2026-01-07", "--follow", leaked)
    assert not_athena.exit_code == 2 and "--follow applies to athena targets only" in not_athena.output
    not_a_key = run(cli, "load", TABLE, *WINDOW, "--follow", "alice")
    assert not_a_key.exit_code == 2 and "is not an access key id" in not_a_key.output
    bad_arn = run(cli, "load", TABLE, *WINDOW, "--principal", "arn:aws:s3:::bucket")
    assert bad_arn.exit_code == 2 and "is not a principal ARN" in bad_arn.output


@pytest.mark.parametrize("flag", ["--principal", "--follow"])
def test_the_flags_are_in_the_help(flag: str) -> None:
    result = CliRunner().invoke(app, ["load", "--help"], env={"COLUMNS": "200"})
    assert flag in result.output
