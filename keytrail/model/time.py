"""CloudTrail's timestamps as canonical UTC text (``YYYY-MM-DDTHH:MM:SSZ``).

Canonical text is used everywhere (FalkorDB has no datetime type) because text order
is then time order on every store.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", re.ASCII)
_CANONICAL_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", re.ASCII)
#: ``expiration`` and ``createDate`` in responseElements: newer and older console styles.
_AWS_STYLES = ("%b %d, %Y, %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p")


def normalise_time(value: str) -> tuple[str, int]:
    """Parse a CloudTrail timestamp into canonical UTC text and epoch seconds.

    CloudTrail writes ``2026-01-07T02:25:18Z``; other pipelines add fractions or an
    offset.

    Raises:
        ValueError: if ``value`` is not an ISO 8601 timestamp that falls within years 1–9999 in UTC.
    """
    if _CANONICAL_RE.fullmatch(value):
        # CloudTrail's own form, nearly every record: the text is canonical already if it is a real time.
        try:
            return value, int(datetime.fromisoformat(value).timestamp())
        except ValueError:
            pass  # 2026-02-30 and the like: the path below says why
    match = _TIME_RE.match(value.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 time: {_quoted(value)}")
    year, month, day, hour, minute, second, _fraction, zone = match.groups()
    iso_zone = "+00:00" if zone in (None, "Z") else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        parsed = datetime.fromisoformat(f"{year}-{month}-{day}T{hour}:{minute}:{second}{iso_zone}")
        # Year 1 an hour east of UTC, or 9999 an hour west, is outside the years UTC text can hold.
        utc = parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a representable time: {_quoted(value)} ({exc})") from exc
    return canonical(utc), int(utc.timestamp())


def canonical(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of an aware or UTC time: always four digits of year, so that text order is time order.

    ``strftime("%Y")`` writes year 1 as ``1`` on glibc, which would sort after ``2026``.
    """
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"


def _quoted(value: str) -> str:
    # The time goes into a reason a person reads: a long value is cut, its start is enough to find it.
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


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


def parse_aws_time(value: Any) -> str | None:
    """Parse the ``expiration``/``createDate`` styles CloudTrail writes into canonical text.

    CloudTrail writes ``Nov 30, 2024, 8:43:17 PM`` (newer) or ``Jul 29, 2021 1:10:42 PM``
    (older) in responseElements; SDK-shaped records use ISO 8601.
    """
    if not isinstance(value, str) or not value:
        return None
    for fmt in _AWS_STYLES:
        try:
            return canonical(datetime.strptime(value, fmt))
        except ValueError:
            pass
    try:
        return normalise_time(value)[0]
    except ValueError:
        return None
