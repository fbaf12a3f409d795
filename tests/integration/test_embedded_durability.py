"""The embedded store: a load is saved when it completes, and an interrupted load completes when run again."""

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

#: Loads in small batches and dies (no close, no save) after the second batch is written.
CRASHING_LOAD = """
import os, sys
from pathlib import Path
from keytrail.graph.backends import FalkorDBBackend
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource

home, logs = Path(sys.argv[1]), Path(sys.argv[2])
backend = FalkorDBBackend(home)
ingest = Ingest(backend, "crash", batch_size=50, rejects_path=home / "rejects.jsonl")
writes = 0
original = ingest.writer.write_rows
def write_then_maybe_die(rows):
    global writes
    original(rows)
    writes += 1
    if writes == 2:
        os._exit(9)
ingest.writer.write_rows = write_then_maybe_die
ingest.run(FileSource([logs]), [str(logs)])
"""


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


def test_an_interrupted_load_completes_when_run_again(tmp_path: Path) -> None:
    records = workshop_incident().records
    logs = tmp_path / "workshop.jsonl"
    write_jsonl(records, logs)
    home = tmp_path / "home"
    crashed = subprocess.run([sys.executable, "-c", CRASHING_LOAD, str(home), str(logs)], capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 9, crashed.stderr
    backend = FalkorDBBackend(home)
    try:
        partial = store_stats(backend)["events"]
        assert partial < len(records)
        again = Ingest(backend, "crash", rejects_path=tmp_path / "r.jsonl").run(FileSource([logs]), [str(logs)])
        assert again.balanced and again.loaded + again.duplicates == len(records)
        assert again.duplicates == partial
        assert store_stats(backend)["events"] == len(records)
    finally:
        backend.close()


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
