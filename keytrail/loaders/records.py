"""What every loader yields: CloudTrail records with where they were read from, or rejections.

A loader turns a source (files, S3, Athena, LookupEvents) into a stream of
:class:`SourceRecord` and :class:`Rejection` items. Nothing here knows about a
database. :func:`check_record` is the single gate that decides whether a record can
be loaded; everything it refuses is kept, with the reason, in the rejects file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from keytrail.model.time import event_time_of, normalise_time

#: Fields that must be strings when present. Every other field is optional (primer §1).
#: The fields of a record that become indexed Event properties or part of the Action key, and the most UTF-8 bytes each
#: may hold. CloudTrail writes GUIDs, service host names and API operation names there, all far shorter; a longer value
#: is not a CloudTrail record, and an index of either store would fail on it (keytrail/graph/keys.py).
INDEXED_FIELDS: tuple[str, ...] = ("eventID", "eventSource", "eventName", "sharedEventID")
INDEXED_FIELD_BYTES = 1_024

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
#: What the transform and the rules read of ``userIdentity`` (primer §2), and of each of the record's ``resources``.
_IDENTITY_STRINGS = ("type", "arn", "accountId", "accessKeyId", "userName", "principalId", "invokedBy")
_IDENTITY_OBJECTS = ("sessionContext", "onBehalfOf")
_ISSUER_STRINGS = ("arn", "principalId")
_RESOURCE_STRINGS = ("ARN", "arn", "type", "accountId")
_SURROGATE = re.compile("[\ud800-\udfff]")


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

__all__ = ["Examined", "LoaderItem", "Rejection", "SkippedFile", "SourceRecord", "check_record", "event_time_of", "examine_record", "normalise_time"]


@dataclass(frozen=True, slots=True)
class Examined:
    """What :func:`examine_record` found: why the record is refused, and how many objects and arrays it holds.

    ``containers`` is counted on the quick walk that nearly every record takes, and is 0 when the
    record needed the slow one; with at most ORJSON_DEPTH of them, it is nested no deeper.
    """

    reason: str | None
    containers: int


def check_record(record: Any) -> str | None:
    """Whether a record can be loaded: ``None``, or the reason it is refused (see :func:`examine_record`)."""
    return examine_record(record).reason


def examine_record(record: Any) -> Examined:
    """Decide whether a record can be loaded.

    A record is refused when a field keytrail reads is not of the type CloudTrail writes it
    with, or when it holds anything a store cannot (text that is not Unicode, a value JSON has
    no form for): a record that passes becomes rows exactly, and no later step fails on it.
    The content of ``requestParameters`` and ``responseElements`` is each service's own, and
    the rules read it whatever its types.

    Returns:
        The reason the record is rejected, naming the field (``None`` when it is loadable), and the count of its containers.
    """
    reason = _field_problem(record)
    if reason is not None:
        return Examined(reason, 0)
    # Nearly every record holds nothing a store cannot: a quick look first, the walk that names the place only after.
    containers = _plainly_storable(record)
    return Examined(None if containers else _first_unstorable(record), containers)


def _field_problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return f"a record must be a JSON object, got {type(record).__name__}"
    event_id = record.get("eventID")
    if not isinstance(event_id, str) or not event_id.strip():
        return "missing eventID" if event_id is None else f"eventID must be a non-empty string, got {_shown(event_id)}"
    if "eventTime" in record and not isinstance(record["eventTime"], str):
        return f"field eventTime must be a string, got {type(record['eventTime']).__name__}"
    found = event_time_of(record)
    if found is None:
        stamp = record.get("@timestamp")
        return "missing eventTime" if stamp is None else f"missing eventTime, and field @timestamp must be a string, got {type(stamp).__name__}"
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
    for name in INDEXED_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and len(value) * 4 > INDEXED_FIELD_BYTES and (size := len(value.encode("utf-8", "surrogatepass"))) > INDEXED_FIELD_BYTES:
            return f"field {name} is {size:,} bytes long; keytrail indexes it and takes at most {INDEXED_FIELD_BYTES:,} (CloudTrail's are far shorter)"
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
    for position, resource in enumerate(resources or []):
        problem = _strings(resource, _RESOURCE_STRINGS, f"resources[{position}]")
        if problem:
            return problem
    read_only = record.get("readOnly")
    if read_only is not None and not isinstance(read_only, bool) and read_only not in ("true", "false"):
        return f"field readOnly must be a boolean, got {_shown(read_only)}"
    identity = record.get("userIdentity")
    if isinstance(identity, dict):
        problem = _identity_problem(identity)
        if problem:
            return problem
    return None


def _identity_problem(identity: dict[str, Any]) -> str | None:
    problem = _strings(identity, _IDENTITY_STRINGS, "userIdentity")
    for name in _IDENTITY_OBJECTS:
        value = identity.get(name)
        if problem is None and value is not None and not isinstance(value, dict):
            problem = f"field userIdentity.{name} must be an object or null, got {type(value).__name__}"
    if problem is not None:
        return problem
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer")
    if issuer is not None and not isinstance(issuer, dict):
        return f"field userIdentity.sessionContext.sessionIssuer must be an object or null, got {type(issuer).__name__}"
    return _strings(issuer or {}, _ISSUER_STRINGS, "userIdentity.sessionContext.sessionIssuer") or _strings(
        identity.get("onBehalfOf") or {}, ("userId",), "userIdentity.onBehalfOf"
    )


def _strings(where: dict[str, Any], names: tuple[str, ...], prefix: str) -> str | None:
    for name in names:
        value = where.get(name)
        if value is not None and not isinstance(value, str):
            return f"field {prefix}.{name} must be a string, got {type(value).__name__}"
    return None


def _shown(value: Any) -> str:
    """A value for a reason: text quoted and cut short, anything else by its type (a reason is one readable line)."""
    if isinstance(value, str):
        shown = repr(value)
        return shown if len(shown) <= 80 else shown[:77] + "..."
    return type(value).__name__


#: A link of the path from the record to a value: (the key or index, the link of its container).
type _Path = tuple[str | int, _Path] | None


def _where(path: _Path) -> str:
    """``requestParameters.items[0].name``; long paths keep their ends, and no part is unreadable or long."""
    steps: list[str | int] = []
    while path is not None:
        steps.append(path[0])
        path = path[1]
    steps.reverse()
    parts = [f"[{step}]" if isinstance(step, int) else ("." if n else "") + _visible(step) for n, step in enumerate(steps)]
    if sum(len(part) for part in parts) > 300:
        parts = [*parts[:3], f".…({len(parts) - 6} levels)…", *parts[-3:]]
    return "".join(parts)


def _visible(step: str) -> str:
    # A lone surrogate in a key is shown as its escape: the reason itself goes to the rejects file.
    text = step.encode("utf-8", "backslashreplace").decode()
    return text if len(text) <= 100 else text[:97] + "..."


def _plainly_storable(record: dict[str, Any]) -> int:
    """How many objects and arrays the record holds, when every value is plainly JSON; 0 when one may not be
    (or a container appears twice: shared, or a cycle). Then :func:`_first_unstorable` walks it, naming the place.

    Both walks keep their own stack: a record may be nested deeper than Python recurses.
    """
    seen: set[int] = set()
    work: list[Any] = [record]
    while work:
        item = work.pop()
        kind = type(item)
        if kind is str:
            if not item.isascii() and _SURROGATE.search(item):
                return 0
        elif kind is dict or kind is list:
            if id(item) in seen:
                return 0
            seen.add(id(item))
            if kind is list:
                work.extend(item)
                continue
            for key in item:
                if type(key) is not str or (not key.isascii() and _SURROGATE.search(key)):
                    return 0
            work.extend(item.values())
        elif kind is float:
            if not math.isfinite(item):
                return 0
        elif not (item is None or kind is bool or kind is int):
            return 0
    return len(seen)


def _first_unstorable(record: dict[str, Any]) -> str | None:
    inside: set[int] = set()
    work: list[tuple[Any, _Path, bool]] = [(record, None, False)]
    while work:
        value, path, leaving = work.pop()
        if leaving:
            inside.discard(id(value))
        elif isinstance(value, dict | list):
            if id(value) in inside:
                return f"field {_where(path)} contains itself"
            inside.add(id(value))
            work.append((value, path, True))
            if isinstance(value, list):
                work.extend((item, (index, path), False) for index, item in enumerate(value))
                continue
            for key, item in value.items():
                if not isinstance(key, str):
                    return f"field {_where(path) if path else 'the record'} has a key that is not a string ({type(key).__name__})"
                if not key.isascii() and _SURROGATE.search(key):
                    return f"field {_where((key, path))}: its name holds a lone surrogate, which no store can hold"
                work.append((item, (key, path), False))
        elif isinstance(value, str):
            lone = None if value.isascii() else _SURROGATE.search(value)
            if lone:
                return f"field {_where(path)} holds a lone surrogate (U+{ord(lone.group()):04X}), which no store can hold"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return f"field {_where(path)} holds {value}, which JSON has no form for"
        elif value is not None and not isinstance(value, bool | int):
            return f"field {_where(path)} holds a {type(value).__name__}, which is not a JSON value"
    return None
