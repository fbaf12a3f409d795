"""The LookupEvents source against stubbed CloudTrail clients (botocore Stubber): pagination,
one call series per access key, the per-region rate limit, and errors."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from keytrail.loaders.base import SourceError, TimeWindow
from keytrail.loaders.lookup_events import PAGE_SIZE, LookupEventsSource, TokenBucket
from keytrail.loaders.records import Rejection, SourceRecord
from keytrail.sample import workshop_incident, write_lookup_events

START = datetime(2026, 1, 7, tzinfo=UTC)
END = datetime(2026, 1, 7, 23, 59, 59, tzinfo=UTC)


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def instant() -> dict[str, Any]:
    """Clock and sleep for a source whose waits take no real time."""
    fake = FakeClock()
    return {"clock": fake.clock, "sleep": fake.sleep}


def client(region: str = "us-east-1") -> Any:
    return boto3.client("cloudtrail", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")


def lookup_events(tmp_path: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What LookupEvents returns for these records, newest first, with EventTime as botocore parses it."""
    path = tmp_path / "lookup.json"
    write_lookup_events(records, path)
    events: list[dict[str, Any]] = json.loads(path.read_text())["Events"]
    for event in events:
        event["EventTime"] = datetime.fromisoformat(event["EventTime"])
    return events


def pages(events: list[dict[str, Any]], size: int = PAGE_SIZE) -> list[list[dict[str, Any]]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def stub_series(stub: Stubber, events: list[dict[str, Any]], expected: dict[str, Any]) -> int:
    """Queue one paginated call series; return how many calls it takes."""
    chunks = pages(events) or [[]]
    for number, chunk in enumerate(chunks):
        response: dict[str, Any] = {"Events": chunk}
        if number + 1 < len(chunks):
            response["NextToken"] = f"token-{number + 1}"
        params = dict(expected)
        if number:
            params["NextToken"] = f"token-{number}"
        stub.add_response("lookup_events", response, params)
    return len(chunks)


def test_token_bucket_holds_the_rate() -> None:
    fake = FakeClock()
    bucket = TokenBucket(2.0, clock=fake.clock, sleep=fake.sleep)
    times = []
    for _ in range(7):
        bucket.acquire()
        times.append(fake.now)
    assert times[0] == 100.0
    # Never more than two requests in any one second.
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[2:], strict=False))
    assert fake.now - 100.0 == pytest.approx(3.0)


def test_token_bucket_refills_while_idle() -> None:
    fake = FakeClock()
    bucket = TokenBucket(2.0, burst=2.0, clock=fake.clock, sleep=fake.sleep)
    bucket.acquire()
    bucket.acquire()
    fake.now += 10.0
    assert bucket.acquire() == 0.0 and bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(0.5)


def test_pages_through_every_event_within_the_rate_limit(tmp_path: Path) -> None:
    records = [r for r in workshop_incident().records if r.get("managementEvent") is not False]
    events = lookup_events(tmp_path, records)
    assert len(events) > 2 * PAGE_SIZE
    cloudtrail = client()
    fake = FakeClock()
    sent: list[float] = []
    cloudtrail.meta.events.register("provide-client-params.cloudtrail.LookupEvents", lambda **_: sent.append(fake.now))
    with Stubber(cloudtrail) as stub:
        calls = stub_series(stub, events, {"MaxResults": PAGE_SIZE, "StartTime": START, "EndTime": END})
        source = LookupEventsSource({"us-east-1": cloudtrail}, window=TimeWindow(START, END), clock=fake.clock, sleep=fake.sleep)
        items = list(source)
        stub.assert_no_pending_responses()
    assert len(sent) == calls == source.progress.requests
    assert all(later - earlier >= 0.5 for earlier, later in itertools.pairwise(sent))
    assert all(isinstance(i, SourceRecord) and i.origin == "lookup-events:us-east-1" for i in items)
    assert [i.index for i in items if isinstance(i, SourceRecord)] == list(range(len(records)))
    assert sorted(i.record["eventID"] for i in items if isinstance(i, SourceRecord)) == sorted(r["eventID"] for r in records)
    # The records are the CloudTrail records themselves, not the LookupEvents summaries.
    first = next(i.record for i in items if isinstance(i, SourceRecord))
    assert "userIdentity" in first and "EventId" not in first


