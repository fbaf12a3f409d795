"""What every loader yields: CloudTrail records with where they were read from, or rejections.

A loader turns a source (files, S3, Athena, LookupEvents) into a stream of
:class:`SourceRecord` and :class:`Rejection` items. Nothing here knows about a
database. :func:`check_record` is the single gate that decides whether a record can
be loaded; everything it refuses is kept, with the reason, in the rejects file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: Fields that must be strings when present. Every other field is optional (primer §1).
_STRING_FIELDS = (
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "eventType",
    "eventCategory",
    "recipientAccountId",
    "sharedEventID",
    "requestID",
    "eventVersion",
)
_OBJECT_FIELDS = ("userIdentity", "requestParameters", "additionalEventData")
_TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One CloudTrail record as read.

    Attributes:
        origin: Where it was read from: a file path, ``s3://bucket/key``, an Athena
            query id, or ``lookup-events:<region>``.
        index: The record's position within its origin (0-based).
        record: The record, exactly as parsed.
    """

    origin: str
    index: int
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Something read that cannot be loaded, with the reason.

    Attributes:
        origin: Where it was read from.
        index: The record's position within its origin, or ``None`` when the whole
            origin (or its unreadable remainder) was rejected.
        reason: A human-readable reason naming what is wrong.
        raw: The rejected record, or ``None`` when nothing could be parsed.
    """

    origin: str
    index: int | None
    reason: str
    raw: Any = None

    @property
    def counts_as_record(self) -> bool:
        """True when this rejection stands for one record (it has an index)."""
        return self.index is not None


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file that holds no events by design (a CloudTrail digest file)."""

    origin: str
    reason: str


LoaderItem = SourceRecord | Rejection | SkippedFile


def normalise_time(value: str) -> tuple[str, int]:
    """Parse a CloudTrail timestamp into canonical UTC text and epoch seconds.

    CloudTrail writes ``2026-01-07T02:25:18Z``; other pipelines add fractions or an
    offset. Canonical text is ``YYYY-MM-DDTHH:MM:SSZ`` so that text order is time order
    on every backend (FalkorDB has no datetime type).

    Raises:
        ValueError: if ``value`` is not an ISO 8601 timestamp.
    """
    match = _TIME_RE.match(value.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 time: {value!r}")
    year, month, day, hour, minute, second, _fraction, zone = match.groups()
    iso_zone = "+00:00" if zone in (None, "Z") else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    parsed = datetime.fromisoformat(f"{year}-{month}-{day}T{hour}:{minute}:{second}{iso_zone}")
    utc = parsed.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ"), int(utc.timestamp())


def event_time_of(record: dict[str, Any]) -> tuple[str, str] | None:
    """Return ``(time text, field it came from)``.

    Records shipped through Logstash lose ``eventTime`` and carry ``@timestamp``
    (the OTRF data set); that is the time the pipeline saw the event, seconds after
    the call, so it is used only when ``eventTime`` is absent and the event says so.
    """
    value = record.get("eventTime")
    if isinstance(value, str):
        return value, "eventTime"
    stamp = record.get("@timestamp")
    if value is None and isinstance(stamp, str):
        return stamp, "@timestamp"
    return None


def check_record(record: Any) -> str | None:
    """Decide whether a record can be loaded.

    Returns:
        ``None`` when the record is loadable, else the reason it is rejected.
    """
    if not isinstance(record, dict):
        return f"a record must be a JSON object, got {type(record).__name__}"
    event_id = record.get("eventID")
    if not isinstance(event_id, str) or not event_id.strip():
        return "missing eventID" if event_id is None else f"eventID must be a non-empty string, got {event_id!r}"
    if "eventTime" in record and not isinstance(record["eventTime"], str):
        return f"field eventTime must be a string, got {type(record['eventTime']).__name__}"
    found = event_time_of(record)
    if found is None:
        return "missing eventTime"
    try:
        normalise_time(found[0])
    except ValueError as exc:
        return f"field {found[1]}: {exc}"
    for name in ("eventSource", "eventName"):
        if not isinstance(record.get(name), str) or not record[name]:
            return f"missing {name}" if record.get(name) is None else f"field {name} must be a non-empty string"
    for name in _STRING_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            return f"field {name} must be a string, got {type(value).__name__}"
    for name in _OBJECT_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, dict):
            return f"field {name} must be an object or null, got {type(value).__name__}"
    response = record.get("responseElements")
    if response is not None and not isinstance(response, dict | str):
        return f"field responseElements must be an object, a string or null, got {type(response).__name__}"
    resources = record.get("resources")
    if resources is not None and not (isinstance(resources, list) and all(isinstance(r, dict) for r in resources)):
        return "field resources must be a list of objects"
    read_only = record.get("readOnly")
    if read_only is not None and not isinstance(read_only, bool) and read_only not in ("true", "false"):
        return f"field readOnly must be a boolean, got {read_only!r}"
    identity = record.get("userIdentity")
    if isinstance(identity, dict):
        for name in ("type", "arn", "accountId", "accessKeyId", "userName", "principalId", "invokedBy"):
            value = identity.get(name)
            if value is not None and not isinstance(value, str):
                return f"field userIdentity.{name} must be a string, got {type(value).__name__}"
    return None
