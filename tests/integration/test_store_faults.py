"""Neo4j stopped or restarted in the middle of a load: bounded retries, then one clear line and exit 3,
or the load completes by itself; either way, the same load run again ends as a clean load does.

The test runs its own Neo4j (``scripts/neo4j-local`` on free ports in a temporary home), because
it stops it. ``KEYTRAIL_NEO4J_RETRY_SECONDS`` shortens the driver's retries so the test is quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from keytrail.graph.backends import Neo4jBackend, Neo4jSettings
from keytrail.graph.runner import reset_store
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_jsonl

from ..support import free_port
from .snapshot import snapshot

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "neo4j-local"
HARNESS = Path(__file__).parent / "crash" / "stopped_load.py"

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("faulty-neo4j")
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEO4J_")}
    env.update(KEYTRAIL_NEO4J_HOME=str(home), NEO4J_BOLT_PORT=str(free_port()), NEO4J_HTTP_PORT=str(free_port()), KEYTRAIL_NEO4J_RETRY_SECONDS="5")
    started = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, started.stdout + started.stderr
    env["NEO4J_URI"] = f"bolt://127.0.0.1:{env['NEO4J_BOLT_PORT']}"
    try:
        yield env
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=300)


def _backend(env: dict[str, str]) -> Neo4jBackend:
    password = (Path(env["KEYTRAIL_NEO4J_HOME"]) / "run" / "password").read_text().strip()
    return Neo4jBackend(Neo4jSettings(env["NEO4J_URI"], "neo4j", password))


def _load(env: dict[str, str], logs: Path, way: str = "none", moment: int = 0) -> subprocess.CompletedProcess[str]:
    words = ["load", str(logs), "--incident", "faults", "--batch-size", "25"]
    return subprocess.run([sys.executable, str(HARNESS), way, str(moment), "--", *words], env=env, capture_output=True, text=True, timeout=900)


def _fresh(env: dict[str, str]) -> None:
    backend = _backend(env)
    try:
        reset_store(backend)
    finally:
        backend.close()


def _snapshot(env: dict[str, str]) -> object:
    backend = _backend(env)
    try:
        return snapshot(backend)
    finally:
        backend.close()


def test_neo4j_stopped_or_restarted_mid_load(server: dict[str, str], tmp_path: Path) -> None:
    logs = tmp_path / "workshop.jsonl"
    write_jsonl(workshop_incident().records, logs)
    clean = _load(server, logs)
    assert clean.returncode == 0, clean.stderr
    statements = int(clean.stderr.strip().splitlines()[-1])
    reference = _snapshot(server)

    # Stopped: the driver retries, then one line naming the store, exit 3, no traceback.
    _fresh(server)
    stopped = _load(server, logs, "neo4j-stop", statements // 2)
    assert stopped.returncode == 3, stopped.stdout + stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert f"Neo4j at {server['NEO4J_URI']} failed" in stopped.stderr and "scripts/neo4j-local status" in stopped.stderr
    started = subprocess.run(["bash", str(SCRIPT), "start"], env=server, capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, started.stdout
    again = _load(server, logs)
    assert again.returncode == 0, again.stderr
    assert _snapshot(server) == reference

    # Restarted within the retries: the load carries on by itself and completes.
    _fresh(server)
    restarted = _load(server, logs, "neo4j-restart", statements // 3)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert _snapshot(server) == reference
