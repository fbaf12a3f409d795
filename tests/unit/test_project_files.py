"""Project files that must agree with each other."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_docker_compose_and_testcontainers_pin_the_same_neo4j() -> None:
    compose = (REPO / "docker-compose.yml").read_text()
    conftest = (REPO / "tests" / "conftest.py").read_text()
    pom = (REPO / "scripts" / "neo4j" / "pom.xml").read_text()
    [tag] = re.findall(r"image:\s*neo4j:(5\.26\.\d+)-community", compose)
    assert f'NEO4J_IMAGE = "neo4j:{tag}-community"' in conftest
    assert f"<neo4j.version>{tag}</neo4j.version>" in pom or f"<version>{tag}</version>" in pom


def test_compose_has_no_default_password_and_a_healthcheck() -> None:
    compose = (REPO / "docker-compose.yml").read_text()
    assert "${NEO4J_PASSWORD:?" in compose
    assert "healthcheck:" in compose and "cypher-shell" in compose
    assert "127.0.0.1:" in compose
