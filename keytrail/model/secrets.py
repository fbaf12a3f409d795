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
    """``value`` with every session token replaced by ``<redacted>``: in objects at any depth, and in JSON text.

    The copy is made with a stack of its own, not by recursion: a record may be nested deeper than Python recurses.
    """
    top: list[Any] = [None]
    # (container of the copy, where in it, the original value that goes there)
    work: list[tuple[Any, Any, Any]] = [(top, 0, value)]
    while work:
        into, where, item = work.pop()
        if isinstance(item, dict):
            copy: dict[Any, Any] = dict.fromkeys(item)
            into[where] = copy
            for key, inner in item.items():
                if isinstance(key, str) and key.lower() == "sessiontoken":
                    copy[key] = REDACTED
                else:
                    work.append((copy, key, inner))
        elif isinstance(item, list):
            listed: list[Any] = [None] * len(item)
            into[where] = listed
            work.extend((listed, index, inner) for index, inner in enumerate(item))
        elif isinstance(item, str) and "essiontoken" in item.lower():
            into[where] = _IN_TEXT.sub(lambda m: f'{m.group(1)}"{REDACTED}"', item)
        else:
            into[where] = item
    return top[0]
