"""Every input shape the file loader accepts, and every kind of bad input it must report."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from keytrail.loaders.files import FileSource, read_file
from keytrail.loaders.records import Rejection, SkippedFile, SourceRecord

from .items import without_digests


def record(event_id: str, name: str = "GetCallerIdentity", **extra: Any) -> dict[str, Any]:
    base = {
        "eventVersion": "1.08",
        "eventID": event_id,
        "eventTime": "2026-01-07T02:25:18Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
    }
    base.update(extra)
    return base


def items(path: Path) -> list[Any]:
    return without_digests(read_file(path))


def records_of(path: Path) -> list[dict[str, Any]]:
    return [i.record for i in items(path) if isinstance(i, SourceRecord)]


def test_s3_log_file_gzipped(tmp_path: Path) -> None:
    path = tmp_path / "111122223333_CloudTrail_us-east-1_20260107T0225Z_abc.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": [record("a"), record("b")]}).encode()))
    found = items(path)
    assert [(i.index, i.record["eventID"]) for i in found] == [(0, "a"), (1, "b")]
    assert all(i.origin == str(path) for i in found)


def test_pretty_printed_array_and_single_record(tmp_path: Path) -> None:
    array = tmp_path / "array.json"
    array.write_text(json.dumps([record("a"), record("b")], indent=2))
    single = tmp_path / "single.json"
    single.write_text(json.dumps(record("c"), indent=2))
    assert [r["eventID"] for r in records_of(array)] == ["a", "b"]
    assert [r["eventID"] for r in records_of(single)] == ["c"]


def test_json_lines_including_eventbridge(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    bridge = {"version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam", "detail": record("b")}
    path.write_text(json.dumps(record("a")) + "\n\n" + json.dumps(bridge) + "\n")
    assert [r["eventID"] for r in records_of(path)] == ["a", "b"]


def test_lookup_events_output(tmp_path: Path) -> None:
    path = tmp_path / "lookup.json"
    events = [
        {"EventId": "a", "EventName": "GetCallerIdentity", "CloudTrailEvent": json.dumps(record("a"))},
        {"EventId": "b", "EventName": "X", "CloudTrailEvent": "{not json"},
    ]
    path.write_text(json.dumps({"Events": events}, indent=1))
    found = items(path)
    assert isinstance(found[0], SourceRecord) and found[0].record["eventID"] == "a"
    assert isinstance(found[1], Rejection) and found[1].index == 1 and "not JSON" in found[1].reason


def test_digest_and_empty_files_are_skipped(tmp_path: Path) -> None:
    digest = tmp_path / "AWSLogs" / "1" / "CloudTrail-Digest" / "d.json.gz"
    digest.parent.mkdir(parents=True)
    digest.write_bytes(gzip.compress(b'{"digestStartTime": "x", "logFiles": []}'))
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    assert all(isinstance(i, SkippedFile) for i in items(digest) + items(empty))


def test_zip_member_holding_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner.json", json.dumps(record("a")) + "\n" + json.dumps(record("b")) + "\n")
    path.write_bytes(buffer.getvalue())
    found = items(path)
    assert [i.record["eventID"] for i in found if isinstance(i, SourceRecord)] == ["a", "b"]
    assert found[0].origin == f"{path}!inner.json"


def test_not_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text("this is not json\nat all\n")
    [rejection] = items(path)
    assert isinstance(rejection, Rejection) and rejection.index is None
    assert rejection.origin == str(path) and "not JSON" in rejection.reason


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    lines = "".join(json.dumps(record(f"e{i}")) + "\n" for i in range(2000)).encode()
    path = tmp_path / "cut.jsonl.gz"
    whole = gzip.compress(lines)
    path.write_bytes(whole[: len(whole) // 2])
    found = items(path)
    loaded = [i for i in found if isinstance(i, SourceRecord)]
    assert 0 < len(loaded) < 2000
    assert isinstance(found[-1], Rejection) and found[-1].index is None
    assert "truncated" in found[-1].reason and str(path) == found[-1].origin


def test_truncated_gzip_document_is_rejected_whole(tmp_path: Path) -> None:
    whole = gzip.compress(json.dumps({"Records": [record("a")]}, indent=2).encode())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(whole[:-12])
    [rejection] = items(path)
    assert isinstance(rejection, Rejection) and "truncated" in rejection.reason


def test_wrong_shapes(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"Records": {"eventID": "a"}}))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "world"}))
    scalar = tmp_path / "scalar.json"
    scalar.write_text("42")
    element = tmp_path / "element.json"
    element.write_text(json.dumps({"Records": [record("a"), "oops"]}))
    assert "must be a list" in items(wrong)[0].reason
    assert "unexpected top-level keys (hello)" in items(other)[0].reason
    assert "top level is a int" in items(scalar)[0].reason
    found = items(element)
    assert isinstance(found[1], Rejection) and found[1].index == 1 and found[1].raw == "oops"


def test_directory_walk_is_recursive_sorted_and_reports_other_files(tmp_path: Path) -> None:
    (tmp_path / "b" / "c").mkdir(parents=True)
    (tmp_path / "b" / "c" / "2.json").write_text(json.dumps(record("2")))
    (tmp_path / "a.json").write_text(json.dumps(record("1")))
    (tmp_path / "README.md").write_text("# not a log")
    (tmp_path / ".hidden.json").write_text("{}")
    source = FileSource([tmp_path])
    assert [p.name for p in source.files()] == [".hidden.json", "README.md", "a.json", "2.json"]
    found = list(source)
    assert [i.record["eventID"] for i in found if isinstance(i, SourceRecord)] == ["1", "2"]
    assert {i.origin: i.reason for i in found if isinstance(i, SkippedFile)} == {
        str(tmp_path / ".hidden.json"): "not CloudTrail: unexpected top-level keys ()",
        str(tmp_path / "README.md"): "not CloudTrail: not JSON",
    }


def test_a_pretty_printed_document_is_still_one_document(tmp_path: Path) -> None:
    path = tmp_path / "lookup.json"
    events = [{"EventId": f"p{i}", "CloudTrailEvent": json.dumps(record(f"p{i}"))} for i in range(3)]
    path.write_text(json.dumps({"Events": events}, indent=4))
    single = tmp_path / "array.json"
    single.write_text("[\n" + json.dumps(record("s1")) + "\n]\n")
    assert [r["eventID"] for r in records_of(path)] == ["p0", "p1", "p2"]
    assert [type(i) for i in items(single)] == [SourceRecord]


def test_a_file_named_like_a_log_that_is_not_json_is_still_unreadable(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("not json\n")
    [rejection] = without_digests(FileSource([tmp_path]))
    assert isinstance(rejection, Rejection) and rejection.index is None
    assert rejection.origin == str(tmp_path / "a.json") and rejection.reason.startswith("not JSON")
