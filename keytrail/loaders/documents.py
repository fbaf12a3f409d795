"""Turn parsed JSON documents into CloudTrail records, whatever wrapper they came in.

Storage access (files, S3 objects) lives elsewhere; this module only knows the
shapes: S3 log files ``{"Records": [...]}``, ``aws cloudtrail lookup-events`` output,
EventBridge events (record in ``detail``), JSON lines, bare arrays and single
records. CloudTrail digest files are recognised and skipped.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from typing import IO, Any

import orjson

from keytrail.loaders.records import LoaderItem, Rejection, SkippedFile, SourceRecord

_GZIP_MAGIC = b"\x1f\x8b"


class _Counter:
    """Numbers the records of one origin in the order they are read."""

    def __init__(self) -> None:
        self.next = 0

    def take(self) -> int:
        index = self.next
        self.next += 1
        return index


def is_digest_path(name: str) -> bool:
    """CloudTrail digest files live under ``CloudTrail-Digest/`` and hold no events."""
    return "CloudTrail-Digest" in name


def _looks_like_record(doc: dict[str, Any]) -> bool:
    return "eventID" in doc or "eventName" in doc or "eventVersion" in doc


def records_from_document(doc: Any, origin: str, counter: _Counter) -> Iterator[LoaderItem]:
    """Yield the records one parsed JSON document holds.

    Args:
        doc: A parsed JSON value.
        origin: Where it was read from, for messages.
        counter: Numbers records within the origin.
    """
    if isinstance(doc, list):
        if not doc:
            yield SkippedFile(origin, "holds no records")
        for element in doc:
            if isinstance(element, dict) and not _looks_like_record(element) and _is_wrapper(element):
                yield from records_from_document(element, origin, counter)
            else:
                yield (
                    SourceRecord(origin, counter.take(), element)
                    if isinstance(element, dict)
                    else Rejection(origin, counter.take(), f"array element is a {type(element).__name__}, not a record", element)
                )
        return
    if not isinstance(doc, dict):
        yield Rejection(origin, None, f"not a CloudTrail document: top level is a {type(doc).__name__}", doc)
        return
    if "Records" in doc:
        records = doc["Records"]
        if not isinstance(records, list):
            yield Rejection(origin, None, f'"Records" must be a list, got {type(records).__name__}')
            return
        if not records:
            yield SkippedFile(origin, "holds no records")
        for element in records:
            index = counter.take()
            if isinstance(element, dict):
                yield SourceRecord(origin, index, element)
            else:
                yield Rejection(origin, index, f"record is a {type(element).__name__}, not an object", element)
        return
    if "Events" in doc and isinstance(doc["Events"], list):
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
    if "digestStartTime" in doc or "logFiles" in doc:
        yield SkippedFile(origin, "CloudTrail digest file")
        return
    if _looks_like_record(doc):
        yield SourceRecord(origin, counter.take(), doc)
        return
    keys = ", ".join(sorted(doc)[:6])
    yield Rejection(origin, None, f"not a CloudTrail document: unexpected top-level keys ({keys})")


def _is_wrapper(doc: dict[str, Any]) -> bool:
    return "Records" in doc or ("detail" in doc and "detail-type" in doc) or "Events" in doc


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


def records_from_stream(stream: IO[bytes], origin: str) -> Iterator[LoaderItem]:
    """Yield the records of one stored object (plain or gzipped JSON, or JSON lines).

    JSON lines are streamed a line at a time, so a large export never sits in memory
    whole; a single JSON document is parsed whole (CloudTrail log files are small).
    A corrupt or truncated gzip keeps what was read before the damage and rejects
    the remainder with the reason.
    """
    counter = _Counter()
    head = stream.read(2)
    raw: IO[bytes] = io.BufferedReader(_Prefixed(head, stream))
    if head == _GZIP_MAGIC:
        raw = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    try:
        yield from _records_from_text(raw, origin, counter)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        yield Rejection(origin, None, f"unreadable after {counter.next} records (truncated or corrupt gzip?): {exc}")


def _records_from_text(raw: IO[bytes], origin: str, counter: _Counter) -> Iterator[LoaderItem]:
    first = raw.readline()
    while first and not first.strip():
        first = raw.readline()
    if not first:
        yield SkippedFile(origin, "empty file")
        return
    try:
        first_doc = orjson.loads(first)
    except orjson.JSONDecodeError:
        first_doc = None
    if first_doc is None:
        # A pretty-printed document: the first line alone is not JSON.
        body = first + raw.read()
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            yield Rejection(origin, None, f"not JSON: {exc}")
            return
        yield from records_from_document(doc, origin, counter)
        return
    yield from records_from_document(first_doc, origin, counter)
    line_number = 1
    for line in raw:
        line_number += 1
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Rejection(origin, counter.take(), f"line {line_number} is not JSON: {exc}", line[:2000].decode(errors="replace"))
            continue
        yield from records_from_document(doc, origin, counter)


class _Prefixed(io.RawIOBase):
    """A readable stream that first returns bytes already peeked from another."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)
