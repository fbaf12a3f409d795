"""The embedded store: a load is saved when it completes, one process owns it, it is owner-only and only writes rewrite it.

Stopped loads, and how they complete when run again, are test_crash_safety's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from keytrail.graph.backends import FalkorDBBackend
from keytrail.graph.runner import store_stats
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_jsonl


def test_a_completed_load_survives_reopening(tmp_path: Path) -> None:
    logs = tmp_path / "workshop.jsonl"
    write_jsonl(workshop_incident().records, logs)
    first = FalkorDBBackend(tmp_path / "home")
    Ingest(first, "w", rejects_path=tmp_path / "r.jsonl").run(FileSource([logs]), [str(logs)])
    first.close()
    reopened = FalkorDBBackend(tmp_path / "home")
    try:
        assert store_stats(reopened)["events"] == len(workshop_incident().records)
    finally:
        reopened.close()


def test_one_process_owns_a_store_at_a_time(tmp_path: Path) -> None:
    import pytest

    from keytrail.graph.backends import BackendError

    owner = FalkorDBBackend(tmp_path / "home")
    try:
        held = subprocess.run(
            [
                sys.executable,
                "-c",
                "from pathlib import Path; from keytrail.graph.backends import FalkorDBBackend; FalkorDBBackend(Path(__import__('sys').argv[1]))",
                str(tmp_path / "home"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert held.returncode != 0 and "in use by keytrail process" in held.stderr
        with pytest.raises(BackendError, match="in use"):
            FalkorDBBackend(tmp_path / "home")
    finally:
        owner.close()
    FalkorDBBackend(tmp_path / "home").close()


def _modes(home: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mode & 0o777 for path in [home, *home.iterdir()]}


def test_the_store_is_owner_only_and_read_only_commands_leave_its_file_alone(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from keytrail.cli.main import app

    logs = tmp_path / "workshop.jsonl"
    write_jsonl(workshop_incident().records, logs)
    home = tmp_path / "home"
    env = {"NEO4J_URI": None}
    loaded = CliRunner().invoke(app, ["--home", str(home), "load", str(logs), "-i", "w"], env=env)
    assert loaded.exit_code == 0, loaded.output
    modes = _modes(home)
    assert modes.pop(home.name) == 0o700
    assert "keytrail.db" in modes and set(modes.values()) == {0o600}, modes
    store = home / "keytrail.db"
    before = (store.stat().st_mtime_ns, store.read_bytes())
    key = workshop_incident().facts.leaked_key.access_key_id
    for words in (["stats"], ["query", "key-first-use", "--param", f"key={key}"], ["blast-radius", key], ["findings"]):
        result = CliRunner().invoke(app, ["--home", str(home), *words], env=env)
        assert result.exit_code == 0, (words, result.output)
        assert (store.stat().st_mtime_ns, store.read_bytes()) == before, f"{words} rewrote the store"
    # A home made by an older keytrail, or by hand, is made owner-only when the store opens.
    home.chmod(0o755)
    store.chmod(0o644)
    CliRunner().invoke(app, ["--home", str(home), "stats"], env=env)
    assert _modes(home)[home.name] == 0o700 and _modes(home)["keytrail.db"] == 0o600


def test_the_embedded_server_never_saves_by_itself(tmp_path: Path) -> None:
    """Its autosave would snapshot between two statements of a batch: only flush() may write the file."""
    backend = FalkorDBBackend(tmp_path / "home")
    try:
        assert backend._server.client.config_get("save") == {"save": ""}
        assert backend._server.client.config_get("appendonly") == {"appendonly": "no"}
    finally:
        backend.close()
