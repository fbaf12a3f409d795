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
from typing import Any

import orjson

from keytrail.model.secrets import redact_tokens
from keytrail.rules.base import json_text


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
