"""Turn stored bytes into CloudTrail records, whatever wrapper, compression and encoding they came in.

Storage access (files, S3 objects) lives elsewhere; this module only knows the
shapes: S3 log files ``{"Records": [...]}``, ``aws cloudtrail lookup-events`` output,
EventBridge events (record in ``detail``), JSON lines, bare arrays and single
records; gzip, bzip2 and xz compression (recognised by their content); UTF-8 with or
without a byte-order mark, UTF-16 and UTF-32. CloudTrail digest files are recognised
by their shape and skipped.

Reading is bounded: decompressed output is metered against the stored bytes it came
from (:data:`MAX_EXPANSION_RATIO`, :data:`EXPANSION_FLOOR_BYTES`,
:data:`MAX_DECOMPRESSED_BYTES`), and no single JSON document or line larger than
:data:`MAX_DOCUMENT_BYTES` is ever held in memory. Every limit is read when it is
applied, so a test (or an operator) can change it on the module.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import orjson

from keytrail.loaders.records import LoaderItem, Rejection, SkippedFile, SourceRecord

try:
    import lzma
except ImportError:  # pragma: no cover - a Python built without liblzma: .xz files are then reported as not JSON
    lzma = None  # type: ignore[assignment]

#: A JSON document (or one JSON line) is parsed whole, so it is held in memory whole: past
#: this size it is rejected. Parsed, a CloudTrail document takes about five times its size
#: (measured: 650 MiB for 128 MiB of records), so this bounds one file's cost near 1.5 GiB;
#: real S3 log files are a few MB at most, and JSON lines of any total size are streamed.
MAX_DOCUMENT_BYTES = 256 * 2**20
#: A compressed object may expand at most this many times the stored bytes read so far...
#: (CloudTrail's own gzip files expand 1.4 to 16 times; zeros expand 229 times under
#: gzip -1, 1,029 times under gzip -9, and nearly a million times under bzip2).
MAX_EXPANSION_RATIO = 100
#: ...once more than this has come out, so that small, very repetitive files stay readable.
EXPANSION_FLOOR_BYTES = 64 * 2**20
#: No stored object yields more than this, whatever its ratio: streaming keeps memory flat,
#: this bounds the time a hostile object can take.
MAX_DECOMPRESSED_BYTES = 16 * 2**30

_CHUNK = 64 * 1024
#: Lines looked at to tell JSON lines with a broken first line from a pretty-printed document.
_LOOKAHEAD_LINES = 8
_RAW_EXCERPT = 2000
_GZIP_MAGIC = b"\x1f\x8b"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
#: Longest first: the UTF-32 little-endian mark begins with the UTF-16 one.
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
#: The fields CloudTrail's digest files have and its log files do not.
_DIGEST_FIELDS = frozenset({"digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object", "logFiles"})
#: Bytes that were not UTF-8, kept as lone surrogates by the ``surrogateescape`` decoder.
_ESCAPED = re.compile("[\udc80-\udcff]")
_JSON_LINE_START = re.compile(rb"\n[ \t\r]*[{\[]")


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class LimitExceeded(Exception):
    """Reading a stored object would cost more than the limits allow; the message says which."""


class _NotJSON(Exception):
    """Bytes that do not parse as JSON; the message is the parser's."""


class _Counter:
    """Numbers the records of one origin in the order they are read."""

    def __init__(self) -> None:
        self.next = 0

    def take(self) -> int:
        index = self.next
        self.next += 1
        return index


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


