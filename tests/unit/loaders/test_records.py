"""The single gate deciding whether a record can be loaded."""

from __future__ import annotations

from typing import Any

import pytest

from keytrail.loaders.records import check_record, normalise_time


def good(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventID": "e1",
        "eventTime": "2026-01-07T02:25:18Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateAccessKey",
        "userIdentity": {"type": "IAMUser"},
        "readOnly": False,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def test_a_real_shaped_record_passes() -> None:
    assert check_record(good()) is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (good(eventID=...), "missing eventID"),
        (good(eventID=""), "eventID must be a non-empty string"),
        (good(eventTime=...), "missing eventTime"),
        (good(eventTime="yesterday"), "not an ISO 8601 time"),
        (good(eventTime=1700000000), "eventTime must be a string"),
        (good(eventName=...), "missing eventName"),
        (good(userIdentity="alice"), "userIdentity must be an object"),
        (good(userIdentity={"type": "IAMUser", "accessKeyId": 5}), "userIdentity.accessKeyId must be a string"),
        (good(sourceIPAddress=["1.2.3.4"]), "sourceIPAddress must be a string"),
        (good(resources={"ARN": "x"}), "resources must be a list of objects"),
        (good(readOnly="maybe"), "readOnly must be a boolean"),
        (["not", "a", "record"], "must be a JSON object"),
    ],
)
def test_bad_records_are_refused_with_the_reason(record: Any, reason: str) -> None:
    result = check_record(record)
    assert result is not None and reason in result


def test_logstash_timestamp_stands_in_for_a_missing_event_time() -> None:
    assert check_record(good(eventTime=..., **{"@timestamp": "2020-09-14T01:02:34.000Z"})) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-07T02:25:18Z", "2026-01-07T02:25:18Z"),
        ("2026-01-07T02:25:18.123Z", "2026-01-07T02:25:18Z"),
        ("2026-01-07T04:25:18+02:00", "2026-01-07T02:25:18Z"),
        ("2026-01-07 02:25:18", "2026-01-07T02:25:18Z"),
    ],
)
def test_times_become_canonical_utc_text(text: str, expected: str) -> None:
    assert normalise_time(text)[0] == expected
