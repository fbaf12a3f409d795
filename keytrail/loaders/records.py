"""What every loader yields: CloudTrail records with where they were read from, or rejections.

A loader turns a source (files, S3, Athena, LookupEvents) into a stream of
:class:`SourceRecord` and :class:`Rejection` items. Nothing here knows about a
database. :func:`check_record` is the single gate that decides whether a record can
be loaded; everything it refuses is kept, with the reason, in the rejects file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keytrail.model.time import event_time_of, normalise_time

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
    """A file that is not read for events, and why: a CloudTrail digest, not CloudTrail at all, a link met twice, a FIFO."""

    origin: str
    reason: str


@dataclass(frozen=True, slots=True)
class InputDigest:
    """The SHA-256 and size of one input object, as it was read: the load keeps it on its LoadRun."""

    origin: str
    sha256: str
    size: int


LoaderItem = SourceRecord | Rejection | SkippedFile | InputDigest

__all__ = ["LoaderItem", "Rejection", "SkippedFile", "SourceRecord", "check_record", "event_time_of", "normalise_time"]


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
