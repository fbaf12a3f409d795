"""Issue 9, no silent skip: every file under a target is read, rejected whole, or skipped with a reason.

Each test builds its bad input in ``tmp_path`` and derives what must come out from
what it wrote: the records it put in, the lines it broke, the files it made.
"""

from __future__ import annotations

import bz2
import gzip
import json
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest

from keytrail.loaders import documents
from keytrail.loaders.documents import is_digest_path
from keytrail.loaders.files import FileSource, read_file
from keytrail.loaders.records import LoaderItem, Rejection, SkippedFile, SourceRecord


def record(event_id: str, **extra: Any) -> dict[str, Any]:
    base = {
        "eventVersion": "1.08",
        "eventID": event_id,
        "eventTime": "2026-01-07T02:25:18Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "GetCallerIdentity",
        "awsRegion": "us-east-1",
    }
    base.update(extra)
    return base


def log_file(*event_ids: str) -> bytes:
    """An S3 log file as CloudTrail writes it: one line, gzipped."""
    return gzip.compress(json.dumps({"Records": [record(e) for e in event_ids]}).encode())


def json_lines(event_ids: list[str]) -> str:
    return "".join(json.dumps(record(e)) + "\n" for e in event_ids)


def ids(items: list[LoaderItem]) -> list[str]:
    return [i.record["eventID"] for i in items if isinstance(i, SourceRecord)]


def skipped(items: list[LoaderItem]) -> dict[str, str]:
    return {i.origin: i.reason for i in items if isinstance(i, SkippedFile)}


def whole_rejections(items: list[LoaderItem]) -> dict[str, str]:
    return {i.origin: i.reason for i in items if isinstance(i, Rejection) and i.index is None}


def walk(*paths: Path) -> list[LoaderItem]:
    return list(FileSource(list(paths)))


def peak_bytes(action: Callable[[], object]) -> int:
    """The most memory Python held while ``action`` ran, above what it held before."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


# ---------------------------------------------------------------- digests


def test_digests_are_known_by_their_path_segment_and_their_shape_never_a_substring(tmp_path: Path) -> None:
    review = tmp_path / "CloudTrail-Digest-review" / "us-east-1"
    review.mkdir(parents=True)
    (review / "111122223333_CloudTrail_us-east-1_20260107T0225Z_abc.json.gz").write_bytes(log_file("r1", "r2"))
    (review / "notes-CloudTrail-Digest.json").write_text(json.dumps({"Records": [record("r3")]}))
    digest = {"awsAccountId": "111122223333", "digestStartTime": "2026-01-07T01:00:00Z", "digestEndTime": "2026-01-07T02:00:00Z", "logFiles": []}
    aws = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail-Digest" / "us-east-1"
    aws.mkdir(parents=True)
    (aws / "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20260107T020000Z.json.gz").write_bytes(gzip.compress(json.dumps(digest).encode()))
    (tmp_path / "copied-digest.json").write_text(json.dumps(digest))
    items = walk(tmp_path)
    assert sorted(ids(items)) == ["r1", "r2", "r3"]
    assert sorted(skipped(items).values()) == ["CloudTrail digest file"] * 2
    assert is_digest_path("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/01/07/x.json.gz")
    assert not is_digest_path("exports/CloudTrail-Digest-review/x.json.gz")
    assert not is_digest_path("exports/111122223333_CloudTrail-Digest_us-east-1.json.gz")


# ---------------------------------------------------------------- JSON lines


@pytest.mark.parametrize(
    "bad",
    [
        '{"eventID": "cut", "eventTi',  # truncated
        "garbage, not JSON",
        '{"eventID": "x",}',  # a trailing comma
    ],
)
def test_a_bad_first_line_costs_only_that_line(tmp_path: Path, bad: str) -> None:
    good = [f"g{i}" for i in range(5)]
    path = tmp_path / "export.jsonl"
    path.write_text(bad + "\n" + json_lines(good))
    items = list(read_file(path))
    assert ids(items) == good
    [rejection] = [i for i in items if isinstance(i, Rejection)]
    assert rejection.origin == str(path) and rejection.index == 0 and rejection.reason.startswith("line 1 is not JSON")


def test_a_line_that_is_not_cloudtrail_costs_one_record_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(json_lines(["a"]) + '{"hello": "world"}\n' + json_lines(["b"]))
    items = list(read_file(path))
    assert ids(items) == ["a", "b"]
    [rejection] = [i for i in items if isinstance(i, Rejection)]
    assert rejection.index == 1 and rejection.reason == "line 2: not a CloudTrail document: unexpected top-level keys (hello)"


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("shape", ["document", "lines"])
def test_byte_order_marks_and_utf16_are_decoded(tmp_path: Path, encoding: str, shape: str) -> None:
    """``utf-16`` and ``utf-32`` write a byte-order mark; ``utf-16-le``/``-be`` write none."""
    event_ids = ["é1", "中2", "x3"]
    text = json.dumps({"Records": [record(e) for e in event_ids]}, ensure_ascii=False) if shape == "document" else json_lines(event_ids)
    path = tmp_path / f"{shape}.{encoding}.json"
    path.write_bytes(text.encode(encoding))
    gz = tmp_path / f"{shape}.{encoding}.json.gz"
    gz.write_bytes(gzip.compress(text.encode(encoding)))
    assert ids(list(read_file(path))) == event_ids
    assert ids(list(read_file(gz))) == event_ids


def test_a_latin1_record_in_json_lines_is_rejected_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    latin = json.dumps(record("bad", userAgent="café"), ensure_ascii=False).encode("latin-1")
    path.write_bytes(latin + b"\n" + json_lines(["g1", "g2"]).encode() + latin + b"\n")
    items = list(read_file(path))
    assert ids(items) == ["g1", "g2"]
    rejections = [i for i in items if isinstance(i, Rejection)]
    assert [(r.index, r.reason.split(":")[0]) for r in rejections] == [(0, "line 1"), (3, "line 4")]
    assert all("not valid UTF-8 (byte 0xe9" in r.reason for r in rejections)
    assert rejections[0].raw["userAgent"] == "caf\\xe9"
    orjson.dumps([r.raw for r in rejections])  # what the rejects file writes


def test_a_latin1_record_in_a_log_file_is_rejected_and_the_others_load(tmp_path: Path) -> None:
    doc = {"Records": [record("g1"), record("bad", userIdentity={"userName": "josé"}), record("g2")]}
    path = tmp_path / "latin1.json.gz"
    path.write_bytes(gzip.compress(json.dumps(doc, ensure_ascii=False).encode("latin-1")))
    items = list(read_file(path))
    assert ids(items) == ["g1", "g2"]
    [rejection] = [i for i in items if isinstance(i, Rejection)]
    assert rejection.index == 1 and "not valid UTF-8 (byte 0xe9" in rejection.reason
    assert rejection.raw["userIdentity"]["userName"] == "jos\\xe9"


# ---------------------------------------------------------------- bounded decompression and documents


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Limits a test can cross in milliseconds; the defaults are documented in documents.py."""
    monkeypatch.setattr(documents, "EXPANSION_FLOOR_BYTES", 2**20, raising=False)
    monkeypatch.setattr(documents, "MAX_EXPANSION_RATIO", 100, raising=False)


