"""Bearer secrets in CloudTrail records, and how keytrail keeps them out of everything it writes.

An STS session token in a record (``responseElements.credentials.sessionToken`` of every
``AssumeRole`` and ``GetSessionToken``) lets whoever reads it act as that session until it
expires. No analysis needs it, so it is never stored, nor written to the rejects file.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"
#: A sessionToken field written as JSON text (a rejected line that did not parse, a field kept as a string).
_IN_TEXT = re.compile(r'("sessionToken"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)


def redact_tokens(value: Any) -> Any:
    """``value`` with every session token replaced by ``<redacted>``: in objects at any depth, and in JSON text."""
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and k.lower() == "sessiontoken" else redact_tokens(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tokens(v) for v in value]
    if isinstance(value, str) and "essiontoken" in value.lower():
        return _IN_TEXT.sub(lambda m: f'{m.group(1)}"{REDACTED}"', value)
    return value
