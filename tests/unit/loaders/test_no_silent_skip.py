"""Issue 9, no silent skip: every file under a target is read, rejected whole, or skipped with a reason.

Each test builds its bad input in ``tmp_path`` and derives what must come out from
what it wrote: the records it put in, the lines it broke, the files it made.
"""

from __future__ import annotations

import bz2
import contextlib
import errno
import gzip
import io
import json
import os
import socket
import stat
import threading
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest

from keytrail.loaders import documents
from keytrail.loaders.documents import is_digest_path
from keytrail.loaders.files import FileSource, read_file
from keytrail.loaders.records import InputDigest, LoaderItem, Rejection, SkippedFile, SourceRecord

from .items import without_digests


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
    return without_digests(FileSource(list(paths)))


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


# ---------------------------------------------------------------- symbolic links and directories


def test_a_symlinked_directory_is_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "logs"
    elsewhere.mkdir(parents=True)
    (elsewhere / "a.json.gz").write_bytes(log_file("l1", "l2", "l3"))
    target = tmp_path / "target"
    target.mkdir()
    (target / "logs").symlink_to(elsewhere, target_is_directory=True)
    items = walk(target)
    assert ids(items) == ["l1", "l2", "l3"]
    assert {i.origin for i in items} == {str(target / "logs" / "a.json.gz")}


def test_a_directory_and_a_file_reached_twice_are_read_once(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.json").write_text(json.dumps(record("d1")))
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)  # "alias" sorts first: walked through the link
    (tmp_path / "b.json").write_text(json.dumps(record("f1")))
    (tmp_path / "b-again.json").symlink_to(tmp_path / "b.json")
    items = walk(tmp_path, tmp_path / "b.json")  # b.json named again on the command line: still read once
    assert sorted(ids(items)) == ["d1", "f1"]
    again = f"the same file as {tmp_path / 'b-again.json'}, read once"
    assert [(i.origin, i.reason) for i in items if isinstance(i, SkippedFile)] == [
        (str(tmp_path / "b.json"), again),
        (str(tmp_path / "real"), f"the same directory as {tmp_path / 'alias'}, read once"),
        (str(tmp_path / "b.json"), again),
    ]


def test_symlink_loops_are_reported_and_not_followed(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text(json.dumps(record("x")))
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "ping").symlink_to(tmp_path / "pong")
    (tmp_path / "pong").symlink_to(tmp_path / "ping")
    items = walk(tmp_path)
    assert ids(items) == ["x"]
    reasons = skipped(items)
    assert reasons[str(tmp_path / "sub" / "up")] == f"symlink loop: leads back to {tmp_path}"
    assert reasons[str(tmp_path / "ping")].startswith("symlink loop") and reasons[str(tmp_path / "pong")].startswith("symlink loop")


def test_a_dangling_symlink_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "gone.json").symlink_to(tmp_path / "nowhere.json")
    assert whole_rejections(walk(tmp_path)) == {str(tmp_path / "gone.json"): f"dangling symlink: {tmp_path / 'nowhere.json'} does not exist"}


def test_an_unreadable_subdirectory_is_rejected_and_the_rest_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "hidden-from-us.json").write_text(json.dumps(record("never")))
    (tmp_path / "open.json").write_text(json.dumps(record("o1")))
    locked.chmod(0)
    if os.geteuid() == 0:
        # root reads a mode-000 directory anyway: make listing it fail as it does for anyone else.
        real_scandir = os.scandir

        def scandir(path: Any) -> Any:
            if Path(path) == locked:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        items = walk(tmp_path)
    finally:
        locked.chmod(stat.S_IRWXU)
    assert ids(items) == ["o1"]
    assert whole_rejections(items) == {str(locked): "cannot read directory: Permission denied"}


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
@pytest.mark.parametrize("name", ["export.jsonl", "export", ".export"])
def test_a_bad_first_line_costs_only_that_line(tmp_path: Path, bad: str, name: str) -> None:
    """Named like a log or not (found by a walk, a file without a log's name is read all the same)."""
    good = [f"g{i}" for i in range(5)]
    path = tmp_path / name
    path.write_text(bad + "\n" + json_lines(good))
    items = walk(tmp_path)
    assert ids(items) == good
    [rejection] = [i for i in items if isinstance(i, Rejection)]
    assert rejection.origin == str(path) and rejection.index == 0 and rejection.reason.startswith("line 1 is not JSON")


def test_a_line_that_is_not_cloudtrail_costs_one_record_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(json_lines(["a"]) + '{"hello": "world"}\n' + json_lines(["b"]))
    items = without_digests(read_file(path))
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
    assert ids(without_digests(read_file(path))) == event_ids
    assert ids(without_digests(read_file(gz))) == event_ids