class Budget:
    """What decompression may produce from one stored object (a file, an S3 object, a whole zip archive).

    Args:
        stored: Returns how many stored (compressed) bytes have been read so far; the
            ratio is checked against it as reading goes, so a bomb is stopped early.
    """

    def __init__(self, stored: Callable[[], int]) -> None:
        self._stored = stored
        self.produced = 0

    def spend(self, n: int) -> None:
        """Count ``n`` decompressed bytes.

        Raises:
            LimitExceeded: past :data:`MAX_DECOMPRESSED_BYTES`, or past
                :data:`EXPANSION_FLOOR_BYTES` at more than :data:`MAX_EXPANSION_RATIO` times the stored bytes.
        """
        self.produced += n
        if self.produced > MAX_DECOMPRESSED_BYTES:
            raise LimitExceeded(f"decompresses to more than {_size(MAX_DECOMPRESSED_BYTES)}, the limit for one stored object")
        stored = max(self._stored(), 1)
        if self.produced > EXPANSION_FLOOR_BYTES and self.produced > MAX_EXPANSION_RATIO * stored:
            raise LimitExceeded(
                f"decompression bomb: {_size(stored)} stored expanded to more than {_size(self.produced)}, "
                f"over {MAX_EXPANSION_RATIO}:1 (CloudTrail's logs expand less than 20:1)"
            )


class _Counted(io.RawIOBase):
    """The stored bytes, counted as they are read."""

    def __init__(self, stream: _Readable) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        self.count += len(data)
        return len(data)


class _Metered(io.RawIOBase):
    """Decompressed bytes, charged to a budget as they come out."""

    def __init__(self, stream: _Readable, budget: Budget) -> None:
        self._stream = stream
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(min(len(view), _CHUNK))
        self._budget.spend(len(data))
        view[: len(data)] = data
        return len(data)


class _Recoded(io.RawIOBase):
    """UTF-16 or UTF-32 text, re-encoded as the UTF-8 the parser reads, a chunk at a time."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self._text = text
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._pending:
            self._pending = self._text.read(max(len(view) // 4, 1)).encode("utf-8")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def is_digest_path(name: str) -> bool:
    """True when a path or S3 key has ``CloudTrail-Digest`` as a whole segment.

    CloudTrail writes digests to ``AWSLogs/<account>/CloudTrail-Digest/<region>/...``; a
    folder merely named like it (``CloudTrail-Digest-review/``) holds whatever it holds.
    """
    return "CloudTrail-Digest" in re.split(r"[/\\]", name)


def is_digest_document(doc: Any) -> bool:
    """True for a CloudTrail digest file: an object with its own fields (``digestStartTime``, ``logFiles``, ...) and no ``Records``."""
    return isinstance(doc, dict) and "Records" not in doc and len(_DIGEST_FIELDS.intersection(doc)) >= 2


def _looks_like_record(doc: dict[str, Any]) -> bool:
    return "eventID" in doc or "eventName" in doc or "eventVersion" in doc


def records_from_document(doc: Any, origin: str, counter: _Counter, *, line: int | None = None, unclaimed: bool = False) -> Iterator[LoaderItem]:
    """Yield the records one parsed JSON document holds.

    Args:
        doc: A parsed JSON value.
        origin: Where it was read from, for messages.
        counter: Numbers records within the origin.
        line: The document's line number when it is one line of JSON lines: a line that
            cannot be loaded then costs one record slot, never the whole origin.
        unclaimed: The origin's name does not say it is a log (a walk found it), so a
            document that is not CloudTrail at all is skipped, with the reason, rather than rejected.
    """

    def refused(reason: str, raw: Any = None) -> LoaderItem:
        if line is not None:
            return Rejection(origin, counter.take(), f"line {line}: {reason}", raw)
        return Rejection(origin, None, reason, raw)

    foreign = _foreign(doc)
    if foreign is not None:
        if unclaimed and line is None:
            yield SkippedFile(origin, f"not CloudTrail: {foreign}")
        else:
            # A whole document is not copied into the rejects file: it can be large, and its name says where it is.
            yield refused(f"not a CloudTrail document: {foreign}", None if line is None and isinstance(doc, dict) else doc)
        return
    if isinstance(doc, list):
        for element in doc:
            if isinstance(element, dict) and not _looks_like_record(element) and _is_wrapper(element):
                yield from records_from_document(element, origin, counter, line=line)
            else:
                yield (
                    SourceRecord(origin, counter.take(), element)
                    if isinstance(element, dict)
                    else Rejection(origin, counter.take(), f"array element is a {type(element).__name__}, not a record", element)
                )
        return
    if not isinstance(doc, dict):  # refused by _foreign: only arrays and objects get here
        return
    if "Records" in doc:
        records = doc["Records"]
        if not isinstance(records, list):
            yield refused(f'"Records" must be a list, got {type(records).__name__}')
            return
        for element in records:
            index = counter.take()
            if isinstance(element, dict):
                yield SourceRecord(origin, index, element)
            else:
                yield Rejection(origin, index, f"record is a {type(element).__name__}, not an object", element)
        return
    if isinstance(doc.get("Events"), list):
        yield from _lookup_events(doc["Events"], origin, counter)
        return
    if "detail" in doc and "detail-type" in doc:
        detail = doc["detail"]
        index = counter.take()
        if isinstance(detail, dict):
            yield SourceRecord(origin, index, detail)
        else:
            yield Rejection(origin, index, "EventBridge event without an object in detail", doc)
        return
    if is_digest_document(doc):
        # A digest inside JSON lines is no file to skip: the line is refused so that the origin's accounting stays one outcome.
        yield SkippedFile(origin, "CloudTrail digest file") if line is None else refused("a CloudTrail digest, not a record", doc)
        return
    yield SourceRecord(origin, counter.take(), doc)


def _is_wrapper(doc: dict[str, Any]) -> bool:
    return "Records" in doc or ("detail" in doc and "detail-type" in doc) or isinstance(doc.get("Events"), list)


def _foreign(doc: Any) -> str | None:
    """Why a parsed document is not CloudTrail at all, or ``None`` when it has one of CloudTrail's shapes."""
    if isinstance(doc, list):
        return None
    if not isinstance(doc, dict):
        return f"top level is a {type(doc).__name__}"
    if _is_wrapper(doc) or is_digest_document(doc) or _looks_like_record(doc):
        return None
    return f"unexpected top-level keys ({', '.join(sorted(doc)[:6])})"