ZEROS = 100 * 2**20


@pytest.mark.parametrize(
    ("name", "pack"),
    [
        ("bomb.json.gz", lambda data: gzip.compress(data, 9)),
        ("bomb.json.bz2", bz2.compress),
    ],
)
def test_a_decompression_bomb_is_rejected_with_flat_memory(tmp_path: Path, low_limits: None, name: str, pack: Callable[[bytes], bytes]) -> None:
    path = tmp_path / name
    path.write_bytes(pack(bytes(ZEROS)))
    assert path.stat().st_size * 100 < ZEROS  # a bomb: it expands more than the ratio allows
    items: list[LoaderItem] = []
    peak = peak_bytes(lambda: items.extend(read_file(path)))
    [rejection] = items
    assert isinstance(rejection, Rejection) and rejection.index is None
    assert rejection.origin.startswith(str(path)) and rejection.reason.startswith("decompression bomb")
    assert peak < 16 * 2**20, f"{peak:,} bytes held reading a {ZEROS:,}-byte bomb"


def test_a_bomb_past_the_floor_keeps_the_records_before_it(tmp_path: Path, low_limits: None) -> None:
    good = [f"g{i}" for i in range(100)]
    path = tmp_path / "export.jsonl.gz"
    path.write_bytes(gzip.compress(json_lines(good).encode() + bytes(ZEROS)))
    items = list(read_file(path))
    assert ids(items) == good
    assert whole_rejections(items)[str(path)].startswith("decompression bomb")


def test_the_decompressed_total_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_DECOMPRESSED_BYTES", 64 * 2**10, raising=False)
    lines = json_lines([f"e{i}" for i in range(2000)]).encode()
    path = tmp_path / "export.jsonl.gz"
    path.write_bytes(gzip.compress(lines))
    items = list(read_file(path))
    assert 0 < len(ids(items)) < 2000
    assert "decompresses to more than 64 KiB" in whole_rejections(items)[str(path)]


def test_a_document_past_the_size_limit_is_rejected_and_never_held_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 2**20, raising=False)
    event_ids = [f"e{i}" for i in range(40_000)]
    pretty = tmp_path / "big.json"
    pretty.write_text(json.dumps({"Records": [record(e) for e in event_ids]}, indent=1))
    one_line = tmp_path / "big-one-line.json"
    one_line.write_text(json.dumps({"Records": [record(e) for e in event_ids]}))
    assert pretty.stat().st_size > 4 * 2**20 and one_line.stat().st_size > 4 * 2**20
    for path in (pretty, one_line):
        items: list[LoaderItem] = []
        peak = peak_bytes(partial(items.extend, read_file(path)))
        assert [type(i) for i in items] == [Rejection]
        assert whole_rejections(items)[str(path)].startswith("a single JSON document larger than 1 MiB")
        assert peak < 3 * 2**20, f"{peak:,} bytes held for {path.stat().st_size:,}"


def test_a_json_line_past_the_size_limit_costs_that_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 2**20, raising=False)
    path = tmp_path / "export.jsonl"
    huge = json.dumps(record("huge", userAgent="x" * (4 * 2**20)))
    path.write_text(json_lines(["a"]) + huge + "\n" + json_lines(["b"]))
    items = list(read_file(path))
    assert ids(items) == ["a", "b"]
    [rejection] = [i for i in items if isinstance(i, Rejection)]
    assert rejection.index == 1 and rejection.reason.startswith("line 2 is longer than 1 MiB")
