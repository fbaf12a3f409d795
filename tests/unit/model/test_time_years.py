"""Times at the ends of the calendar: four-digit canonical text, or a reason naming the field, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keytrail.graph.transform import event_rows
from keytrail.loaders.records import check_record
from keytrail.model.time import normalise_time, parse_aws_time


def _record(stamp: str) -> dict[str, Any]:
    return {"eventID": "e", "eventTime": stamp, "eventSource": "iam.amazonaws.com", "eventName": "CreateUser"}


#: Times at the ends of the calendar, as text, and their canonical UTC text; None: no UTC text of four-digit years holds them.
ENDS = [
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    ("0001-01-01T02:00:00+01:00", "0001-01-01T01:00:00Z"),
    ("0042-06-01 12:00:00", "0042-06-01T12:00:00Z"),
    ("0999-12-31T23:30:00-01:00", "1000-01-01T00:30:00Z"),
    ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
    ("0001-01-01T00:00:00+01:00", None),
    ("0001-01-01T00:59:59+01:00", None),
    ("9999-12-31T23:59:59-01:00", None),
    ("0000-01-01T00:00:00Z", None),
]


def test_times_at_the_ends_of_the_calendar_are_four_digit_utc_text_or_refused_naming_the_field() -> None:
    for stamp, expected in ENDS:
        reason = check_record(_record(stamp))
        if expected is None:
            assert reason is not None and "eventTime" in reason and stamp in reason
            continue
        assert reason is None
        props = event_rows(_record(stamp), origin="t", index=0, incident="t", run_id="r")["merge_events"][0]["props"]
        # Four digits of year, or year 1 would sort after 2026: text order is time order on both stores.
        assert props["eventTime"] == expected, stamp
    accepted = sorted((stamp for stamp, expected in ENDS if expected), key=lambda stamp: normalise_time(stamp)[1])
    assert [normalise_time(stamp)[0] for stamp in accepted] == sorted(normalise_time(stamp)[0] for stamp in accepted)


def test_response_times_of_early_years_keep_four_digits() -> None:
    assert parse_aws_time("Jan 02, 0005, 1:10:42 PM") == "0005-01-02T13:10:42Z"


def test_the_reason_shows_a_long_time_value_cut_short() -> None:
    stamp = "2026-01-07T02:25:18Z" + "x" * 100_000
    reason = check_record(_record(stamp))
    assert reason is not None and "eventTime" in reason and stamp[:40] in reason
    assert len(reason) < 300
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        normalise_time(stamp)


@pytest.mark.parametrize("stamp", ["２０２６-01-07T02:25:18Z", "2026-01-07T02:25:1٨Z"])
def test_digits_of_other_scripts_are_not_iso_8601(stamp: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        normalise_time(stamp)


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_cloudtrails_own_form_reads_as_the_same_time_written_any_other_way(moment: datetime) -> None:
    # CloudTrail's form takes a quicker path; written with an offset, the same moment takes the general one.
    own = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    assert normalise_time(own) == normalise_time(own[:-1] + "+00:00") == (own, int(moment.replace(microsecond=0, tzinfo=UTC).timestamp()))


@pytest.mark.parametrize("stamp", ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z"])
def test_a_time_of_cloudtrails_form_that_is_no_real_time_is_refused(stamp: str) -> None:
    with pytest.raises(ValueError, match="not a representable time"):
        normalise_time(stamp)