def _lookup_events(events: list[Any], origin: str, counter: _Counter) -> Iterator[LoaderItem]:
    for event in events:
        index = counter.take()
        text = event.get("CloudTrailEvent") if isinstance(event, dict) else None
        if not isinstance(text, str):
            yield Rejection(origin, index, "lookup-events entry without a CloudTrailEvent string", event)
            continue
        try:
            record = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield Rejection(origin, index, f"CloudTrailEvent is not JSON: {exc}", event)
            continue
        if isinstance(record, dict):
            yield SourceRecord(origin, index, record)
        else:
            yield Rejection(origin, index, "CloudTrailEvent is not a JSON object", event)


def records_from_stream(stream: _Readable, origin: str, *, budget: Budget | None = None, unclaimed: bool = False) -> Iterator[LoaderItem]:
    """Yield the records of one stored object (plain or compressed JSON, or JSON lines), or why it could not be read.

    JSON lines are streamed a line at a time, so an export of any size never sits in
    memory whole; a single JSON document is parsed whole, up to :data:`MAX_DOCUMENT_BYTES`.
    A corrupt or truncated compressed stream, or one past the decompression limits,
    keeps what was read before and rejects the remainder with the reason. The object
    always yields something: records, rejections, or one :class:`SkippedFile` saying why
    it holds none.

    Args:
        stream: The stored bytes.
        origin: Where they were read from, for messages.
        budget: What the stream's decompressed output is charged to, when the stream is
            itself decompressed (a zip member: the archive's budget); by default the
            object gets its own, against the bytes read from ``stream``.
        unclaimed: Its name does not say it is a log: content that is not JSON, or not
            CloudTrail, is skipped with the reason rather than rejected.
    """
    counter = _Counter()
    produced = False
    encoding = "utf-8"
    try:
        text, encoding = _decoded(stream, budget)
        for item in _records_from_text(text, origin, counter, unclaimed=unclaimed):
            produced = True
            yield item
    except _ZipInStream:
        produced = True
        yield Rejection(origin, None, "a zip archive inside an archive, a compressed file or an S3 object: only local zip files are read (extract it)")
    except LimitExceeded as exc:
        produced = True
        yield Rejection(origin, None, f"{exc}; rejected after {counter.next} records")
    except UnicodeDecodeError as exc:
        produced = True
        yield Rejection(origin, None, f"unreadable after {counter.next} records: not valid {encoding.upper()} ({exc.reason})")
    except _CORRUPT as exc:
        produced = True
        yield Rejection(origin, None, f"unreadable after {counter.next} records (truncated or corrupt compressed data?): {exc}")
    if not produced:
        yield SkippedFile(origin, "holds no records")


