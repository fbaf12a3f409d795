"""The command line end to end, on both stores: load with bad input, stats, queries, reset."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.loaders import sources
from keytrail.loaders.base import OriginManifest, ProgressListener, SourceKind, SourceOptions
from keytrail.loaders.records import LoaderItem, SourceRecord

KEY = "AKIAIOSFODNN7EXAMPLE"


def rec(event_id: str, name: str, time: str, **extra: Any) -> dict[str, Any]:
    base = {
        "eventVersion": "1.08",
        "eventID": event_id,
        "eventTime": time,
        "eventSource": "sts.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "python-requests/2",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::111122223333:user/sysdev",
            "accountId": "111122223333",
            "accessKeyId": KEY,
            "userName": "sysdev",
        },
        "recipientAccountId": "111122223333",
        "readOnly": True,
        "eventType": "AwsApiCall",
    }
    base.update(extra)
    return base


@pytest.fixture
def cli(cli_store: tuple[list[str], dict[str, str]]) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Global options and environment that point the CLI at one store, emptied first."""
    args, env = cli_store
    result = CliRunner().invoke(app, [*args, "reset", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    yield args, env


def run(cli: tuple[list[str], dict[str, str]], *words: str) -> Any:
    args, env = cli
    return CliRunner().invoke(app, [*args, *words], env=env)


def write_inputs(root: Path) -> dict[str, Path]:
    good = root / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "01" / "07"
    good.mkdir(parents=True)
    first = good / "111122223333_CloudTrail_us-east-1_20260107T0225Z_a.json.gz"
    records = [rec("e2", "ListUsers", "2026-01-07T02:26:00Z", eventSource="iam.amazonaws.com"), rec("e1", "GetCallerIdentity", "2026-01-07T02:25:18Z")]
    first.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    # The same record delivered twice, in a second file.
    (good / "111122223333_CloudTrail_us-east-1_20260107T0230Z_b.json.gz").write_bytes(gzip.compress(json.dumps({"Records": [records[1]]}).encode()))
    bad = root / "bad"
    bad.mkdir()
    (bad / "notes.json").write_text("not json at all")
    whole = gzip.compress(json.dumps({"Records": [rec("e9", "X", "2026-01-07T03:00:00Z")]}, indent=2).encode())
    (bad / "cut.json.gz").write_bytes(whole[:-10])
    (bad / "shape.json").write_text(json.dumps({"Records": "nope"}))
    mixed = [
        rec("e3", "GetUser", "2026-01-07T02:27:00Z", eventSource="iam.amazonaws.com"),
        {k: v for k, v in rec("e4", "X", "2026-01-07T02:28:00Z").items() if k != "eventID"},
        {k: v for k, v in rec("e5", "X", "2026-01-07T02:28:00Z").items() if k != "eventTime"},
        rec("e6", "X", "2026-01-07T02:28:00Z", sourceIPAddress=12345),
    ]
    (bad / "mixed.json").write_text(json.dumps(mixed))
    return {"good": good, "bad": bad}


def test_load_reports_and_keeps_every_kind_of_bad_input(cli: tuple[list[str], dict[str, str]], tmp_path: Path) -> None:
    paths = write_inputs(tmp_path / "in")
    rejects = tmp_path / "rejects.jsonl"
    result = run(cli, "load", str(tmp_path / "in"), "--incident", "case-1", "--rejects", str(rejects), "--json")
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["loaded"], summary["duplicates"], summary["rejected"]) == (7, 3, 1, 3)
    assert summary["balanced"] is True and summary["rejected_origins"] == 3
    kept = [json.loads(line) for line in rejects.read_text().splitlines()]
    reasons = {(Path(k["origin"]).name, k["index"]): k["reason"] for k in kept}
    assert "not JSON" in reasons[("notes.json", None)]
    assert "truncated" in reasons[("cut.json.gz", None)]
    assert "must be a list" in reasons[("shape.json", None)]
    assert reasons[("mixed.json", 1)] == "missing eventID"
    assert reasons[("mixed.json", 2)] == "missing eventTime"
    assert "sourceIPAddress must be a string" in reasons[("mixed.json", 3)]
    assert next(k for k in kept if k["index"] == 1)["record"]["eventName"] == "X"
    assert str(paths["bad"] / "mixed.json") in result.stderr or "mixed.json" in result.output

    stats = json.loads(run(cli, "stats", "--json").stdout)
    assert stats["events"] == 3
    again = json.loads(run(cli, "load", str(paths["good"]), "--incident", "case-1", "--json").stdout)
    assert (again["loaded"], again["duplicates"]) == (0, 3)
    assert json.loads(run(cli, "stats", "--json").stdout)["relationships"] == stats["relationships"]


class _Progress:
    files_done = 0

    def words(self) -> str:
        return ""


class CountingSource:
    """A kind of source the command has never heard of: ``counting://N`` makes up N records."""

    kind = "counting"
    warnings = ("counting sources make records up",)

    def __init__(self, target: str) -> None:
        self.target = target
        self.count = int(target.removeprefix("counting://"))
        self.progress = _Progress()
        self.on_progress: ProgressListener | None = None
        self.stored: list[str] = []

    def __iter__(self) -> Iterator[LoaderItem]:
        for index in range(self.count):
            yield SourceRecord(self.target, index, rec(f"counted-{index}", "GetCallerIdentity", f"2026-01-07T02:{index:02d}:00Z"))

    def total_files(self) -> int | None:
        return None

    def origins_loaded(self, origins: list[str]) -> None:
        self.stored += origins

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "kind": self.kind, "records": self.count, "stored": self.stored}

    def summary(self) -> str:
        return f"{self.target}: {self.count:,} records made up."