def test_a_latin1_record_in_json_lines_is_rejected_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    latin = json.dumps(record("bad", userAgent="café"), ensure_ascii=False).encode("latin-1")
    path.write_bytes(latin + b"\n" + json_lines(["g1", "g2"]).encode() + latin + b"\n")
    items = without_digests(read_file(path))
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
    items = without_digests(read_file(path))
    assert ids(items) == ["g1", "g2"]
    [rejection] = [i for i in items if isinstance(i, Rejection)]
    assert rejection.index == 1 and "not valid UTF-8 (byte 0xe9" in rejection.reason
    assert rejection.raw["userIdentity"]["userName"] == "jos\\xe9"


# ---------------------------------------------------------------- every file, whatever its name


def test_every_regular_file_is_read_or_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "trail.bz2").write_bytes(bz2.compress(json.dumps({"Records": [record("bz")]}).encode()))
    (tmp_path / "export").write_text(json_lines(["n1", "n2"]))  # no extension
    (tmp_path / ".hidden.json").write_text(json.dumps(record("h1")))
    (tmp_path / "._trail.json.gz").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")  # AppleDouble
    (tmp_path / "README.md").write_text("# not a log\n")
    (tmp_path / "package.json.bak").write_text(json.dumps({"name": "x", "version": "1"}))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    items = walk(tmp_path)
    assert sorted(ids(items)) == ["bz", "h1", "n1", "n2"]
    assert skipped(items) == {
        str(tmp_path / "._trail.json.gz"): "not CloudTrail: not JSON",
        str(tmp_path / "README.md"): "not CloudTrail: not JSON",
        str(tmp_path / "package.json.bak"): "not CloudTrail: unexpected top-level keys (name, version)",
        str(tmp_path / "sub" / "photo.png"): "not CloudTrail: not JSON",
    }
    written = {str(p) for p in tmp_path.rglob("*") if p.is_file()}
    assert {i.origin for i in items} == written


def test_a_file_name_that_is_not_utf8_gets_an_origin_the_store_can_hold(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9.json"
    with open(name, "wb") as handle:
        handle.write(json.dumps(record("n1")).encode())
    [item] = walk(tmp_path)
    assert isinstance(item, SourceRecord) and item.record["eventID"] == "n1"
    assert item.origin == f"{tmp_path}/caf\\xe9.json"
    orjson.dumps(item.origin)  # the rejects file and the stores take UTF-8 only


def test_zip_archives_that_hold_nothing_readable_say_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w"):
        pass
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as archive:
        archive.writestr("inner.zip", _zip_of("logs.json", json.dumps(record("deep")).encode()))
        archive.writestr("top.json", json.dumps(record("top")))
    items = walk(tmp_path)
    assert ids(items) == ["top"]
    assert skipped(items) == {str(empty): "zip archive holds no files"}
    assert whole_rejections(items)[f"{nested}!inner.zip"].startswith("a zip archive inside an archive")


# ---------------------------------------------------------------- non-regular files


def _unblock(path: Path) -> None:
    """Let a reader stuck opening the FIFO go (only needed if the loader wrongly opened it)."""
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def test_fifos_sockets_and_devices_are_skipped_and_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.json")
    os.mkfifo(tmp_path / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "s.sock"))
    (tmp_path / "a.json").write_text(json.dumps(record("a")))
    result: list[LoaderItem] = []
    reader = threading.Thread(target=lambda: result.extend(walk(tmp_path, Path("/dev/null"))), daemon=True)
    reader.start()
    reader.join(timeout=20)
    finished = not reader.is_alive()
    _unblock(tmp_path / "pipe.json")
    _unblock(tmp_path / "pipe")
    server.close()
    assert finished, "the load hung on a FIFO"
    assert ids(result) == ["a"]
    assert skipped(result) == {
        str(tmp_path / "pipe"): "not a regular file (a FIFO): never opened",
        str(tmp_path / "pipe.json"): "not a regular file (a FIFO): never opened",
        str(tmp_path / "s.sock"): "not a regular file (a socket): never opened",
        "/dev/null": "not a regular file (a character device): never opened",
    }