#: What the decompressors raise for truncated or corrupt data (gzip.BadGzipFile is an OSError).
_CORRUPT: tuple[type[Exception], ...] = (EOFError, zlib.error, OSError, *((lzma.LZMAError,) if lzma is not None else ()))


class _ZipInStream(Exception):
    """A zip archive where only a stream can be read: zip needs to seek, so only local zip files are read."""


def _decoded(stream: _Readable, budget: Budget | None) -> tuple[io.BufferedReader[Any], str]:
    """The stream's text as UTF-8 bytes (decompressed, byte-order mark removed), and the encoding it was in."""
    stored = _Counted(stream)
    reader = io.BufferedReader(stored, _CHUNK)
    head = reader.peek(len(_XZ_MAGIC))[: len(_XZ_MAGIC)]
    source: _Readable | None = None
    if head.startswith(_GZIP_MAGIC):
        source = gzip.GzipFile(fileobj=reader, mode="rb")
    elif head.startswith(_BZIP2_MAGIC) and head[3:4].isdigit():
        source = bz2.BZ2File(reader)
    elif lzma is not None and head.startswith(_XZ_MAGIC):
        source = lzma.LZMAFile(reader)
    elif budget is not None:
        source = reader  # already decompressed (a zip member): charged to the archive's budget
    plain = reader if source is None else io.BufferedReader(_Metered(source, budget or Budget(lambda: stored.count)), _CHUNK)
    head = plain.peek(4)[:4]
    if head.startswith(_ZIP_MAGICS):
        raise _ZipInStream
    encoding, mark = _encoding(head)
    plain.read(mark)
    if encoding == "utf-8":
        return plain, encoding
    text = io.TextIOWrapper(plain, encoding=encoding, errors="strict", newline="")
    return io.BufferedReader(_Recoded(text), _CHUNK), encoding


def _encoding(head: bytes) -> tuple[str, int]:
    """The encoding of text beginning with ``head``, and the length of its byte-order mark.

    Without a mark, the NULs around the first (ASCII) characters of JSON text tell
    UTF-16 and UTF-32 apart from UTF-8 (RFC 4627, section 3).
    """
    for mark, name in _BOMS:
        if head.startswith(mark):
            return name, len(mark)
    if len(head) == 4:
        nuls = tuple(b == 0 for b in head)
        for pattern, name in (
            ((True, True, True, False), "utf-32-be"),
            ((False, True, True, True), "utf-32-le"),
            ((True, False, True, False), "utf-16-be"),
            ((False, True, False, True), "utf-16-le"),
        ):
            if nuls == pattern:
                return name, 0
    return "utf-8", 0


class _Line(NamedTuple):
    number: int
    data: bytes
    #: False when the line was longer than the limit: ``data`` is then only its beginning.
    whole: bool


class _Lines:
    """The non-blank lines of a text, numbered, none held longer than :data:`MAX_DOCUMENT_BYTES`."""

    def __init__(self, raw: io.BufferedReader[Any]) -> None:
        self.raw = raw
        self.number = 0

    def next(self) -> _Line | None:
        while True:
            limit = MAX_DOCUMENT_BYTES
            data = self.raw.readline(limit + 2)
            if not data:
                return None
            self.number += 1
            if len(data.rstrip(b"\r\n")) > limit:
                # Only the line's beginning is kept: the rest is read past in chunks, so memory stays flat.
                tail = data
                while tail and not tail.endswith(b"\n"):
                    tail = self.raw.readline(_CHUNK)
                return _Line(self.number, data[:_RAW_EXCERPT], False)
            if data.strip():
                return _Line(self.number, data, True)


