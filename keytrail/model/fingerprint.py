"""A record as keytrail keeps it, and the fingerprint that tells two records with one eventID apart.

The kept text is the record as read, every field in its order, with session tokens redacted
(:mod:`keytrail.model.secrets`): ``keytrail event ID --raw`` prints it. The fingerprint is the
SHA-256 of the same record with its keys sorted, so that a record re-delivered with its fields in
another order (CloudTrail's S3 files and the LookupEvents API write them differently) is the same
record, and one whose content differs is a conflict.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

from keytrail.model.secrets import redact_tokens
from keytrail.rules.base import ORJSON_DEPTH, json_text


def record_json(value: Any, *, sort_keys: bool = False) -> str:
    """Any parsed value (a record, a line that did not parse, nothing) as JSON text, whatever its depth.

    ``json_text`` does the writing: it keeps orjson away from deep nesting (which can crash it)
    and writes huge integers and lone surrogates exactly.
    """
    if isinstance(value, str):
        return json.dumps(value) if not value.isascii() and _has_lone_surrogate(value) else orjson.dumps(value).decode()
    return json_text(value, sort_keys=sort_keys) or "null"


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def kept_text(record: dict[str, Any]) -> str:
    """The record as read, as JSON text, session tokens redacted."""
    return record_json(redact_tokens(record))


def fingerprint(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of the record's content, independent of its keys' order; tokens redacted first."""
    return hashlib.sha256(record_json(redact_tokens(record), sort_keys=True).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Kept:
    """A record as keytrail keeps it: its text, its fingerprint, and whether it is plain.

    Plain means no session token anywhere and nesting no deeper than orjson is trusted with
    (:data:`~keytrail.rules.base.ORJSON_DEPTH`), so that the transform may write the record's
    parts without walking them again.
    """

    text: str
    sha256: str
    plain: bool


#: Any spelling of sessionToken in text that is not ASCII: re's case-insensitive match is at least
#: as wide as the str.lower() that redact_tokens uses (it also folds the Kelvin sign and long s).
_TOKEN_TEXT = re.compile("sessiontoken", re.IGNORECASE)


def keep(record: dict[str, Any], containers: int = 0) -> Kept:
    """The kept text and fingerprint of a (checked) record, computed once.

    Nearly every record is plain: serialised once by orjson, and a search of that text for a
    session token replaces the walk that redacts it. The text orjson writes escapes only
    quotes, backslashes and control characters, none a letter, so a token named in any key or
    string shows in it. Any other record takes the exact, slower path.

    ``containers`` is the count of the record's objects and arrays when the caller has it
    (:func:`~keytrail.loaders.records.examine_record`); with 0 it is counted here.
    """
    if (containers or _containers(record, ORJSON_DEPTH + 1)) <= ORJSON_DEPTH:
        try:
            text = orjson.dumps(record)
        except orjson.JSONEncodeError:
            text = b""  # an integer beyond 64 bits or a lone surrogate: the exact path writes those
        if text and not (b"sessiontoken" in text.lower() if text.isascii() else _TOKEN_TEXT.search(text.decode())):
            return Kept(text.decode(), hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest(), True)
    return Kept(kept_text(record), fingerprint(record), False)


def _containers(value: dict[str, Any], enough: int) -> int:
    """How many objects and arrays ``value`` holds, counting up to ``enough`` (a value nested n deep holds at least n)."""
    count = 0
    work: list[Any] = [value]
    while work and count < enough:
        item = work.pop()
        count += 1
        work.extend(inner for inner in (item.values() if isinstance(item, dict) else item) if isinstance(inner, dict | list))
    return count
