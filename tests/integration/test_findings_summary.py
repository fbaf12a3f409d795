"""``keytrail findings`` counted in the store gives what reading every finding gives, on both stores.

The summary (``findings-summary.cypher`` and the calls judged one by one) must agree with
``group_by_credential(build_findings(...))`` (every finding read and judged by ``make_finding``) on every store
this module builds: the sample incidents, the real corpus, synthetic traffic, and records made to meet each rule
that leaves a call out.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query, store_incidents, tallies_complete
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.loaders.records import SourceRecord
from keytrail.report.attack import TACTIC_ORDER, load_mapping
from keytrail.report.findings import build_findings, build_findings_report, group_by_credential, summarise_findings
from keytrail.report.model import LISTED_AT_MOST, to_json
from keytrail.report.signals import build_signals
from keytrail.rules.policy import QUARANTINE_POLICY_PREFIXES
from keytrail.sample import cross_account_incident, session_token_incident, workshop_incident
from keytrail.sample.routine import routine_key_incident
from keytrail.sample.synthetic import synthetic_records

WORKSHOP = workshop_incident()
KEY = WORKSHOP.facts.leaked_key.access_key_id


def _rule_records() -> list[dict[str, Any]]:
    """One mapped call of the workshop's leaked key, copied to meet each rule that keeps a call out of the findings or in."""
    mapping = load_mapping()
    base = next(r for r in WORKSHOP.records if r["userIdentity"].get("accessKeyId") == KEY and r["eventName"] == "ListBuckets")
    assert mapping.label("s3:ListBuckets") is not None

    def variant(n: int, **changes: Any) -> dict[str, Any]:
        record = copy.deepcopy(base)
        record["eventID"] = f"00000000-0000-4000-8000-{n:012d}"
        record["eventTime"] = f"2026-01-07T05:{n // 60:02d}:{n % 60:02d}Z"
        for name, value in changes.items():
            if name == "identity":
                record["userIdentity"].update(value)
            else:
                record[name] = value
        return record

    quarantine = {"policyArn": f"arn:aws:iam::aws:policy/{QUARANTINE_POLICY_PREFIXES[0]}", "userName": "leaked"}
    admin = {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess", "userName": "leaked"}
    return [
        variant(1, identity={"invokedBy": "cloudformation.amazonaws.com"}),  # AWS on the caller's behalf: out
        variant(2, sourceIPAddress="AWS Internal"),  # out
        variant(3, sourceIPAddress="cloudformation.amazonaws.com"),  # out
        variant(4, eventName="PutObject", eventSource="s3.amazonaws.com", userAgent="aws-cli/2.15"),  # routine, no reason: out
        variant(5, eventName="PutObject", eventSource="s3.amazonaws.com", userAgent="Boto3 (Kali Linux)"),  # routine, attack tool: in
        variant(6, eventName="AttachUserPolicy", eventSource="iam.amazonaws.com", requestParameters=quarantine),  # AWS's quarantine: out
        variant(7, eventName="AttachUserPolicy", eventSource="iam.amazonaws.com", requestParameters=admin),  # in
        variant(8, errorCode="AccessDenied", errorMessage="denied"),  # a failed attempt: in, failed
        variant(9, identity={"invokedBy": ""}),  # an empty invokedBy names no service: in
    ]


RULES = _rule_records()


def _load(backend: Backend, name: str, items: Any, inputs: list[str], rejects: Path) -> None:
    summary = Ingest(backend, name, rejects_path=rejects).run(items, inputs)
    assert summary.ok, summary


@pytest.fixture(scope="module")
def store(backend: Backend, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    rejects = tmp_path_factory.mktemp("rejects") / "rejects.jsonl"
    for incident in (WORKSHOP, session_token_incident(), cross_account_incident(), routine_key_incident()):
        items = [SourceRecord(f"sample:{incident.name}", i, r) for i, r in enumerate(incident.records)]
        _load(backend, incident.name, items, [f"sample:{incident.name}"], rejects)
    _load(backend, "rules", [SourceRecord("sample:rules", i, r) for i, r in enumerate(RULES)], ["sample:rules"], rejects)
    synthetic = [SourceRecord("sample:synthetic", i, r) for i, r in enumerate(synthetic_records(12_000, seed=5, attack_every=4_000))]
    _load(backend, "synthetic", synthetic, ["sample:synthetic"], rejects)
    for folder in ("invictus-aws-dataset", "sans504-s3-ransomware-lab"):
        _load(backend, folder, FileSource([corpus / folder]), [folder], rejects)
    return backend


def _read_and_grouped(backend: Backend, incident: str | None, category: str | None) -> Any:
    signals = build_signals(backend, incident, tallies=False)
    return to_json(group_by_credential(build_findings(backend, incident, category), signals))


def _counted(backend: Backend, incident: str | None, category: str | None = None) -> Any:
    """The summary counted from the tallies, and counted over every Event: both, when they agree."""
    from_tallies = to_json(summarise_findings(backend, incident, category, tallies=True))
    assert from_tallies == to_json(summarise_findings(backend, incident, category, tallies=False)), (incident, category)
    return from_tallies


def test_the_rules_records_are_judged_as_make_finding_judges_them(store: Backend) -> None:
    found = {f.eventID: f for f in build_findings(store, "rules")}
    kept = {RULES[i]["eventID"] for i in (4, 6, 7, 8)}
    assert set(found) == kept
    assert not found[RULES[7]["eventID"]].succeeded
    for tallies in (True, False):
        [group] = summarise_findings(store, "rules", tallies=tallies)
        assert (group.credential, group.findings, group.failed) == (KEY, len(kept), 1)


@pytest.mark.parametrize("incident", [None, "workshop", "session-token", "cross-account", "routine-key", "rules", "synthetic", "invictus-aws-dataset"])
def test_the_summary_counted_in_the_store_is_the_findings_grouped(store: Backend, incident: str | None) -> None:
    counted = _counted(store, incident)
    assert counted, "every one of these incidents has findings"
    assert counted == _read_and_grouped(store, incident, None)


def test_the_summary_of_each_tactic_is_its_findings_grouped(store: Backend) -> None:
    for category in TACTIC_ORDER:
        assert _counted(store, None, category) == _read_and_grouped(store, None, category), category


def test_a_credentials_findings_are_its_share_of_the_stores(store: Backend) -> None:
    every = build_findings(store, None)
    groups = group_by_credential(every)
    keyless = [g for g in groups if g.credential is None]
    assert keyless and len(groups) > len(keyless), "the store has calls made without a key (console logins) and keys"
    for group in groups[:5] + keyless[:3]:
        who = group.credential or group.principal
        assert who is not None
        mine = build_findings(store, None, None, who)
        assert [f.eventID for f in mine] == [f.eventID for f in every if (f.credential or f.principal) == who]


def test_the_report_lists_findings_only_when_few_or_asked(store: Backend) -> None:
    few = build_findings_report(store, "workshop")
    assert few.findings is not None and 0 < few.total <= LISTED_AT_MOST
    assert few.total == len(few.findings) and few.failed == sum(not f.succeeded for f in few.findings)
    many = build_findings_report(store, None)
    assert many.total > LISTED_AT_MOST and many.findings is None
    assert build_findings_report(store, None, events=True).findings is not None
    one = build_findings_report(store, None, credential=KEY)
    assert one.findings is not None and {f.credential for f in one.findings} == {KEY} and [g.credential for g in one.groups] == [KEY]


def test_the_tallies_count_every_event_once_and_each_incidents_events(store: Backend) -> None:
    assert tallies_complete(store)
    assert run_query(store, "incidents-tallied") == run_query(store, "incidents")
    assert all(type(row["events"]) is int for row in store_incidents(store))
    [workshop] = [row for row in run_query(store, "incidents-tallied") if row["incident"] == "workshop"]
    assert workshop["events"] == len({r["eventID"] for r in WORKSHOP.records})


def test_a_store_with_events_no_tally_counts_is_read_event_by_event(store: Backend) -> None:
    # An event as a keytrail that kept no tallies stored it (or something other than keytrail's load).
    stray = {"eventID": "stray-0001", "eventTime": "2026-01-07T09:00:00Z", "eventName": "CreateUser", "action": "iam:CreateUser", "incidents": ["rules"]}
    store.write("MERGE (a:Action {name: $props.action}) CREATE (e:Event)-[:INVOKED]->(a) SET e = $props", {"props": stray})
    try:
        assert not tallies_complete(store)
        groups = summarise_findings(store, "rules")
        assert sum(g.findings for g in groups) == 5, "the four findings of the rules' records, and the stray event"
        assert to_json(groups) == _read_and_grouped(store, "rules", None)
        [rules] = [row for row in store_incidents(store) if row["incident"] == "rules"]
        assert rules["events"] == len(RULES) + 1
    finally:
        store.write("MATCH (e:Event {eventID: $id}) DETACH DELETE e", {"id": stray["eventID"]})
    assert tallies_complete(store)


# ------------------------------------------------------------------------ the CLI


@pytest.fixture
def cli_args(cli_store: tuple[list[str], dict[str, str]], tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The CLI pointed at a store holding the workshop (incident ``small``) and synthetic traffic (incident ``large``), emptied first."""
    args, env = cli_store
    assert CliRunner().invoke(app, [*args, "reset", "--yes"], env=env).exit_code == 0
    for name, records in (("small", WORKSHOP.records), ("large", list(synthetic_records(6_000, seed=9, attack_every=3_000)))):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"Records": records}))
        result = CliRunner().invoke(app, [*args, "load", str(path), "--incident", name, "--rejects", str(tmp_path / "r.jsonl")], env=env)
        assert result.exit_code == 0, result.output
    return args, env


def test_cli_counts_and_lists(cli_args: tuple[list[str], dict[str, str]]) -> None:
    args, env = cli_args
    result = CliRunner().invoke(app, [*args, "findings", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["total"] > LISTED_AT_MOST and report["findings"] is None
    assert all(type(n) is int for g in report["credentials"] for n in (g["findings"], g["failed"], *g["tactics"].values()))
    assert report["total"] == sum(g["findings"] for g in report["credentials"])
    result = CliRunner().invoke(app, [*args, "findings", "--json", "--events"], env=env)
    assert len(json.loads(result.stdout)["findings"]) == report["total"]
    small = json.loads(CliRunner().invoke(app, [*args, "findings", "-i", "small", "--json"], env=env).stdout)
    assert small["findings"] is not None and len(small["findings"]) == small["total"] > 0
    result = CliRunner().invoke(app, [*args, "findings", "--credential", KEY, "--json"], env=env)
    mine = json.loads(result.stdout)
    assert mine["credential"] == KEY and mine["findings"] and {f["credential"] for f in mine["findings"]} == {KEY}
    result = CliRunner().invoke(app, [*args, "findings"], env=env)
    assert result.exit_code == 0 and "counted, not listed" in result.stdout and KEY in result.stdout
    result = CliRunner().invoke(app, [*args, "findings", "-i", "small"], env=env)
    assert result.exit_code == 0 and "counted, not listed" not in result.stdout and "Credentials to start from" in result.stdout
