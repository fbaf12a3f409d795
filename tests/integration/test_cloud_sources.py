"""Each cloud source loads the workshop incident as the files do: the same `stats` and the same
answers to the workshop's questions, on both stores. S3 and Athena are real APIs on loopback
(moto in server mode, reached through AWS_ENDPOINT_URL as a user's shell would); LookupEvents,
which moto does not serve, is a botocore Stubber. Also: resume, and the CLI's exits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.graph.backends import Backend
from keytrail.graph.runner import BOOKKEEPING_LABELS, BOOKKEEPING_TYPES, reset_store, run_query, store_stats
from keytrail.ingest import Ingest, LoadSummary, ObjectManifest, new_run_id
from keytrail.loaders.athena import AthenaSource
from keytrail.loaders.aws import client_config
from keytrail.loaders.base import SourceOptions, TimeWindow
from keytrail.loaders.files import FileSource
from keytrail.loaders.lookup_events import PAGE_SIZE, LookupEventsSource
from keytrail.loaders.records import LoaderItem
from keytrail.loaders.s3 import S3Source
from keytrail.sample import WorkshopFacts, workshop_incident, write_jsonl, write_lookup_events, write_s3_layout

from ..support import DOCS_TABLE_COLUMNS, docs_table_input

INCIDENT = "workshop"
BUCKET = "workshop-trail-keytrail"
DAY = TimeWindow(datetime(2026, 1, 7, tzinfo=UTC), datetime(2026, 1, 7, 23, 59, 59, tzinfo=UTC))


@pytest.fixture(scope="module")
def aws(moto_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The session's moto, the environment that points boto3 at it, and the workshop's trail bucket and table."""
    env = dict(moto_env)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        session = boto3.Session()
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.create_bucket(Bucket="athena-results-keytrail")
        root = tmp_path_factory.mktemp("bucket")
        for path in write_s3_layout(workshop_incident().records, root, duplicate_every=13):
            s3.put_object(Bucket=BUCKET, Key=path.relative_to(root).as_posix(), Body=path.read_bytes())
        glue = session.client("glue")
        glue.create_database(DatabaseInput={"Name": "trail"})
        glue.create_table(
            DatabaseName="trail",
            TableInput=docs_table_input(),
        )
        yield env


# --------------------------------------------------------------------------- what Athena returns


def _render(value: Any, hive: str) -> Any:
    """json_format(CAST(value AS JSON)) for the few ROW/ARRAY types of DOCS_TABLE_COLUMNS: lower-case declared fields, nulls kept."""
    if value is None:
        return None
    if hive.startswith("array<"):
        return [_render(v, hive[len("array<") : -1]) for v in value]
    if hive.startswith("struct<"):
        lowered = {k.lower(): v for k, v in value.items()}
        return {name: _render(lowered.get(name), inner) for name, inner in _fields(hive)}
    return value


def _fields(hive: str) -> list[tuple[str, str]]:
    body, fields, depth, start = hive[len("struct<") : -1], [], 0, 0
    for at, char in enumerate(body + ","):
        depth += char == "<"
        depth -= char == ">"
        if char == "," and depth == 0:
            name, _, inner = body[start:at].partition(":")
            fields.append((name, inner))
            start = at + 1
    return fields


def athena_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        lowered = {k.lower(): v for k, v in record.items()}
        row: dict[str, Any] = {}
        for name, hive in DOCS_TABLE_COLUMNS:
            value = lowered.get(name)
            if value is None:
                row[name] = None
            elif hive != "string":
                row[name] = json.dumps(_render(value, hive))
            elif isinstance(value, bool):
                row[name] = "true" if value else "false"
            else:
                row[name] = value if isinstance(value, str) else json.dumps(value)
        rows.append(row)
    return rows


def seed_athena(endpoint: str, records: list[dict[str, Any]]) -> None:
    names = [n for n, _ in DOCS_TABLE_COLUMNS]
    result = {
        "rows": [{"Data": [{"VarCharValue": n} for n in names]}]
        + [{"Data": [{} if row[n] is None else {"VarCharValue": row[n]} for n in names]} for row in athena_rows(records)],
        "column_info": [{"Name": n, "Label": n, "Type": "varchar", "Precision": 2147483647, "Scale": 0, "Nullable": "UNKNOWN"} for n in names],
    }
    response = requests.post(f"{endpoint}/moto-api/static/athena/query-results", json={"region": "us-east-1", "results": [result]}, timeout=10)
    assert response.status_code == 201


# --------------------------------------------------------------------------- loads and what they give


