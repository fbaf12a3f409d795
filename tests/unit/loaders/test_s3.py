"""The S3 source against a real S3 API on loopback (moto in server mode): prefix pruning by
account, region and day, time filtering, organisation trails, resume, access denied,
missing buckets and throttling."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.stub import Stubber
from moto.core.authorization import enable_iam_authentication

from keytrail.loaders.aws import client_config
from keytrail.loaders.base import SourceError, SourceOptions, TimeWindow, parse_time
from keytrail.loaders.records import LoaderItem, Rejection, SkippedFile, SourceRecord
from keytrail.loaders.s3 import S3Source, delivered_at, parse_s3_uri
from keytrail.loaders.sources import check_options, kind_of, open_source
from keytrail.sample import cross_account_incident, synthetic_records, write_s3_layout

BUCKET = "trail-logs-keytrail"
ORG_BUCKET = "org-trail-logs-keytrail"
ORG = "o-a1b2c3d4e5"
FAKE: dict[str, Any] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
NAME_TIME = re.compile(r"_(\d{8}T\d{4}Z)_\w+\.json\.gz$")


@dataclass
class Bucket:
    """What was uploaded, for computing expectations independently of the source."""

    name: str
    keys: list[str]
    records: list[dict[str, Any]]


@dataclass
class Calls:
    """S3 requests a client made, by operation."""

    made: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.made if name == operation]


@pytest.fixture(scope="module")
def endpoint(moto_env: dict[str, str]) -> str:
    return moto_env["AWS_ENDPOINT_URL"]


def upload(client: Any, bucket: str, root: Path) -> list[str]:
    keys = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        keys.append(key)
    return keys


@pytest.fixture(scope="module")
def trail(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Bucket:
    """Three accounts, four regions, four days (2026-01-05 .. 08) in the plain trail layout."""
    records = list(synthetic_records(700, seed=3, start=datetime(2026, 1, 5, tzinfo=UTC), span=timedelta(days=4), accounts=3))
    root = tmp_path_factory.mktemp("trail")
    write_s3_layout(records, root, duplicate_every=97)
    client = boto3.client("s3", endpoint_url=endpoint, **FAKE)
    client.create_bucket(Bucket=BUCKET)
    return Bucket(BUCKET, upload(client, BUCKET, root), records)


@pytest.fixture(scope="module")
def org_trail(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Bucket:
    records = cross_account_incident().records
    root = tmp_path_factory.mktemp("org")
    write_s3_layout(records, root, org_id=ORG)
    client = boto3.client("s3", endpoint_url=endpoint, **FAKE)
    client.create_bucket(Bucket=ORG_BUCKET)
    return Bucket(ORG_BUCKET, upload(client, ORG_BUCKET, root), records)


def s3_client(endpoint: str, calls: Calls | None = None, **kwargs: Any) -> Any:
    client = boto3.client("s3", endpoint_url=endpoint, config=client_config(kwargs.pop("max_attempts", 10)), **(FAKE | kwargs))
    if calls is not None:

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            calls.made.append((model.name, dict(params)))

        client.meta.events.register("provide-client-params.s3.*", record)
    return client


def records(items: list[LoaderItem]) -> list[dict[str, Any]]:
    return [i.record for i in items if isinstance(i, SourceRecord)]


def window(start: str, end: str) -> TimeWindow:
    return TimeWindow(datetime.fromisoformat(start), datetime.fromisoformat(end))


class DictManifest:
    """An in-memory manifest: what the store would remember."""

    def __init__(self) -> None:
        self.objects: dict[str, str] = {}

    def complete(self, uris: Sequence[str]) -> dict[str, str]:
        return {u: self.objects[u] for u in uris if u in self.objects}

    def record(self, objects: Sequence[tuple[str, str, int]]) -> None:
        for uri, etag, _size in objects:
            self.objects[uri] = etag


def load_all(source: S3Source) -> list[LoaderItem]:
    """Consume a source the way a load does, telling it which origins were stored."""
    items = list(source)
    source.origins_loaded(sorted({i.origin for i in items if not isinstance(i, Rejection)}))
    return items


# --------------------------------------------------------------------------- pure helpers


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://my-trail") == ("my-trail", "")
    assert parse_s3_uri("s3://my-trail/AWSLogs/111122223333/") == ("my-trail", "AWSLogs/111122223333/")
    with pytest.raises(SourceError, match="bucket name"):
        parse_s3_uri("s3:///AWSLogs")


def test_delivery_time_comes_from_the_file_name() -> None:
    key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/07/111122223333_CloudTrail_us-east-1_20260107T0225Z_ab12CD34ef56GH78.json.gz"
    assert delivered_at(key) == datetime(2026, 1, 7, 2, 25, tzinfo=UTC)
    assert delivered_at("exports/records.json.gz") is None


# --------------------------------------------------------------------------- pruning and filtering


def test_lists_and_downloads_only_the_asked_slice(endpoint: str, trail: Bucket) -> None:
    account = sorted({r["recipientAccountId"] for r in trail.records})[1]
    calls = Calls()
    asked = window("2026-01-06T10:00:00+00:00", "2026-01-06T14:00:00+00:00")
    source = S3Source(trail.name, client=s3_client(endpoint, calls), window=asked, accounts=[account], regions=["us-east-1"], workers=4)
    got = records(list(source))

    # Listing: the account's two day folders (the window's day and one day of margin), nothing else.
    listed = {(p["Prefix"], p.get("Delimiter")) for p in calls.of("ListObjectsV2")}
    folder = f"AWSLogs/{account}/CloudTrail/us-east-1/2026/01"
    assert listed == {("AWSLogs/", "/"), (f"{folder}/06/", None), (f"{folder}/07/", None)}

    # Downloads: that account and region, delivered from the window's start to a day after its end.
    def delivered(key: str) -> datetime:
        match = NAME_TIME.search(key)
        assert match is not None
        return datetime.strptime(match.group(1), "%Y%m%dT%H%MZ").replace(tzinfo=UTC)

    end = asked.end
    assert asked.start is not None and end is not None
    expected_keys = {
        k
        for k in trail.keys
        if k.startswith(f"AWSLogs/{account}/CloudTrail/us-east-1/")
        and asked.start < delivered(k) + timedelta(minutes=1)
        and delivered(k) <= end + timedelta(days=1)
    }
    downloaded = {p["Key"] for p in calls.of("GetObject")}
    assert downloaded == expected_keys and downloaded

    # Records: exactly those of that account and region inside the window.
    inside = [
        r
        for r in trail.records
        if r["recipientAccountId"] == account and r["awsRegion"] == "us-east-1" and "2026-01-06T10:00:00Z" <= r["eventTime"] <= "2026-01-06T14:00:00Z"
    ]
    assert {r["eventID"] for r in got} == {r["eventID"] for r in inside} and inside
    assert all("2026-01-06T10:00:00Z" <= r["eventTime"] <= "2026-01-06T14:00:00Z" for r in got)
    # Everything else in the downloaded files is counted apart, never yielded.
    assert source.progress.outside_window > 0
    assert source.progress.downloaded == len(expected_keys)
    assert source.progress.pruned > 0


def test_discovers_accounts_and_regions_when_not_given(endpoint: str, trail: Bucket) -> None:
    calls = Calls()
    asked = window("2026-01-08T23:00:00+00:00", "2026-01-08T23:59:59+00:00")
    source = S3Source(trail.name, client=s3_client(endpoint, calls), window=asked)
    got = records(list(source))
    accounts = sorted({r["recipientAccountId"] for r in trail.records})
    discovery = sorted(p["Prefix"] for p in calls.of("ListObjectsV2") if p.get("Delimiter"))
    assert discovery == sorted(["AWSLogs/"] + [f"AWSLogs/{a}/CloudTrail/" for a in accounts])
    day_prefixes = {p["Prefix"] for p in calls.of("ListObjectsV2") if not p.get("Delimiter")}
    assert all(re.search(r"/2026/01/(08|09)/$", p) for p in day_prefixes)
    expected = {r["eventID"] for r in trail.records if r["eventTime"] >= "2026-01-08T23:00:00Z"}
    assert {r["eventID"] for r in got} == expected and expected


def test_organisation_trail_layout(endpoint: str, org_trail: Bucket) -> None:
    calls = Calls()
    source = S3Source(org_trail.name, client=s3_client(endpoint, calls), window=window("2026-01-07T00:00:00+00:00", "2026-01-07T23:59:59+00:00"))
    items = list(source)
    assert {r["eventID"] for r in records(items)} == {r["eventID"] for r in org_trail.records}
    delimited = {p["Prefix"] for p in calls.of("ListObjectsV2") if p.get("Delimiter")}
    assert {"AWSLogs/", f"AWSLogs/{ORG}/"} <= delimited
    assert all(k.startswith(f"AWSLogs/{ORG}/") and "/CloudTrail/" in k for k in (p["Key"] for p in calls.of("GetObject")))
    assert not any("Digest" in p["Key"] for p in calls.of("GetObject"))
    assert all(i.origin.startswith(f"s3://{org_trail.name}/AWSLogs/{ORG}/") for i in items)


def test_org_id_and_account_need_no_discovery(endpoint: str, org_trail: Bucket) -> None:
    account = sorted({r["recipientAccountId"] for r in org_trail.records})[0]
    calls = Calls()
    source = S3Source(
        org_trail.name,
        client=s3_client(endpoint, calls),
        window=window("2026-01-07T00:00:00+00:00", "2026-01-07T23:59:59+00:00"),
        org_id=ORG,
        accounts=[account],
        regions=["us-west-2"],
    )
    got = records(list(source))
    assert not [p for p in calls.of("ListObjectsV2") if p.get("Delimiter")]
    assert {r["eventID"] for r in got} == {r["eventID"] for r in org_trail.records if r["recipientAccountId"] == account and r["awsRegion"] == "us-west-2"}


def test_a_prefix_into_the_tree_narrows_the_listing(endpoint: str, org_trail: Bucket) -> None:
    account = sorted({r["recipientAccountId"] for r in org_trail.records})[1]
    calls = Calls()
    source = S3Source(org_trail.name, f"AWSLogs/{ORG}/{account}/CloudTrail/eu-west-1/", client=s3_client(endpoint, calls))
    got = records(list(source))
    assert {p["Prefix"] for p in calls.of("ListObjectsV2")} == {f"AWSLogs/{ORG}/{account}/CloudTrail/eu-west-1/"}
    assert {r["eventID"] for r in got} == {r["eventID"] for r in org_trail.records if r["recipientAccountId"] == account and r["awsRegion"] == "eu-west-1"}
    with pytest.raises(SourceError, match="--account"):
        list(S3Source(org_trail.name, f"AWSLogs/{ORG}/{account}/", client=s3_client(endpoint), accounts=["999999999999"]))


def test_a_bucket_without_the_layout_is_listed_as_it_is(endpoint: str, tmp_path: Path) -> None:
    client = s3_client(endpoint)
    client.create_bucket(Bucket="flat-exports-keytrail")
    events = cross_account_incident().records[:20]
    client.put_object(Bucket="flat-exports-keytrail", Key="exports/part-1.jsonl", Body="\n".join(json.dumps(r) for r in events).encode())
    client.put_object(Bucket="flat-exports-keytrail", Key="exports/CloudTrail-Digest/x.json.gz", Body=b"{}")
    source = S3Source("flat-exports-keytrail", "exports", client=client)
    items = list(source)
    assert source.progress.layout == "flat"
    assert [r["eventID"] for r in records(items)] == [r["eventID"] for r in events]
    assert [i.reason for i in items if isinstance(i, SkippedFile)] == ["CloudTrail digest file"]


def test_in_flight_downloads_are_bounded(endpoint: str, trail: Bucket) -> None:
    calls = Calls()
    account = sorted({r["recipientAccountId"] for r in trail.records})[0]
    source = S3Source(trail.name, client=s3_client(endpoint, calls), accounts=[account], regions=["us-west-2"], workers=2, max_in_flight=3)
    iterator = iter(source)
    next(iterator)
    assert len(calls.of("GetObject")) <= 3
    rest = list(iterator)
    assert len(calls.of("GetObject")) == source.progress.downloaded > 3
    assert rest


# --------------------------------------------------------------------------- resume


def test_resume_downloads_nothing_twice(endpoint: str, trail: Bucket) -> None:
    account = sorted({r["recipientAccountId"] for r in trail.records})[2]
    manifest = DictManifest()
    whole_day = window("2026-01-05T00:00:00+00:00", "2026-01-06T23:59:59+00:00")

    def source(calls: Calls) -> S3Source:
        return S3Source(trail.name, client=s3_client(endpoint, calls), window=whole_day, accounts=[account], regions=["eu-west-1"], manifest=manifest)

    # An interrupted load: only the first origins were stored before it stopped.
    first_calls = Calls()
    first = source(first_calls)
    taken: list[LoaderItem] = []
    for item in first:
        taken.append(item)
        if len({i.origin for i in taken}) == 4:
            break
    first.origins_loaded(sorted({i.origin for i in taken})[:3])
    assert len(manifest.objects) == 3

    second_calls = Calls()
    second = source(second_calls)
    load_all(second)
    downloaded = {f"s3://{trail.name}/{p['Key']}" for p in second_calls.of("GetObject")}
    assert not downloaded & set(list(manifest.objects)[:3])
    assert second.progress.already_loaded == 3

    # Objects holding records outside the window (the margin day) are never recorded complete.
    third_calls = Calls()
    third = source(third_calls)
    assert records(load_all(third)) == []
    partial = {p["Key"] for p in third_calls.of("GetObject")}
    assert third.progress.outside_window > 0
    assert all("/2026/01/07/" in k for k in partial) and partial


def test_a_replaced_object_is_read_again(endpoint: str) -> None:
    client = s3_client(endpoint)
    client.create_bucket(Bucket="replaced-keytrail")
    key = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/01/07/111111111111_CloudTrail_us-east-1_20260107T0005Z_abcdefabcdefabcd.json.gz"
    events = [r for r in cross_account_incident().records if r["recipientAccountId"] == "111111111111"][:3]
    client.put_object(Bucket="replaced-keytrail", Key=key, Body=json.dumps({"Records": events[:2]}).encode())
    manifest = DictManifest()
    assert len(records(load_all(S3Source("replaced-keytrail", client=client, manifest=manifest)))) == 2
    assert records(load_all(S3Source("replaced-keytrail", client=client, manifest=manifest))) == []
    client.put_object(Bucket="replaced-keytrail", Key=key, Body=json.dumps({"Records": events}).encode())
    assert len(records(load_all(S3Source("replaced-keytrail", client=client, manifest=manifest)))) == 3


# --------------------------------------------------------------------------- errors


def test_missing_bucket(endpoint: str) -> None:
    with pytest.raises(SourceError, match="bucket does not exist"):
        list(S3Source("no-such-bucket-keytrail", client=s3_client(endpoint)))


@pytest.fixture
def restricted_user(endpoint: str, trail: Bucket) -> Iterator[dict[str, Any]]:
    """An IAM user allowed to list the trail bucket but not to read its objects; IAM enforced meanwhile."""
    iam = boto3.client("iam", endpoint_url=endpoint, **FAKE)
    name = f"responder-{uuid.uuid4().hex[:12]}"
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{trail.name}"}]}
    iam.put_user_policy(UserName=name, PolicyName="list-only", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    with enable_iam_authentication():
        yield {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def test_access_denied_on_download(endpoint: str, trail: Bucket, restricted_user: dict[str, Any]) -> None:
    source = S3Source(
        trail.name,
        client=s3_client(endpoint, **restricted_user),
        regions=["us-east-1"],
        window=window("2026-01-05T00:00:00+00:00", "2026-01-05T01:00:00+00:00"),
    )
    with pytest.raises(SourceError, match=r"access denied while downloading s3://trail-logs-keytrail/AWSLogs/.*AccessDenied"):
        list(source)


def test_access_denied_on_listing(endpoint: str, org_trail: Bucket, restricted_user: dict[str, Any]) -> None:
    with pytest.raises(SourceError, match=r"access denied while listing s3://org-trail-logs-keytrail/AWSLogs/"):
        list(S3Source(org_trail.name, client=s3_client(endpoint, **restricted_user)))


def _slow_down(**_: Any) -> AWSResponse:
    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"

    return AWSResponse("http://s3", 503, HTTPHeaders(), Raw())


def test_throttling_is_retried(endpoint: str, trail: Bucket) -> None:
    client = s3_client(endpoint, max_attempts=3)
    throttled: list[str] = []

    def once(request: Any, **_: Any) -> AWSResponse | None:
        if throttled:
            return None
        throttled.append(request.url)
        return _slow_down()

    client.meta.events.register("before-send.s3.ListObjectsV2", once)
    account = sorted({r["recipientAccountId"] for r in trail.records})[0]
    source = S3Source(
        trail.name, client=client, accounts=[account], regions=["us-east-1"], window=window("2026-01-05T00:00:00+00:00", "2026-01-05T12:00:00+00:00")
    )
    assert records(list(source))
    assert len(throttled) == 1


def test_throttling_past_the_retries_is_a_clear_error(endpoint: str, trail: Bucket) -> None:
    client = s3_client(endpoint, max_attempts=2)
    client.meta.events.register("before-send.s3.ListObjectsV2", _slow_down)
    with pytest.raises(SourceError, match=r"throttled by AWS while listing .* after 2 attempts \(SlowDown\)"):
        list(S3Source(trail.name, client=client))


def test_stubbed_errors_name_what_failed() -> None:
    client = boto3.client("s3", **FAKE)
    with Stubber(client) as stub:
        stub.add_client_error("list_objects_v2", service_error_code="AllAccessDisabled", http_status_code=403)
        with pytest.raises(SourceError, match="access denied while listing s3://some-bucket-keytrail/AWSLogs/"):
            list(S3Source("some-bucket-keytrail", client=client))


# --------------------------------------------------------------------------- what every source shares (loaders/base.py, loaders/sources.py)


def test_times_on_the_command_line() -> None:
    assert parse_time("2026-01-07") == datetime(2026, 1, 7, tzinfo=UTC)
    assert parse_time("2026-01-07", end=True) == datetime(2026, 1, 7, 23, 59, 59, tzinfo=UTC)
    assert parse_time("2026-01-07T03:00:00+02:00") == datetime(2026, 1, 7, 1, 0, tzinfo=UTC)
    assert parse_time("2026-01-07T03:00:00Z") == parse_time("2026-01-07T03:00:00") == datetime(2026, 1, 7, 3, 0, tzinfo=UTC)
    with pytest.raises(SourceError, match="not an ISO 8601"):
        parse_time("yesterday")
    with pytest.raises(SourceError, match="is after --end"):
        TimeWindow(datetime(2026, 1, 8, tzinfo=UTC), datetime(2026, 1, 7, tzinfo=UTC))


def test_days_of_a_window_include_the_late_delivery_margin() -> None:
    evening = window("2026-01-06T10:00:00+00:00", "2026-01-07T20:00:00+00:00")
    assert [f"{d:%d}" for d in evening.days(1)] == ["06", "07", "08"]
    assert [f"{d:%d}" for d in evening.days(0.25)] == ["06", "07", "08"]
    morning = window("2026-01-07T01:00:00+00:00", "2026-01-07T10:00:00+00:00")
    assert [f"{d:%d}" for d in morning.days(0.25)] == ["07"]
    open_end = TimeWindow(datetime(2026, 1, 7, tzinfo=UTC))
    assert [f"{d:%d}" for d in open_end.days(0, now=datetime(2026, 1, 9, 5, tzinfo=UTC))] == ["07", "08", "09"]


def test_options_that_do_not_apply_are_refused() -> None:
    with pytest.raises(SourceError, match="--org-id does not apply to lookup-events"):
        check_options(kind_of("lookup-events"), SourceOptions(org_id="o-a1b2c3d4e5"))
    with pytest.raises(SourceError, match="--workgroup does not apply to s3"):
        open_source("s3://some-bucket-keytrail", SourceOptions(workgroup="primary"))
    with pytest.raises(SourceError, match="12 digits"):
        check_options(kind_of("s3://b"), SourceOptions(accounts=("1111",)))
    with pytest.raises(SourceError, match="not an access key id"):
        check_options(kind_of("athena://d.t"), SourceOptions(keys=("akia' or 1=1",), all_time=True))
    with pytest.raises(SourceError, match="without a time window"):
        check_options(kind_of("athena://d.t"), SourceOptions())
    check_options(kind_of("s3://b"), SourceOptions(accounts=("111122223333",), regions=("eu-west-1",), org_id="o-a1b2c3d4e5"))
    assert [kind_of(t).name for t in ("./logs", "s3://b", "athena://d.t", "lookup-events")] == ["path", "s3", "athena", "lookup-events"]


def test_a_trail_key_prefix_comes_before_awslogs() -> None:
    asked = window("2026-01-07T22:00:00+00:00", "2026-01-07T23:00:00+00:00")
    fixed = S3Source("b-keytrail", "team/trails/AWSLogs/111122223333/CloudTrail/eu-west-1", client=object(), window=asked, margin_days=0.5)
    # Everything is named: no listing is needed to plan (the client is not even an S3 client).
    assert fixed.plan() == [f"team/trails/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/{day}/" for day in ("07", "08")]
    below = S3Source("b-keytrail", "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/", client=object())
    assert below.plan() == ["AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/"] and below.progress.layout == "flat"


def test_a_time_outside_the_representable_years_is_a_clear_error() -> None:
    for text in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        with pytest.raises(SourceError, match="not a representable time"):
            parse_time(text)
