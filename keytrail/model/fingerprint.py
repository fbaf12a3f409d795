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


def _dumps(value: Any, *, sort_keys: bool) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except (TypeError, orjson.JSONEncodeError):
        # orjson refuses nesting deeper than 254 levels and integers beyond 64 bits; the standard library takes both.
        return json.dumps(value, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def kept_text(record: dict[str, Any]) -> str:
    """The record as read, as JSON text, session tokens redacted."""
    return _dumps(redact_tokens(record), sort_keys=False).decode("utf-8", "surrogatepass")


def fingerprint(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of the record's content, independent of its keys' order; tokens redacted first."""
    return hashlib.sha256(_dumps(redact_tokens(record), sort_keys=True)).hexdigest()