def run_load(backend: Backend, items: Any, inputs: list[str], tmp_path: Path, **kwargs: Any) -> LoadSummary:
    return Ingest(backend, INCIDENT, rejects_path=tmp_path / "rejects.jsonl", **kwargs).run(items, inputs)


def outcome(backend: Backend, facts: WorkshopFacts) -> dict[str, Any]:
    """The store's stats without bookkeeping, and the workshop's questions answered."""
    stats = store_stats(backend)
    keys = [facts.leaked_key.access_key_id, facts.dormant_key.access_key_id, facts.active_key.access_key_id]
    return {
        "events": stats["events"],
        "nodes": stats["nodes"],
        "relationships": stats["relationships"],
        "labels": {k: v for k, v in stats["labels"].items() if k not in BOOKKEEPING_LABELS},
        "types": {k: v for k, v in stats["relationship_types"].items() if k not in BOOKKEEPING_TYPES},
        "incidents": [(i["incident"], i["events"], i["firstEvent"], i["lastEvent"]) for i in stats["incidents"]],
        "first_use": [run_query(backend, "key-first-use", {"key": k, "incident": None}) for k in keys],
        "activity": [run_query(backend, "key-activity", {"key": k, "incident": None}) for k in keys],
        "created": run_query(backend, "keys-created-by", {"user": facts.leaked_key.user_name, "incident": None}),
    }


