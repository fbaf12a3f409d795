"""Doors on both stores: every way in that no call of the leaked key minted, from generated incidents.

Each incident comes from ``keytrail/sample/doors.py``; the expected answers are its facts,
derived from how the records were generated: the keys that came through the door, the
events that opened it, the instances whose credentials left them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keytrail.graph.backends import Backend
from keytrail.ingest import Ingest
from keytrail.loaders.records import SourceRecord
from keytrail.report.blast_radius import build_blast_radius
from keytrail.report.containment import each_target
from keytrail.report.render import blast_radius_header
from keytrail.sample.doors import DOOR_INCIDENTS, InstanceConnectFacts, InstanceProfileFacts, TrustBackdoorFacts
from keytrail.sample.workshop import Incident

pytestmark = pytest.mark.usefixtures("backend")

INCIDENTS: dict[str, Incident[Any]] = {name: make() for name, make in DOOR_INCIDENTS}


@pytest.fixture(scope="module")
def doors_store(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    rejects = tmp_path_factory.mktemp("rejects") / "doors.jsonl"
    for name, incident in INCIDENTS.items():
        items = [SourceRecord(f"sample:{name}", index, record) for index, record in enumerate(incident.records)]
        summary = Ingest(backend, f"door-{name}", rejects_path=rejects).run(items, [f"sample:{name}"])
        assert summary.ok and summary.balanced
    return backend


def _report(store: Backend, name: str) -> dict[str, Any]:
    incident = INCIDENTS[name]
    return build_blast_radius(store, incident.facts.leaked_key.access_key_id, f"door-{name}").to_json()


@pytest.mark.parametrize("name", sorted(INCIDENTS))
def test_every_key_through_a_door_is_in_the_blast_radius_and_still_alive(doors_store: Backend, name: str) -> None:
    facts = INCIDENTS[name].facts
    report = _report(doors_store, name)
    credentials = {c["id"]: c for c in report["credentials"]}
    assert set(facts.entry_key_ids) <= set(credentials)
    # The leaked key was deleted before the evidence ended; what came through the door was not.
    assert credentials[facts.leaked_key.access_key_id]["status"] == "deleted"
    assert set(facts.entry_key_ids) <= set(report["still_active"])
    header = "\n".join(blast_radius_header(build_blast_radius(doors_store, facts.leaked_key.access_key_id, f"door-{name}")))
    assert "Still alive at the end of the evidence: nothing" not in header
    [alive] = [line for line in header.splitlines() if line.startswith("Still alive at the end of the evidence:")]
    # Open doors are listed with the live credentials.
    assert report["open_doors"] and all(f"door {target}" in alive for target in report["open_doors"])
    for key in facts.entry_key_ids:
        assert key in header
        entry = credentials[key]
        # Each says which door it came through, and the door was opened by a credential of the blast radius.
        assert entry["born_by"].startswith("door:") or entry["parent"] in credentials
        if entry["born_by"].startswith("door:"):
            assert entry["door_event"] in {d["eventID"] for d in report["doors"]}


@pytest.mark.parametrize("name", sorted(INCIDENTS))
def test_doors_name_their_opening_events_and_are_contained(doors_store: Backend, name: str) -> None:
    facts = INCIDENTS[name].facts
    report = _report(doors_store, name)
    opened = {d["eventID"] for d in report["doors"]}
    # Every call the generator made to open the door is reported as a door, or as a credential it issued.
    issued = {c["born_event"] for c in report["credentials"]}
    assert set(facts.door_event_ids) <= opened | issued
    open_doors = [d for d in report["doors"] if d["status"] == "open"]
    assert open_doors and set(report["open_doors"]) == {d["target"] for d in open_doors}
    actions = {(c["action"], c["target"]) for c in each_target(report["containment"])}
    for door in open_doors:
        for action in door["actions"]:
            assert (action["action"], action["target"]) in actions
    # Containment names resources, never an eventID.
    events = {t["eventID"] for t in report["timeline"]}
    assert not {c["target"] for c in each_target(report["containment"])} & events


def test_trust_policy_door_reports_the_principal_it_admits(doors_store: Backend) -> None:
    facts = INCIDENTS["trust-backdoor"].facts
    assert isinstance(facts, TrustBackdoorFacts)
    report = _report(doors_store, "trust-backdoor")
    [door] = [d for d in report["doors"] if d["eventID"] == facts.door_event_id]
    assert door["kind"] == "trust-policy" and door["target"] == facts.role_arn
    external = [p for p in facts.admitted_principals if f":{facts.account_id}:" not in p]
    assert door["external"] == external and door["sessions"] == [facts.session_key_id]
    # The account's copy and the other account's copy of one AssumeRole are one credential, not two.
    assert [c["id"] for c in report["credentials"]].count(facts.session_key_id) == 1
    assert any(c["action"] == "restore-trust-policy" and external[0] in c["detail"] for c in each_target(report["containment"]))


@pytest.mark.parametrize("name", ["instance-profile", "instance-connect"])
def test_instance_credentials_used_outside_the_instance(doors_store: Backend, name: str) -> None:
    facts = INCIDENTS[name].facts
    report = _report(doors_store, name)
    found = {item["credential"]: item for item in report["instance_credentials_outside"]}
    if isinstance(facts, InstanceProfileFacts):
        assert set(found) == {facts.exfiltrated_key_id}
        assert found[facts.exfiltrated_key_id]["instance"] == facts.exfiltrated_from_instance
    else:
        assert isinstance(facts, InstanceConnectFacts)
        assert set(found) == {facts.session_key_id}
        assert set(found[facts.session_key_id]["events"]) == set(facts.attacker_event_ids)
    assert all(item["addresses"] == [facts.attacker_ip] for item in found.values())


def test_a_door_is_closed_by_deleting_what_it_opened(doors_store: Backend, tmp_path: Path) -> None:
    # The same trust backdoor, and then the defender deletes the role: the door is shut, its session still alive.
    incident = INCIDENTS["backdoor-role"]
    facts = incident.facts
    report = _report(doors_store, "backdoor-role")
    role_door = next(d for d in report["doors"] if d["kind"] == "role-created")
    assert role_door["status"] == "open"
    last = max(r["eventTime"] for r in incident.records)
    deletion = {
        "eventVersion": "1.09",
        "eventID": "00000000-0000-4000-8000-00000000d001",
        "eventTime": last,
        "eventSource": "iam.amazonaws.com",
        "eventName": "DeleteRole",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.9",
        "userAgent": "console.amazonaws.com",
        "userIdentity": {"type": "IAMUser", "accountId": facts.account_id, "userName": facts.defender_user},
        "requestParameters": {"roleName": role_door["target"].rsplit("/", 1)[-1]},
        "recipientAccountId": facts.account_id,
    }
    summary = Ingest(doors_store, "door-backdoor-role", rejects_path=tmp_path / "r.jsonl").run([SourceRecord("test", 0, deletion)], ["test"])
    assert summary.loaded == 1
    after = _report(doors_store, "backdoor-role")
    closed = next(d for d in after["doors"] if d["kind"] == "role-created")
    assert (closed["status"], closed["closed_event"]) == ("closed", deletion["eventID"])
    assert not closed["actions"]


def test_every_identity_center_door_leads_to_the_permission_sets_session(doors_store: Backend) -> None:
    facts = INCIDENTS["identity-center"].facts
    report = _report(doors_store, "identity-center")
    doors = report["doors"]
    # The set, its policy, the user and the assignment each lead to the one session of AWSReservedSSO_<set>_….
    assert {d["eventID"] for d in doors} == set(facts.door_event_ids)
    assert all(d["sessions"] == list(facts.entry_key_ids) for d in doors), [(d["kind"], d["sessions"]) for d in doors]