def _open_counting(target: str, options: SourceOptions, manifest: OriginManifest | None) -> CountingSource:
    return CountingSource(target)


def test_a_source_registered_with_one_line_loads_through_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = SourceKind(name="counting", scheme="counting://", usage="counting://N", options=frozenset({"window"}), open=_open_counting)
    monkeypatch.setattr(sources, "KINDS", (*sources.KINDS, counting))  # the one registry line; cli/load.py is not touched
    env = {"NEO4J_URI": ""}
    home = ["--home", str(tmp_path / "home")]
    result = CliRunner().invoke(app, [*home, "load", "counting://3", "--incident", "made-up", "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["loaded"]) == (3, 3)
    assert summary["sources"] == [{"target": "counting://3", "kind": "counting", "records": 3, "stored": ["counting://3"]}]
    assert "counting sources make records up" in result.stderr
    text = CliRunner().invoke(app, [*home, "load", "counting://3", "--incident", "made-up"], env=env)
    assert text.exit_code == 0 and "counting://3: 3 records made up." in text.stdout and "3 duplicates" in text.stdout
    refused = CliRunner().invoke(app, [*home, "load", "counting://3", "--org-id", "o-a1b2c3d4e5"], env=env)
    assert refused.exit_code == 2 and "--org-id does not apply to counting targets" in refused.output


def test_queries_and_query_json(cli: tuple[list[str], dict[str, str]], tmp_path: Path) -> None:
    write_inputs(tmp_path / "in")
    assert run(cli, "load", str(tmp_path / "in" / "AWSLogs"), "--incident", "case-2").exit_code == 0
    listed = json.loads(run(cli, "queries", "--json").stdout)
    names = {q["name"]: q for q in listed}
    assert {"key-first-use", "key-identity", "key-activity", "keys-created-by", "user-deleted"} <= set(names)
    assert names["key-first-use"]["parameters"].keys() == {"key", "incident"}
    first = run(cli, "query", "key-first-use", "--param", f"key={KEY}", "--json")
    assert first.exit_code == 0, first.output
    [row] = json.loads(first.stdout)
    assert (row["eventTime"], row["eventName"]) == ("2026-01-07T02:25:18Z", "GetCallerIdentity")
    [who] = json.loads(run(cli, "query", "key-identity", "-p", f"key={KEY}", "--json").stdout)
    assert (who["type"], who["userName"], who["accountId"]) == ("IAMUser", "sysdev", "111122223333")
    assert json.loads(run(cli, "query", "key-activity", "-p", "key=AKIANEVERUSED0000000", "--json").stdout) == []
    table = run(cli, "query", "key-activity", "-p", f"key={KEY}")
    assert "ListUsers" in table.stdout
    missing = run(cli, "query", "key-first-use")
    assert missing.exit_code == 2 and "missing $key" in missing.output
    # --incident scopes a query that takes one; an unknown incident is named with the known ones.
    assert json.loads(run(cli, "query", "key-first-use", "-p", f"key={KEY}", "-i", "case-2", "--json").stdout) == [row]
    elsewhere = run(cli, "query", "key-first-use", "-p", f"key={KEY}", "-i", "no-such-case")
    assert elsewhere.exit_code == 1 and "no incident 'no-such-case'" in elsewhere.stderr and "case-2" in elsewhere.stderr
    whole = run(cli, "query", "incidents", "-i", "case-2")
    assert whole.exit_code == 2 and "takes no incident" in whole.output
    listed_incidents = {row["incident"]: row for row in json.loads(run(cli, "incidents", "--json").stdout)}
    events = {row["incident"]: row["events"] for row in json.loads(run(cli, "query", "incidents", "--json").stdout)}
    assert listed_incidents["case-2"]["events"] == events["case-2"] > 0 and listed_incidents["case-2"]["accounts"] == ["111122223333"]
    assert "case-2" in run(cli, "incidents").stdout
    unknown = run(cli, "query", "nope")
    assert unknown.exit_code == 2 and "no query named" in unknown.output


def test_reset_needs_yes_and_removes_only_keytrail_data(cli: tuple[list[str], dict[str, str]], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    write_inputs(tmp_path / "in")
    run(cli, "load", str(tmp_path / "in" / "AWSLogs"))
    refused = run(cli, "reset")
    assert refused.exit_code == 2
    backend = request.getfixturevalue("neo4j_backend") if "--neo4j" in cli[0] else None
    if backend is not None:
        backend.write("CREATE (:NotKeytrail {marker: 'keep me'})", {})
    try:
        done = run(cli, "reset", "--yes")
        assert done.exit_code == 0 and "Deleted" in done.stdout
        assert json.loads(run(cli, "stats", "--json").stdout)["nodes"] == 0
        if backend is not None:
            assert backend.read("MATCH (n:NotKeytrail) RETURN n.marker AS marker", {}) == [{"marker": "keep me"}]
    finally:
        if backend is not None:
            backend.write("MATCH (n:NotKeytrail) DELETE n", {})


def test_stats_names_the_store_and_never_prints_the_password(cli: tuple[list[str], dict[str, str]]) -> None:
    args, env = cli
    result = CliRunner().invoke(app, [*args, "stats"], env={**env, "NEO4J_PASSWORD": env.get("NEO4J_PASSWORD") or ""})
    assert result.exit_code == 0, result.output
    assert ("Neo4j at" if "--neo4j" in args else "embedded FalkorDB") in result.stdout
    secret = env.get("NEO4J_PASSWORD")
    if "--neo4j" in args:
        # Every test Neo4j has a password (scripts/neo4j-local generates one; testcontainers is given one), passed here explicitly.
        assert secret
    if secret:
        assert secret not in result.output