@pytest.fixture(scope="module")
def from_files(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference: the workshop loaded from its files, all records and management events only."""
    incident = workshop_incident()
    found: dict[str, Any] = {}
    for name, records in (("all", incident.records), ("management", [r for r in incident.records if r.get("managementEvent") is not False])):
        reset_store(backend)
        root = tmp_path_factory.mktemp(f"files-{name}")
        write_s3_layout(records, root, duplicate_every=13)
        summary = run_load(backend, FileSource([root]), [str(root)], root)
        assert summary.ok and summary.balanced
        found[name] = (summary, outcome(backend, incident.facts))
    return found


def test_s3_gives_what_the_files_give_and_resumes(backend: Backend, aws: dict[str, str], from_files: dict[str, Any], tmp_path: Path) -> None:
    reset_store(backend)
    facts = workshop_incident().facts
    run_id = new_run_id()

    def s3_load() -> tuple[LoadSummary, S3Source]:
        source = S3Source(BUCKET, client=boto3.client("s3", config=client_config()), window=DAY, manifest=ObjectManifest(backend, INCIDENT, run_id))
        return run_load(backend, source, [source.target], tmp_path, on_origins_loaded=source.origins_loaded), source

    summary, source = s3_load()
    files_summary, files_outcome = from_files["all"]
    assert (summary.read, summary.loaded, summary.duplicates, summary.rejected) == (files_summary.read, files_summary.loaded, files_summary.duplicates, 0)
    assert outcome(backend, facts) == files_outcome
    assert source.progress.downloaded == source.progress.listed > 0 and source.progress.outside_window == 0
    # The load records each object it read with the sha256 of the bytes downloaded.
    s3 = boto3.client("s3", config=client_config())
    expected = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read()
            if "CloudTrail-Digest" not in entry["Key"]:
                expected.add(f"sha256:{hashlib.sha256(body).hexdigest()} {len(body)} s3://{BUCKET}/{entry['Key']}")
    latest = run_query(backend, "load-runs")[0]  # newest first
    assert set(latest["inputDigests"]) == expected

    again, repeat = s3_load()
    assert repeat.progress.downloaded == 0 and repeat.progress.already_loaded == source.progress.listed
    assert (again.read, again.loaded) == (0, 0)
    assert outcome(backend, facts) == files_outcome


def test_athena_gives_what_the_files_give(backend: Backend, aws: dict[str, str], from_files: dict[str, Any], tmp_path: Path) -> None:
    reset_store(backend)
    incident = workshop_incident()
    options = SourceOptions(window=DAY, output="s3://athena-results-keytrail/")
    source = AthenaSource.prepare("trail", "cloudtrail_logs", options, session=boto3.Session())
    source.poll_interval = 0.01
    # Athena returns each stored record once per delivery, as the files hold them.
    delivered = [r for n, r in enumerate(incident.records, start=1) for _ in range(2 if n % 13 == 0 else 1)]
    seed_athena(aws["AWS_ENDPOINT_URL"], delivered)
    summary = run_load(backend, source, [source.target], tmp_path)
    files_summary, files_outcome = from_files["all"]
    assert (summary.read, summary.loaded, summary.duplicates, summary.rejected) == (files_summary.read, files_summary.loaded, files_summary.duplicates, 0)
    assert outcome(backend, incident.facts) == files_outcome


def test_lookup_events_gives_what_the_management_files_give(backend: Backend, from_files: dict[str, Any], tmp_path: Path) -> None:
    reset_store(backend)
    incident = workshop_incident()
    clients = {}
    for region in sorted({r["awsRegion"] for r in incident.records}):
        path = tmp_path / f"{region}.json"
        write_lookup_events([r for r in incident.records if r["awsRegion"] == region], path)
        events = json.loads(path.read_text())["Events"]
        for event in events:
            event["EventTime"] = datetime.fromisoformat(event["EventTime"])
        client = boto3.client("cloudtrail", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
        stub = Stubber(client)
        chunks = [events[i : i + PAGE_SIZE] for i in range(0, len(events), PAGE_SIZE)]
        for number, chunk in enumerate(chunks):
            stub.add_response("lookup_events", {"Events": chunk} | ({"NextToken": f"t{number + 1}"} if number + 1 < len(chunks) else {}))
        stub.activate()
        clients[region] = client
    now = [0.0]
    source = LookupEventsSource(clients, window=DAY, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    summary = run_load(backend, source, ["lookup-events"], tmp_path)
    files_summary, files_outcome = from_files["management"]
    # LookupEvents returns each event once: the file's duplicate deliveries are not there to collapse.
    assert (summary.loaded, summary.rejected) == (files_summary.loaded, 0)
    assert outcome(backend, incident.facts) == files_outcome
    # The attacker's keys only made management calls: their answers are those of the full trail.
    full = from_files["all"][1]
    assert {k: outcome(backend, incident.facts)[k] for k in ("first_use", "activity", "created")} == {k: full[k] for k in ("first_use", "activity", "created")}


def test_an_interrupted_s3_load_completes_without_downloading_again(backend: Backend, aws: dict[str, str], from_files: dict[str, Any], tmp_path: Path) -> None:
    reset_store(backend)
    facts = workshop_incident().facts
    run_id = new_run_id()
    calls: list[str] = []

    def s3_source() -> S3Source:
        client = boto3.client("s3", config=client_config())
        client.meta.events.register("provide-client-params.s3.GetObject", lambda params, **_: calls.append(params["Key"]))
        return S3Source(BUCKET, client=client, window=DAY, manifest=ObjectManifest(backend, INCIDENT, run_id))

    class Interrupted(Exception):
        pass

    def until_interrupted(source: S3Source, stop_after: int) -> Iterator[LoaderItem]:
        for number, item in enumerate(source):
            if number == stop_after:
                raise Interrupted
            yield item

    first = s3_source()
    with pytest.raises(Interrupted):
        Ingest(backend, INCIDENT, batch_size=50, rejects_path=tmp_path / "r.jsonl", on_origins_loaded=first.origins_loaded).run(
            until_interrupted(first, 200), ["s3"]
        )
    listed = [f"s3://{BUCKET}/{key}" for key in sorted(set(calls))]
    recorded = ObjectManifest(backend, INCIDENT, run_id).complete(listed)
    assert 0 < len(recorded) < len(set(calls))
    calls.clear()
    second = s3_source()
    run_load(backend, second, [second.target], tmp_path, on_origins_loaded=second.origins_loaded)
    assert second.progress.already_loaded == len(recorded)
    assert not {f"s3://{BUCKET}/{key}" for key in calls} & set(recorded)
    assert len(calls) == second.progress.listed - len(recorded)
    assert outcome(backend, facts) == from_files["all"][1]


def test_an_object_with_a_rejected_record_is_not_recorded_complete(backend: Backend, aws: dict[str, str], tmp_path: Path) -> None:
    reset_store(backend)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="half-bad-keytrail")
    folder = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/07/111122223333_CloudTrail_us-east-1_20260107T"
    good, bad = workshop_incident().records[:2]
    s3.put_object(Bucket="half-bad-keytrail", Key=f"{folder}0005Z_aaaaaaaaaaaaaaaa.json", Body=json.dumps({"Records": [good]}).encode())
    broken = {k: v for k, v in bad.items() if k != "eventID"}
    s3.put_object(Bucket="half-bad-keytrail", Key=f"{folder}0010Z_bbbbbbbbbbbbbbbb.json", Body=json.dumps({"Records": [bad, broken]}).encode())
    manifest = ObjectManifest(backend, INCIDENT, new_run_id())
    source = S3Source("half-bad-keytrail", client=boto3.client("s3"), manifest=manifest)
    summary = run_load(backend, source, [source.target], tmp_path, on_origins_loaded=source.origins_loaded)
    assert (summary.loaded, summary.rejected) == (2, 1)
    uris = [f"s3://half-bad-keytrail/{folder}{suffix}" for suffix in ("0005Z_aaaaaaaaaaaaaaaa.json", "0010Z_bbbbbbbbbbbbbbbb.json")]
    assert set(manifest.complete(uris)) == {uris[0]}
    # Under another incident, nothing counts as loaded yet: its events must be tagged with it too.
    assert ObjectManifest(backend, "another-case", new_run_id()).complete(uris) == {}


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def cli(cli_store: tuple[list[str], dict[str, str]], aws: dict[str, str]) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Global options and environment that point the CLI at one store (emptied) and at moto."""
    args, env = cli_store[0], cli_store[1] | aws
    result = CliRunner().invoke(app, [*args, "reset", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    yield args, env


def run(cli: tuple[list[str], dict[str, str]], *words: str) -> Any:
    args, env = cli
    return CliRunner().invoke(app, [*args, *words], env=env)


def test_cli_s3_load_reports_and_resumes(cli: tuple[list[str], dict[str, str]]) -> None:
    window = ["--start", "2026-01-07T02:00:00Z", "--end", "2026-01-07T03:00:00Z", "--region", "us-east-1"]
    first = run(cli, "load", f"s3://{BUCKET}", *window, "--incident", INCIDENT, "--json")
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    [s3] = summary["sources"]
    assert s3["kind"] == "s3" and s3["downloaded"] > 0 and s3["outside_window"] > 0
    assert summary["loaded"] > 0 and summary["balanced"]
    facts = workshop_incident().facts
    [first_use] = json.loads(run(cli, "query", "key-first-use", "-p", f"key={facts.leaked_key.access_key_id}", "--json").stdout)
    assert first_use["eventTime"] == facts.first_use_time

    # Files holding records outside the window are read again; files wholly inside are not.
    again = json.loads(run(cli, "load", f"s3://{BUCKET}", *window, "--incident", INCIDENT, "--json").stdout)
    [s3_again] = again["sources"]
    assert s3_again["already_loaded"] > 0 and s3_again["downloaded"] == s3["downloaded"] - s3_again["already_loaded"]
    assert again["loaded"] == 0

    text = run(cli, "load", f"s3://{BUCKET}/AWSLogs/", *window, "--incident", INCIDENT)
    assert text.exit_code == 0 and "records outside the window not loaded" in text.stdout


def test_cli_athena_prints_the_cost(cli: tuple[list[str], dict[str, str]]) -> None:
    seed_athena(cli[1]["AWS_ENDPOINT_URL"], workshop_incident().records[:40])
    result = run(cli, "load", "athena://trail.cloudtrail_logs", "--start", "2026-01-07", "--end", "2026-01-07", "--output", "s3://athena-results-keytrail/")
    assert result.exit_code == 0, result.output
    assert "Athena query" in result.stdout and "at $5/TB" in result.stdout and "Loaded 40 events" in result.stdout


def test_cli_errors_exit_clearly(cli: tuple[list[str], dict[str, str]]) -> None:
    missing = run(cli, "load", "s3://no-such-bucket-keytrail", "--start", "2026-01-07")
    assert missing.exit_code == 4 and "bucket does not exist" in missing.output
    no_window = run(cli, "load", "athena://trail.cloudtrail_logs")
    assert no_window.exit_code == 2 and "without a time window" in no_window.output
    wrong = run(cli, "load", "lookup-events", "--org-id", "o-a1b2c3d4e5")
    assert wrong.exit_code == 2 and "--org-id does not apply to lookup-events" in wrong.output
    no_table = run(cli, "load", "athena://trail.nothing_here", "--all")
    assert no_table.exit_code == 4 and "no table trail.nothing_here" in no_table.output
    files_only = run(cli, "load", str(Path(__file__).parent), "--start", "2026-01-07")
    assert files_only.exit_code == 2 and "--start/--end does not apply to path targets" in files_only.output


def test_cli_mixes_files_and_a_bucket(cli: tuple[list[str], dict[str, str]], tmp_path: Path) -> None:
    extra = [r for r in workshop_incident().records if r["eventTime"] > "2026-01-07T20:00:00Z"]
    write_jsonl(extra, tmp_path / "extra.jsonl")
    result = run(cli, "load", str(tmp_path / "extra.jsonl"), f"s3://{BUCKET}", "--start", "2026-01-07T19:00:00Z", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # The late records come from the file and again from the bucket: stored once.
    assert summary["duplicates"] >= len(extra) and [s["kind"] for s in summary["sources"]] == ["s3"]


def test_load_help_names_every_source() -> None:
    result = CliRunner().invoke(app, ["load", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for word in ("s3://BUCKET/PREFIX", "athena://DATABASE.TABLE", "lookup-events", "--org-id", "--workgroup", "--margin-days", "--all"):
        assert word in result.output
