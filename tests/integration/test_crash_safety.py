"""A load stopped in any way, at any moment, then run again, leaves the store exactly as a clean load does.

Each way of stopping is tried at 20 moments spread over a whole load's statements (a different
20 for each way): SIGINT, SIGTERM and SIGHUP (a clean stop between batches, exit 128 + the
signal), SIGKILL, an exception raised inside a batch, and, on the embedded store, its server
killed. The stop lands at an exact statement because ``crash/stopped_load.py`` sends the signal
to its own process from inside the store call. Then the same ``keytrail load`` runs again, and
the store's snapshot (every node and relationship with its properties) must equal a clean load's.

``falkordb-warm`` is the embedded store with its server kept between commands (an idle time):
after each stop, what the next command reads (through the server it finds, or the fresh one it
starts instead of a dirty one) must be what the file holds, and nothing of the stopped load when
it did not stop cleanly; each way at 5 moments.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.graph.backends import FalkorDBBackend, Neo4jBackend, Neo4jSettings, stop_embedded_server
from keytrail.graph.runner import reset_store
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_jsonl

from .snapshot import snapshot

HARNESS = Path(__file__).parent / "crash" / "stopped_load.py"
BATCH = "25"
MOMENTS = 20
#: Way → the exit status the stopped load must end with. ``server`` (the embedded store's server
#: killed) is the embedded store's alone; Neo4j stopping mid-load is in test_store_faults.
WAYS = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129, "SIGKILL": -9, "exception": 1, "server": 3}
BOTH_STORES = [way for way in WAYS if way != "server"]
#: With a warm server, each way at fewer moments: each moment also reads the store back through the server and cold.
WARM_MOMENTS = 5
WARM = "600"
#: The ways that stop a load without saving anything of it (each run starts from an empty store).
UNSAVED = ("SIGKILL", "exception", "server")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash-logs") / "workshop.jsonl"
    write_jsonl(workshop_incident().records, path)
    return path


class Store:
    """One store kind, emptied for each run, reached by the CLI through its arguments and environment."""

    def __init__(self, kind: str, root: Path, neo4j: Neo4jSettings | None, backend: Neo4jBackend | None) -> None:
        self.kind, self.root, self.neo4j, self.neo4j_backend = kind, root, neo4j, backend
        self.runs = 0

    def fresh(self) -> list[str]:
        """Global CLI options for an empty store."""
        self.runs += 1
        if self.neo4j_backend is not None:
            reset_store(self.neo4j_backend)
            return []
        return ["--home", str(self.home)]

    @property
    def home(self) -> Path:
        return self.root / f"home-{self.runs}"

    def empty(self) -> dict[str, Any]:
        """The snapshot of a store nothing was ever saved to."""
        backend = FalkorDBBackend(self.root / "never-written", idle_seconds=0)
        try:
            return snapshot(backend)
        finally:
            backend.close()

    @property
    def warm(self) -> bool:
        return self.kind == "falkordb-warm"

    def store_env(self) -> dict[str, str | None]:
        """The variables that choose the store (None: unset, so that the embedded store is used)."""
        if self.neo4j is None:
            return {"NEO4J_URI": None, "NEO4J_USERNAME": None, "NEO4J_PASSWORD": None, "KEYTRAIL_STORE_IDLE_SECONDS": WARM if self.warm else "0"}
        return {"NEO4J_URI": self.neo4j.uri, "NEO4J_USERNAME": self.neo4j.username or "neo4j", "NEO4J_PASSWORD": self.neo4j.password or ""}

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key, value in self.store_env().items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def snapshot(self) -> dict[str, Any]:
        """What the next command reads. With a warm server: through it, then (it stopped) from the file, which must agree."""
        if self.neo4j_backend is not None:
            return snapshot(self.neo4j_backend)
        backend = FalkorDBBackend(self.home, idle_seconds=float(WARM) if self.warm else 0)
        try:
            seen = snapshot(backend)
        finally:
            backend.close()
        if self.warm:
            assert stop_embedded_server(self.home) is not None, "the warm server did not stay"
            cold = FalkorDBBackend(self.home, idle_seconds=0)
            try:
                assert snapshot(cold) == seen, "the warm server's memory differs from the store file"
            finally:
                cold.close()
        return seen


@pytest.fixture(scope="module", params=["falkordb", "falkordb-warm", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("crash-stores")
    if request.param == "neo4j":
        settings: Neo4jSettings = request.getfixturevalue("neo4j_settings")
        yield Store("neo4j", root, settings, request.getfixturevalue("neo4j_backend"))
    else:
        yield Store(request.param, root, None, None)


def _load_words(logs: Path) -> list[str]:
    return ["load", str(logs), "--incident", "crash", "--batch-size", BATCH]


def _stopped(store: Store, logs: Path, way: str, moment: int) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(HARNESS), way, str(moment), "--", *store.fresh(), *_load_words(logs)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=store.env())


def _servers_of(home: Path) -> list[int]:
    """redis-server processes serving this store (the server works in the store's folder)."""
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == "redis-server" and Path(process.cwd()) == home:
                found.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _clean(store: Store, logs: Path) -> tuple[dict[str, Any], int]:
    """A clean load's snapshot, and how many statements it sent to the store."""
    counted = _stopped(store, logs, "none", 0)
    assert counted.returncode == 0, counted.stderr
    statements = int(counted.stderr.strip().splitlines()[-1])
    assert statements > 100  # many batches, so that most moments fall inside one
    return store.snapshot(), statements


@pytest.fixture(scope="module")
def clean(store: Store, logs: Path) -> tuple[dict[str, Any], int]:
    return _clean(store, logs)


@pytest.mark.parametrize("way", BOTH_STORES)
def test_a_stopped_load_run_again_equals_a_clean_load(store: Store, logs: Path, clean: tuple[dict[str, Any], int], way: str) -> None:
    _stop_and_run_again(store, logs, clean, way)


@pytest.mark.parametrize("kind", ["falkordb", "falkordb-warm"])
def test_the_embedded_server_killed_mid_load_then_run_again_equals_a_clean_load(tmp_path: Path, logs: Path, kind: str) -> None:
    store = Store(kind, tmp_path, None, None)
    _stop_and_run_again(store, logs, _clean(store, logs), "server")
    assert "the embedded store's server (redis-server with FalkorDB) stopped during the command" in _stopped(store, logs, "server", 50).stderr


def _stop_and_run_again(store: Store, logs: Path, clean: tuple[dict[str, Any], int], way: str) -> None:
    reference, statements = clean
    index = list(WAYS).index(way)
    count = WARM_MOMENTS if store.warm else MOMENTS
    spread = count * len(WAYS)
    moments = sorted({1 + (statements - 1) * (i * len(WAYS) + index) // (spread - 1) for i in range(count)})
    assert len(moments) == count
    for moment in moments:
        stopped = _stopped(store, logs, way, moment)
        assert stopped.returncode == WAYS[way], f"{way} at statement {moment}: {stopped.stdout}{stopped.stderr}"
        assert "Traceback" not in stopped.stderr or way == "exception", stopped.stderr
        if store.kind == "falkordb" and way != "SIGKILL":
            assert _servers_of(store.home) == [], f"{way} at statement {moment} left the store's server running"
        if way.startswith("SIG") and way != "SIGKILL":
            assert f"stopped by {way}" in stopped.stderr or f"{way} arrived after every record was read" in stopped.stderr
        if store.warm:
            # The next command reads the file's content whatever server it finds: none of this load, unless it stopped cleanly.
            seen = store.snapshot()
            if way in UNSAVED:
                assert seen == store.empty(), f"{way} at statement {moment}: a later command saw writes that were never saved"
        again = CliRunner().invoke(app, [*([] if store.kind == "neo4j" else ["--home", str(store.home)]), *_load_words(logs)], env=store.store_env())
        assert again.exit_code == 0, again.output
        assert store.snapshot() == reference, f"{way} at statement {moment}: the store differs from a clean load's"
        if store.kind.startswith("falkordb"):
            assert _servers_of(store.home) == []
