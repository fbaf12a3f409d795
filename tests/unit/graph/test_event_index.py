"""The bulk load's EventIndex: every event taken is found again, from memory or from disk, and nothing else is."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from keytrail.graph.bulk import BulkError, BulkStore, CsvFiles, EventIndex
from keytrail.graph.queries import get_query


def test_events_are_found_before_and_after_they_move_to_disk(tmp_path: Path) -> None:
    index = EventIndex(tmp_path / "events.sqlite")
    first = [f"e-{n}" for n in range(1_203)]  # more than two lookup chunks
    for n, event_id in enumerate(first):
        index.add(event_id, "case", f"{n:064x}" if n % 7 else None)
    assert index.find([*first, "never"]) == {e: ("case", f"{n:064x}" if n % 7 else None) for n, e in enumerate(first)}
    index.settle()
    index.add("e-late", "case", "ab" * 32)
    asked = ["never", *reversed(first), "e-late", "e-1"]
    found = index.find(asked)
    assert set(found) == {*first, "e-late"}
    assert found["e-5"] == ("case", f"{5:064x}") and found["e-7"] == ("case", None) and found["e-late"] == ("case", "ab" * 32)
    assert "e-0" in index and "e-late" in index and "never" not in index and None not in index
    assert len(index) == len(first) + 1
    index.close()


def test_an_id_that_looks_like_sql_is_only_a_value(tmp_path: Path) -> None:
    index = EventIndex(tmp_path / "events.sqlite")
    hostile = ["') OR 1=1 --", "x'; DROP TABLE event; --", "", "\x00nul"]
    for event_id in hostile:
        index.add(event_id, "case", None)
    index.settle()
    assert index.find(["other", *hostile]) == {e: ("case", None) for e in hostile}
    assert index.find(["other"]) == {}


def test_a_unit_written_on_another_thread_is_found_on_this_one(tmp_path: Path) -> None:
    index = EventIndex(tmp_path / "events.sqlite")

    def unit() -> None:
        index.add("e-thread", "case", None)
        index.settle()

    worker = threading.Thread(target=unit)
    worker.start()
    worker.join()
    assert index.find(["e-thread"]) == {"e-thread": ("case", None)}


def test_an_event_sent_again_after_its_unit_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    store = BulkStore(CsvFiles(folder), "bolt://127.0.0.1:1")
    row = {"eventID": "e-1", "props": {"recordSha256": "00" * 32}, "incident": "case", "action": "iam:GetUser"}
    row |= {"eventSource": "iam.amazonaws.com", "eventName": "GetUser", "ip": None, "agent": None}
    statement = get_query("merge_events").body
    store.write_unit(lambda run: run(statement, {"rows": [row]}), holder="test")
    with pytest.raises(BulkError, match="sent twice"):
        store.write_unit(lambda run: run(statement, {"rows": [row]}), holder="test")
    store.close()
