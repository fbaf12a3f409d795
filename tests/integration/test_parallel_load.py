"""A load whose records are prepared by worker processes stores exactly what a load without them stores.

``keytrail.prepare`` moves the check, the kept text and the rows of each record into worker
processes; which records are duplicates, which conflict and what is written stay decided in the
load's own process, in the order read. The records here are the scenarios, synthetic S3 log
files, the real corpus, duplicates, a conflicting copy and a bad record; chunks are made small
and odd-sized so that they straddle files and batches, and the workers start part-way through.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import keytrail.ingest
from keytrail.cli.main import app
from keytrail.graph.backends import Backend
from keytrail.graph.runner import reset_store
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.loaders.records import LoaderItem, SourceRecord
from keytrail.prepare import PreparePool, WorkerFailed, prepare
from keytrail.sample import session_token_incident, synthetic_records, workshop_incident
from keytrail.sample.layout import write_jsonl, write_s3_layout

from .snapshot import accounting, load_afresh, snapshot

CORPUS_PARTS = ("invictus-aws-dataset", "stratus-red-team", "flaws2")


@pytest.fixture(scope="module")
def records_folder(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    root = tmp_path_factory.mktemp("parallel-records")
    write_jsonl(workshop_incident().records, root / "workshop.jsonl")
    write_jsonl(session_token_incident().records, root / "session-token.jsonl")
    write_s3_layout(synthetic_records(3_000, seed=11), root / "synthetic")
    first = workshop_incident().records
    # Duplicates, one record with other content under its eventID (a conflict), one without an eventID (a rejection).
    changed = dict(first[1], errorMessage="not what was read first")
    bad = {k: v for k, v in first[2].items() if k != "eventID"}
    write_jsonl([*first[:5], changed, bad], root / "zz-again.jsonl")
    for part in CORPUS_PARTS:
        subprocess.run(["cp", "-r", str(corpus / part), str(root / part)], check=True)
    # Read last, after every record: a file that is not CloudTrail (skipped, with the reason).
    (root / "zzz-readme.md").write_text("not a log\n")
    return root


class _CountedPool(PreparePool):
    chunks = 0

    def submit(self, chunk: Any) -> None:
        type(self).chunks += 1
        super().submit(chunk)


def test_worker_processes_store_the_same_graph(backend: Backend, records_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serial = load_afresh(backend, [records_folder], "parallel", tmp_path / "serial-rejects.jsonl", batch_size=211)
    serial_graph = snapshot(backend)
    # Duplicates, a conflict and a bad record (the conflict is rejected too).
    assert (serial.duplicates, serial.conflicts, serial.rejected) == (5, 1, 2)

    monkeypatch.setattr(keytrail.ingest, "CHUNK_RECORDS", 37)
    monkeypatch.setattr(keytrail.ingest, "PreparePool", _CountedPool)
    _CountedPool.chunks = 0
    pooled = load_afresh(backend, [records_folder], "parallel", tmp_path / "pooled-rejects.jsonl", batch_size=211, processes=2, parallel_from=500)
    # The first 500 records were taken here, the rest handed over in chunks of 37.
    assert _CountedPool.chunks >= (serial.read - 500) // 37
    assert accounting(pooled) == accounting(serial)
    assert (tmp_path / "pooled-rejects.jsonl").read_text() == (tmp_path / "serial-rejects.jsonl").read_text()
    assert snapshot(backend) == serial_graph


def _dies_on_the_way(items: Iterator[LoaderItem], ingest: Ingest, after: int) -> Iterator[LoaderItem]:
    """The items, with the first worker process killed once ``after`` records were given."""
    given = 0
    for item in items:
        yield item
        given += isinstance(item, SourceRecord)
        if given == after:
            pool = ingest._pool
            assert pool is not None, "the workers should have started by now"
            pool._workers[0].process.kill()


def test_a_worker_that_dies_stops_the_load_with_a_clear_error(
    falkordb_backend: Backend, records_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset_store(falkordb_backend)
    monkeypatch.setattr(keytrail.ingest, "CHUNK_RECORDS", 100)
    ingest = Ingest(falkordb_backend, "parallel", batch_size=211, rejects_path=tmp_path / "rejects.jsonl", processes=1, parallel_from=0)
    with pytest.raises(WorkerFailed, match=r"stopped answering: it was killed by signal 9; load again with --processes 0"):
        ingest.run(_dies_on_the_way(iter(FileSource([records_folder])), ingest, after=1_500), [str(records_folder)])
    # Whole batches were stored: those counted, and at most the one in flight when the error came (a later load counts it as duplicates).
    stored = falkordb_backend.read("MATCH (e:Event) RETURN count(e) AS n", {})[0]["n"]
    assert 0 < ingest.summary.loaded <= stored <= ingest.summary.loaded + 211
    assert ingest._pool is not None and all(w.process.poll() is not None for w in ingest._pool._workers), "no worker outlives the load"


def test_a_worker_ignores_the_terminal_s_interrupt_and_a_stop_stores_what_was_read(
    falkordb_backend: Backend, records_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset_store(falkordb_backend)
    monkeypatch.setattr(keytrail.ingest, "CHUNK_RECORDS", 100)
    ingest = Ingest(falkordb_backend, "parallel", batch_size=211, rejects_path=tmp_path / "rejects.jsonl", processes=1, parallel_from=0)
    read = 0

    def items() -> Iterator[LoaderItem]:
        nonlocal read
        for item in FileSource([records_folder]):
            read += isinstance(item, SourceRecord)
            if read == 250 and isinstance(item, SourceRecord):
                # Ctrl-C reaches the whole process group: the worker must not die of it.
                assert ingest._pool is not None
                os.kill(ingest._pool._workers[0].process.pid, signal.SIGINT)
            if read == 1_234 and isinstance(item, SourceRecord):
                ingest.request_stop("SIGINT")  # as the first signal does: the load stops after this record
            yield item

    summary = ingest.run(items(), [str(records_folder)])
    assert summary.stopped_by == "SIGINT"
    # Every record read before the stop was taken, though most were still with the worker.
    assert summary.read == 1_234 and summary.balanced
    stored = falkordb_backend.read("MATCH (e:Event) RETURN count(e) AS n", {})[0]["n"]
    assert stored == summary.loaded > 1_000


def test_an_uninterpretable_record_gets_the_same_reason_in_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    record = workshop_incident().records[0]
    assert prepare(record, "f", 0, "i", "r").rows, "a good record has rows"

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("no")

    monkeypatch.setattr("keytrail.prepare.event_rows", broken)
    made = prepare(record, "f", 0, "i", "r")
    assert made.rows is None and made.unreadable == "cannot interpret record: ValueError('no')"
    assert made.kept is not None and made.kept.sha256


def test_the_cli_loads_with_and_without_worker_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "logs"
    write_s3_layout(synthetic_records(keytrail.ingest.PARALLEL_FROM + 2_000, seed=12), root)
    monkeypatch.setattr(keytrail.ingest, "PreparePool", _CountedPool)
    answers = []
    chunks = []
    for processes in ("0", "1"):
        _CountedPool.chunks = 0
        home = tmp_path / f"home-{processes}"
        loaded = CliRunner().invoke(app, ["--home", str(home), "load", str(root), "--processes", processes, "--json"], env={"NEO4J_URI": ""})
        assert loaded.exit_code == 0, loaded.output
        summary = json.loads(loaded.stdout)
        stats = CliRunner().invoke(app, ["--home", str(home), "stats", "--json"], env={"NEO4J_URI": ""})
        assert stats.exit_code == 0, stats.output
        counts = {k: v for k, v in json.loads(stats.stdout).items() if k != "location"}
        answers.append((accounting(summary), counts))
        chunks.append(_CountedPool.chunks)
    # Without workers, nothing is handed over; with one, what is read after the first PARALLEL_FROM records is.
    assert chunks == [0, -(-2_000 // keytrail.ingest.CHUNK_RECORDS)]
    assert answers[0] == answers[1]
    assert answers[0][0]["loaded"] > keytrail.ingest.PARALLEL_FROM and answers[0][0]["balanced"]