def test_one_call_series_per_access_key(tmp_path: Path) -> None:
    incident = workshop_incident()
    facts = incident.facts
    by_key = {
        key: [r for r in incident.records if (r.get("userIdentity") or {}).get("accessKeyId") == key]
        for key in (facts.leaked_key.access_key_id, facts.active_key.access_key_id, facts.dormant_key.access_key_id)
    }
    cloudtrail = client()
    with Stubber(cloudtrail) as stub:
        for key, found in by_key.items():
            stub_series(
                stub, lookup_events(tmp_path, found), {"MaxResults": PAGE_SIZE, "LookupAttributes": [{"AttributeKey": "AccessKeyId", "AttributeValue": key}]}
            )
        items = list(LookupEventsSource({"us-east-1": cloudtrail}, keys=list(by_key), **instant()))
        stub.assert_no_pending_responses()
    got = sorted(i.record["eventID"] for i in items if isinstance(i, SourceRecord))
    assert got == sorted(r["eventID"] for found in by_key.values() for r in found)
    assert len(by_key[facts.active_key.access_key_id]) == 5 and not by_key[facts.dormant_key.access_key_id]


def test_each_region_has_its_own_client_and_origin(tmp_path: Path) -> None:
    records = [r for r in workshop_incident().records if r.get("managementEvent") is not False]
    clients = {"us-east-1": client("us-east-1"), "us-west-2": client("us-west-2")}
    stubs = {region: Stubber(c) for region, c in clients.items()}
    for region, stub in stubs.items():
        stub_series(stub, lookup_events(tmp_path, [r for r in records if r["awsRegion"] == region]), {"MaxResults": PAGE_SIZE})
        stub.activate()
    items = list(LookupEventsSource(clients, **instant()))
    origins = {i.origin for i in items}
    assert origins == {"lookup-events:us-east-1", "lookup-events:us-west-2"}
    for region in clients:
        expected = sorted(r["eventID"] for r in records if r["awsRegion"] == region)
        assert sorted(i.record["eventID"] for i in items if isinstance(i, SourceRecord) and i.origin.endswith(region)) == expected


def test_unreadable_entries_are_rejected_with_the_reason() -> None:
    cloudtrail = client()
    with Stubber(cloudtrail) as stub:
        good = json.dumps({"eventID": "e1", "eventTime": "2026-01-07T02:25:18Z", "eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity"})
        stub.add_response(
            "lookup_events",
            {"Events": [{"EventId": "e1", "CloudTrailEvent": good}, {"EventId": "e2", "CloudTrailEvent": "{not json"}, {"EventId": "e3"}]},
            {"MaxResults": PAGE_SIZE},
        )
        items = list(LookupEventsSource({"us-east-1": cloudtrail}, **instant()))
    assert isinstance(items[0], SourceRecord)
    assert isinstance(items[1], Rejection) and "not JSON" in items[1].reason and items[1].index == 1
    assert isinstance(items[2], Rejection) and "without a CloudTrailEvent" in items[2].reason


def test_records_outside_the_window_are_dropped_and_counted() -> None:
    cloudtrail = client()
    late = json.dumps({"eventID": "late", "eventTime": "2026-01-08T00:00:01Z", "eventSource": "iam.amazonaws.com", "eventName": "ListUsers"})
    inside = json.dumps({"eventID": "in", "eventTime": "2026-01-07T12:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": "ListUsers"})
    with Stubber(cloudtrail) as stub:
        stub.add_response(
            "lookup_events", {"Events": [{"CloudTrailEvent": late}, {"CloudTrailEvent": inside}]}, {"MaxResults": PAGE_SIZE, "StartTime": START, "EndTime": END}
        )
        source = LookupEventsSource({"us-east-1": cloudtrail}, window=TimeWindow(START, END), **instant())
        items = list(source)
    assert [i.record["eventID"] for i in items if isinstance(i, SourceRecord)] == ["in"]
    assert source.progress.outside_window == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "access denied while calling CloudTrail LookupEvents in eu-west-1"),
        ("ThrottlingException", "throttled by AWS while calling CloudTrail LookupEvents in eu-west-1"),
        ("InvalidTimeRangeException", "AWS error while calling CloudTrail LookupEvents in eu-west-1: InvalidTimeRangeException"),
    ],
)
def test_errors_are_clear(code: str, message: str) -> None:
    cloudtrail = client("eu-west-1")
    with Stubber(cloudtrail) as stub:
        stub.add_client_error("lookup_events", service_error_code=code, service_message="no")
        with pytest.raises(SourceError, match=message):
            list(LookupEventsSource({"eu-west-1": cloudtrail}, **instant()))