@dataclass(frozen=True, slots=True)
class _Parsed:
    value: Any
    #: Why the bytes are not UTF-8, when they are not: the value was then parsed with the
    #: undecodable bytes kept as escapes, and every record holding one is rejected.
    not_utf8: str | None = None


def _parse(data: bytes) -> _Parsed:
    """Parse JSON bytes; bytes that are not UTF-8 are still parsed, so that the records that are can load.

    Raises:
        _NotJSON: the bytes are not JSON.
    """
    try:
        return _Parsed(orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        error = str(exc)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        where = f"byte 0x{data[bad.start]:02x} at offset {bad.start}"
        try:
            value = json.loads(data.decode("utf-8", "surrogateescape"))
        except (ValueError, RecursionError):
            raise _NotJSON(f"not valid UTF-8 ({where}), and not JSON either") from None
        return _Parsed(value, where)
    raise _NotJSON(error)


def _parses_alone(line: _Line) -> bool:
    stripped = line.data.strip()
    # Cheap first: most lines of a pretty-printed document cannot be a whole object or array.
    if not line.whole or stripped[:1] not in (b"{", b"[") or stripped[-1:] not in (b"}", b"]"):
        return False
    try:
        return isinstance(_parse(line.data).value, dict | list)
    except _NotJSON:
        return False


def _plainly_not_json(head: bytes) -> bool:
    """True when the beginning of a text shows it is no CloudTrail JSON, so that it need not be read further.

    Every CloudTrail shape is an object or an array. Text that starts otherwise may still
    be JSON lines with a broken first line, so it is let through when a later line of the
    beginning starts like JSON, or when no line ends there (the limits bound what is read).
    """
    start = head.lstrip()[:1]
    if not start or start in (b"{", b"["):
        return False
    if b"\x00" in head:  # decoded JSON text has no NUL: this is binary
        return True
    return b"\n" in head and _JSON_LINE_START.search(head) is None


def _records_from_text(raw: io.BufferedReader[Any], origin: str, counter: _Counter, *, unclaimed: bool) -> Iterator[LoaderItem]:
    if unclaimed and _plainly_not_json(raw.peek(_CHUNK)):
        yield SkippedFile(origin, "not CloudTrail: not JSON")
        return
    lines = _Lines(raw)
    first = lines.next()
    if first is None:
        yield SkippedFile(origin, "empty file")
        return
    ahead: list[_Line] = []
    following = lines.next()
    if following is None:
        yield from _one_document(first.data if first.whole else None, origin, counter, unclaimed=unclaimed)
        return
    ahead.append(following)
    if _parses_alone(first):
        yield from _json_lines(first, ahead, lines, origin, counter, unclaimed=unclaimed)
        return
    # The first line is no JSON value on its own: a pretty-printed document, or JSON lines
    # whose first line is broken. The lines after it tell: in JSON lines most are whole values.
    buffered = len(first.data) + len(following.data)
    while len(ahead) < _LOOKAHEAD_LINES and buffered <= MAX_DOCUMENT_BYTES:
        line = lines.next()
        if line is None:
            break
        ahead.append(line)
        buffered += len(line.data)
    if sum(_parses_alone(line) for line in ahead) * 2 > len(ahead):
        yield from _json_lines(first, ahead, lines, origin, counter, unclaimed=False)
        return
    if not first.whole or not all(line.whole for line in ahead):
        yield from _one_document(None, origin, counter, unclaimed=unclaimed)
        return
    # ``lines`` has consumed up to the end of the last line looked at; the document is those lines and the rest.
    parts = [first.data, *(line.data for line in ahead)]
    room = MAX_DOCUMENT_BYTES + 1 - sum(len(p) for p in parts)
    rest = raw.read(room) if room > 0 else b""
    body = b"".join([*parts, rest])
    yield from _one_document(body if len(body) <= MAX_DOCUMENT_BYTES else None, origin, counter, unclaimed=unclaimed)


def _one_document(body: bytes | None, origin: str, counter: _Counter, *, unclaimed: bool) -> Iterator[LoaderItem]:
    """The records of a whole-file document; ``None`` when it was larger than the limit."""
    if body is None:
        yield Rejection(
            origin,
            None,
            f"a single JSON document larger than {_size(MAX_DOCUMENT_BYTES)}: too large to parse in memory (JSON lines are streamed, at any size)",
        )
        return
    try:
        parsed = _parse(body)
    except _NotJSON as exc:
        yield SkippedFile(origin, "not CloudTrail: not JSON") if unclaimed else Rejection(origin, None, f"not JSON: {exc}")
        return
    yield from _checked(parsed, records_from_document(parsed.value, origin, counter, unclaimed=unclaimed), None)


def _json_lines(first: _Line, ahead: list[_Line], lines: _Lines, origin: str, counter: _Counter, *, unclaimed: bool) -> Iterator[LoaderItem]:
    """Every line of JSON lines, each on its own: a broken line costs that line only."""
    if unclaimed:
        # A file whose name does not say "log" is read as JSON lines only if its first line is CloudTrail.
        foreign = _foreign(_parse(first.data).value)
        if foreign is not None:
            yield SkippedFile(origin, f"not CloudTrail: {foreign}")
            return
    pending: Iterator[_Line | None] = iter([first, *ahead])
    while True:
        line = next(pending, None) or lines.next()
        if line is None:
            return
        if not line.whole:
            excerpt = line.data.decode("utf-8", "replace")
            yield Rejection(origin, counter.take(), f"line {line.number} is longer than {_size(MAX_DOCUMENT_BYTES)}: too large to parse in memory", excerpt)
            continue
        try:
            parsed = _parse(line.data)
        except _NotJSON as exc:
            excerpt = line.data[:_RAW_EXCERPT].decode("utf-8", "backslashreplace")
            yield Rejection(origin, counter.take(), f"line {line.number} is not JSON: {exc}", excerpt)
            continue
        yield from _checked(parsed, records_from_document(parsed.value, origin, counter, line=line.number), line.number)


def _checked(parsed: _Parsed, items: Iterator[LoaderItem], line: int | None) -> Iterator[LoaderItem]:
    """The items of a parsed document, every record that holds bytes that are not UTF-8 rejected, naming the byte."""
    if parsed.not_utf8 is None:
        yield from items
        return
    where = "" if line is None else f"line {line}: "
    for item in items:
        if isinstance(item, SourceRecord):
            byte = _first_escaped(item.record)
            if byte is None:
                yield item
            else:
                reason = f"{where}record is not valid UTF-8 (byte 0x{byte:02x}; CloudTrail writes UTF-8: Latin-1 or another encoding?)"
                yield Rejection(item.origin, item.index, reason, _unescaped(item.record))
        elif isinstance(item, Rejection):
            yield Rejection(item.origin, item.index, _unescaped(item.reason), _unescaped(item.raw))
        elif isinstance(item, SkippedFile):
            yield SkippedFile(item.origin, _unescaped(item.reason))
        else:
            yield item


def _first_escaped(value: Any) -> int | None:
    """The first byte that was not UTF-8 in a parsed value, or ``None``."""
    if isinstance(value, str):
        match = _ESCAPED.search(value)
        return None if match is None else ord(match.group()) - 0xDC00
    if isinstance(value, dict):
        for key, inner in value.items():
            found = _first_escaped(key)
            if found is None:
                found = _first_escaped(inner)
            if found is not None:
                return found
    if isinstance(value, list):
        for inner in value:
            found = _first_escaped(inner)
            if found is not None:
                return found
    return None


def _unescaped(value: Any) -> Any:
    """The value with each byte that was not UTF-8 written ``\\xNN``: the rejects file is UTF-8 JSON."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") if _ESCAPED.search(value) else value
    if isinstance(value, dict):
        return {_unescaped(key): _unescaped(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_unescaped(inner) for inner in value]
    return value