# ---------------------------------------------------------------- bounded decompression and documents


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Limits a test can cross in milliseconds; the defaults are documented in documents.py."""
    monkeypatch.setattr(documents, "EXPANSION_FLOOR_BYTES", 2**20, raising=False)
    monkeypatch.setattr(documents, "MAX_EXPANSION_RATIO", 100, raising=False)


ZEROS = 100 * 2**20


def _zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "pack"),
    [
        ("bomb.json.gz", lambda data: gzip.compress(data, 9)),
        ("bomb.json.bz2", bz2.compress),
        ("bomb.zip", lambda data: _zip_of("inner.json", data)),
    ],
)
def test_a_decompression_bomb_is_rejected_with_flat_memory(tmp_path: Path, low_limits: None, name: str, pack: Callable[[bytes], bytes]) -> None:
    path = tmp_path / name
    path.write_bytes(pack(bytes(ZEROS)))
    assert path.stat().st_size * 100 < ZEROS  # a bomb: it expands more than the ratio allows
    items: list[LoaderItem] = []
    peak = peak_bytes(lambda: items.extend(read_file(path)))
    [rejection] = without_digests(items)
    assert isinstance(rejection, Rejection) and rejection.index is None
    assert rejection.origin.startswith(str(path)) and rejection.reason.startswith("decompression bomb")
    assert peak < 16 * 2**20, f"{peak:,} bytes held reading a {ZEROS:,}-byte bomb"


def test_a_bomb_past_the_floor_keeps_the_records_before_it(tmp_path: Path, low_limits: None) -> None:
    good = [f"g{i}" for i in range(100)]
    path = tmp_path / "export.jsonl.gz"
    path.write_bytes(gzip.compress(json_lines(good).encode() + bytes(ZEROS)))
    items = without_digests(read_file(path))
    assert ids(items) == good
    assert whole_rejections(items)[str(path)].startswith("decompression bomb")


def test_the_decompressed_total_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_DECOMPRESSED_BYTES", 64 * 2**10, raising=False)
    lines = json_lines([f"e{i}" for i in range(2000)]).encode()
    path = tmp_path / "export.jsonl.gz"
    path.write_bytes(gzip.compress(lines))
    items = without_digests(read_file(path))
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
        assert [type(i) for i in without_digests(items)] == [Rejection]
        assert whole_rejections(items)[str(path)].startswith("a single JSON document larger than 1 MiB")
        assert peak < 3 * 2**20, f"{peak:,} bytes held for {path.stat().st_size:,}"


def test_a_json_line_past_the_size_limit_costs_that_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 2**20, raising=False)
    path = tmp_path / "export.jsonl"
    huge = json.dumps(record("huge", userAgent="x" * (4 * 2**20)))
    path.write_text(json_lines(["a"]) + huge + "\n" + json_lines(["b"]))
    items = without_digests(read_file(path))
    assert ids(items) == ["a", "b"]
    [rejection] = [i for i in items if isinstance(i, Rejection)]
    assert rejection.index == 1 and rejection.reason.startswith("line 2 is longer than 1 MiB")


# ---------------------------------------------------------------- the accounting


def _outcomes(items: list[LoaderItem]) -> Iterator[tuple[str, str]]:
    for item in items:
        if isinstance(item, SkippedFile):
            yield item.origin, "skipped"
        elif isinstance(item, Rejection) and item.index is None:
            yield item.origin, "unreadable"
        else:
            yield item.origin, "read"


def test_each_origin_is_read_rejected_whole_or_skipped_once(tmp_path: Path) -> None:
    (tmp_path / "a.json.gz").write_bytes(log_file("a1", "a2"))
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "none.json").write_text('{"Records": []}')
    (tmp_path / "notes").write_text("hello\n")
    (tmp_path / "cut.json.gz").write_bytes(log_file("c1")[:-10])
    os.mkfifo(tmp_path / "fifo")
    items = walk(tmp_path)
    by_origin: dict[str, list[str]] = {}
    for origin, outcome in _outcomes(items):
        by_origin.setdefault(origin, []).append(outcome)
    assert by_origin == {
        str(tmp_path / "a.json.gz"): ["read", "read"],
        str(tmp_path / "cut.json.gz"): ["unreadable"],
        str(tmp_path / "empty.json"): ["skipped"],
        str(tmp_path / "fifo"): ["skipped"],
        str(tmp_path / "none.json"): ["skipped"],
        str(tmp_path / "notes"): ["skipped"],
    }


def test_input_digests_name_every_file_read_with_the_hash_of_its_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import os

    folder = tmp_path / "evidence"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps({"Records": [record("a1"), record("a2")]}))
    (folder / "sub" / "b.jsonl.gz").write_bytes(gzip.compress(json_lines(["b1"]).encode()))
    (folder / "sub" / "broken.json").write_text("not json")
    monkeypatch.chdir(tmp_path)
    items = list(FileSource([Path("evidence")]))  # named relatively: origins are absolute all the same
    digests = [item for item in items if isinstance(item, InputDigest)]
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert sorted(d.origin for d in digests) == [os.path.abspath(p) for p in files]
    for digest in digests:
        data = Path(digest.origin).read_bytes()
        assert (digest.sha256, digest.size) == (hashlib.sha256(data).hexdigest(), len(data))
    # Each file's digest follows everything read from it.
    for digest in digests:
        position = items.index(digest)
        assert all(items.index(item) < position for item in items if item.origin == digest.origin and item is not digest)
    assert all(item.origin.startswith(str(folder)) for item in items)
