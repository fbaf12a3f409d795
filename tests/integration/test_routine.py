"""A key in routine use before it leaked, and AWS's quarantine of it (keytrail/sample/routine.py), on both stores.

Expected answers come from the generator's facts and from the records themselves.
"""

from __future__ import annotations

from typing import Any

import pytest

from keytrail.graph.backends import Backend
from keytrail.ingest import Ingest
from keytrail.loaders.records import SourceRecord
from keytrail.report.blast_radius import build_blast_radius
from keytrail.report.containment import each_target
from keytrail.report.model import BlastRadius
from keytrail.report.render import blast_radius_header
from keytrail.sample.routine import routine_key_incident

pytestmark = pytest.mark.usefixtures("backend")

INCIDENT = routine_key_incident()
FACTS = INCIDENT.facts
BY_ID = {r["eventID"]: r for r in INCIDENT.records}


@pytest.fixture(scope="module")
def typed(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> BlastRadius:
    items = [SourceRecord("sample:routine", index, record) for index, record in enumerate(INCIDENT.records)]
    summary = Ingest(backend, INCIDENT.name, rejects_path=tmp_path_factory.mktemp("rejects") / "r.jsonl").run(items, ["sample:routine"])
    assert summary.ok and summary.balanced
    return build_blast_radius(backend, FACTS.leaked_key.access_key_id, INCIDENT.name)


@pytest.fixture(scope="module")
def report(typed: BlastRadius) -> dict[str, Any]:
    return typed.to_json()


def test_the_attackers_first_use_is_the_first_call_from_a_new_address(report: dict[str, Any], typed: BlastRadius) -> None:
    assert report["first_use"]["eventID"] == FACTS.first_event_id
    attacker = report["attacker_first_use"]
    assert attacker["heuristic"] is True
    assert (attacker["eventID"], attacker["sourceIPAddress"]) == (FACTS.attacker_first_event_id, FACTS.attacker_ip)
    assert attacker["routine_addresses"] == [FACTS.ci_ip]
    # The routine it was measured against is every earlier call of the key.
    earlier = [r for r in INCIDENT.records if r["userIdentity"].get("accessKeyId") == FACTS.leaked_key.access_key_id and r["eventTime"] < attacker["time"]]
    assert attacker["routine_events"] == len(earlier)
    assert any(line.startswith("Attacker's first use (heuristic):") for line in blast_radius_header(typed))


def test_routine_calls_are_findings_only_with_a_reason(report: dict[str, Any]) -> None:
    found = {f["eventID"]: f for f in report["findings"]}
    # The CI's uploads and registry logins, before and after the leak, are routine: not findings.
    ci_routine = [r["eventID"] for r in INCIDENT.records if r["sourceIPAddress"] == FACTS.ci_ip and r["eventName"] in ("PutObject", "GetAuthorizationToken")]
    assert set(FACTS.routine_event_ids) <= set(ci_routine) and not set(ci_routine) & set(found)
    # The same kinds of call from the attacker's address are, and say why.
    for event_id in FACTS.attacker_routine_event_ids:
        assert found[event_id]["routine"] and FACTS.attacker_ip in found[event_id]["reason"]
    # A call that is not routine by name needs no reason to be a finding, even the CI's own.
    ci_identity = [r["eventID"] for r in INCIDENT.records if r["sourceIPAddress"] == FACTS.ci_ip and r["eventName"] == "GetCallerIdentity"]
    assert set(ci_identity) <= set(found)


def test_aws_quarantine_is_the_detection_anchor_not_a_finding(report: dict[str, Any], typed: BlastRadius) -> None:
    [anchor] = report["detection"]
    assert (anchor["eventID"], anchor["policy"], anchor["principal"]) == (FACTS.quarantine_event_id, FACTS.quarantine_policy, FACTS.user_arn)
    assert FACTS.quarantine_event_id not in {f["eventID"] for f in report["findings"]}
    # Nothing tells the responder to take AWS's quarantine off.
    assert not [t for t in each_target(report["containment"]) if FACTS.quarantine_policy in t["detail"]]
    assert any(line.startswith(f"Detected: AWS quarantined {FACTS.user_arn}") for line in blast_radius_header(typed))


def test_containment_names_every_running_instance_and_never_an_event(report: dict[str, Any]) -> None:
    run = BY_ID[FACTS.run_instances_event_id]
    launched = [i["instanceId"] for i in run["responseElements"]["instancesSet"]["items"]]
    region, account = run["awsRegion"], run["recipientAccountId"]
    [terminate] = [a for a in report["containment"] if a["action"] == "terminate-instances"]
    expected = [f"arn:aws:ec2:{region}:{account}:instance/{i}" for i in launched if i != FACTS.terminated_instance_id]
    assert sorted(t["target"] for t in terminate["targets"]) == sorted(expected)
    assert len(expected) == len(FACTS.instance_ids) - 1
    # One row per kind of action, every target an ARN or id, never an eventID.
    assert len({a["action"] for a in report["containment"]}) == len(report["containment"])
    targets = {t["target"] for t in each_target(report["containment"])}
    assert not targets & set(BY_ID)
    [finding] = [f for f in report["findings"] if f["eventID"] == FACTS.run_instances_event_id]
    assert finding["detail"].startswith(f"{len(FACTS.instance_ids)} × {run['requestParameters']['instanceType']}")
    assert "no instance profile" in finding["detail"]


def test_a_deleted_trail_is_re_created_and_the_attackers_own_flow_log_needs_nothing(report: dict[str, Any]) -> None:
    [delete] = [r for r in INCIDENT.records if r["eventName"] == "DeleteTrail"]
    region, account, name = delete["awsRegion"], delete["recipientAccountId"], delete["requestParameters"]["name"]
    assert FACTS.trail_arn == f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"
    [logging] = [a for a in report["containment"] if a["action"] == "re-enable-logging"]
    # The trail was deleted by the very call that needs the action; the flow log was the attacker's own, made and removed.
    assert [t["target"] for t in logging["targets"]] == [FACTS.trail_arn]
    assert not [t for t in each_target(report["containment"]) if FACTS.flow_log_id in t["target"]]
