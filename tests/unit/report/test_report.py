"""The report's own logic, without a store: ATT&CK labels, notes, statuses, containment, grouping and rendering."""

from __future__ import annotations

import json
from typing import Any

from keytrail.report.attack import TACTIC_ORDER, load_mapping
from keytrail.report.blast_radius import _key_status
from keytrail.report.containment import containment_actions
from keytrail.report.findings import describe, group_by_credential, label_events, make_finding
from keytrail.report.render import blast_radius_header, blast_radius_sections, markdown


def row(**extra: Any) -> dict[str, Any]:
    base = {
        "eventID": "e1",
        "eventTime": "2026-01-07T02:25:18Z",
        "eventName": "GetCallerIdentity",
        "action": "sts:GetCallerIdentity",
        "credential": "AKIAAAAAAAAAAAAAAAAA",
        "principal": "arn:aws:iam::111122223333:user/a",
        "succeeded": True,
        "errorCode": None,
        "target": None,
        "requestParameters": None,
        "sourceIPAddress": "203.0.113.9",
    }
    return base | extra


def test_the_mapping_labels_actions_with_a_primary_tactic() -> None:
    mapping = load_mapping()
    label = mapping.label("iam:CreateAccessKey")
    assert label is not None and label.category == "persistence" and label.technique == "T1098.001"
    assert mapping.label("iam:NoSuchCall") is None and mapping.label(None) is None
    assert "cloudtrail:StopLogging" in mapping.actions
    assert all(t in TACTIC_ORDER for action in mapping.actions for t in (mapping.label(action) or label).tactics)


def test_failed_calls_are_findings_of_intent() -> None:
    finding = make_finding(row(succeeded=False, errorCode="AccessDenied", eventName="StopLogging", action="cloudtrail:StopLogging"), load_mapping())
    assert finding is not None
    assert (finding["succeeded"], finding["category"], finding["errorCode"]) == (False, "defense-evasion", "AccessDenied")
    assert make_finding(row(action="iam:NoSuchCall"), load_mapping()) is None


def test_events_are_labelled_in_time_order() -> None:
    found = label_events([row(eventID="b", eventTime="2026-01-07T03:00:00Z"), row(eventID="a"), row(eventID="x", action="unmapped:Call")])
    assert [f["eventID"] for f in found] == ["a", "b"]


def test_notes_say_what_a_call_asked_for() -> None:
    admin = describe("AttachUserPolicy", json.dumps({"userName": "u", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
    assert admin == "arn:aws:iam::aws:policy/AdministratorAccess on u (full administrator)"
    star = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    assert describe("PutUserPolicy", json.dumps({"userName": "u", "policyName": "p", "policyDocument": json.dumps(star)})).endswith("(full administrator)")
    narrow = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    assert "full administrator" not in (describe("PutUserPolicy", json.dumps({"userName": "u", "policyName": "p", "policyDocument": narrow})) or "")
    assert describe("StopLogging", json.dumps({"name": "t"})) == "trail t"
    assert describe("GetCallerIdentity", None) is None and describe("ListUsers", "not json") is None


def test_key_status_at_the_end_of_the_evidence() -> None:
    end = "2026-01-08T00:00:00Z"
    deleted = {
        "kind": "long-term",
        "changes": [
            {"verb": "DEACTIVATED", "time": "2026-01-07T01:00:00Z", "eventID": "d1"},
            {"verb": "DELETED", "time": "2026-01-07T02:00:00Z", "eventID": "d2"},
        ],
    }
    assert _key_status(deleted, end) == ("deleted", "2026-01-07T02:00:00Z", "d2")
    toggled = {
        "kind": "long-term",
        "changes": [
            {"verb": "DEACTIVATED", "time": "2026-01-07T01:00:00Z", "eventID": "a"},
            {"verb": "ACTIVATED", "time": "2026-01-07T02:00:00Z", "eventID": "b"},
        ],
    }
    assert _key_status(toggled, end)[0] == "active"
    assert _key_status({"kind": "long-term", "changes": [toggled["changes"][0]]}, end)[0] == "inactive"
    owner_gone = {"kind": "long-term", "ownerType": "IAMUser", "changes": [], "ownerDeletions": [{"time": "2026-01-07T05:00:00Z", "eventID": "u"}]}
    assert _key_status(owner_gone, end) == ("deleted", "2026-01-07T05:00:00Z", "u")
    # Temporary credentials outlive their source key and their user's key deletion; only expiry ends them.
    token = {"kind": "temporary", "ownerType": "IAMUser", "expiration": "2026-01-09T02:00:00Z", "changes": [], "ownerDeletions": []}
    assert _key_status(token, end)[0] == "active"
    assert _key_status(token | {"expiration": "2026-01-07T10:00:00Z"}, end) == ("expired", "2026-01-07T10:00:00Z", None)


def cred(cred_id: str, kind: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": cred_id, "kind": kind, "status": status, "owner": "arn:aws:iam::1:user/u", "born_event": "b", "expires": None} | extra


def test_containment_from_statuses_and_successful_calls() -> None:
    attach = make_finding(
        row(
            eventID="f1",
            eventName="AttachUserPolicy",
            action="iam:AttachUserPolicy",
            target="arn:aws:iam::1:user/x",
            requestParameters=json.dumps({"policyArn": "P"}),
        ),
        load_mapping(),
    )
    denied = make_finding(row(eventID="f2", eventName="StopLogging", action="cloudtrail:StopLogging", succeeded=False, target="trail"), load_mapping())
    read_a = make_finding(row(eventID="f3", eventName="GetObject", action="s3:GetObject", target="arn:aws:s3:::bucket/a.csv"), load_mapping())
    read_b = make_finding(row(eventID="f4", eventName="GetObject", action="s3:GetObject", target="arn:aws:s3:::bucket/b.csv"), load_mapping())
    actions = containment_actions(
        credentials=[
            cred("AKIA1", "long-term", "deleted"),
            cred("AKIA2", "long-term", "active"),
            cred("ASIA1", "temporary", "active", session_of="arn:aws:iam::1:role/r", expires="2026-01-08T00:00:00Z"),
            cred("ASIA2", "temporary", "expired"),
            cred("arn:aws:iam::1:user/x/login-profile", "console-password", "active", owner="arn:aws:iam::1:user/x"),
        ],
        principals_created=[
            {"id": "arn:aws:iam::1:user/x", "arn": "arn:aws:iam::1:user/x", "type": "IAMUser", "by": "AKIA1", "at": "t", "deleted": False},
            {"id": "arn:aws:iam::1:user/gone", "arn": "arn:aws:iam::1:user/gone", "type": "IAMUser", "by": "AKIA1", "at": "t", "deleted": True},
        ],
        findings=[f for f in (attach, denied, read_a, read_b) if f],
        upstream=[{"credential": "AKIA0", "eventName": "CreateAccessKey", "eventID": "u1"}],
        revoke_before="2026-01-07T23:00:00Z",
    )
    pairs = [(a["action"], a["target"]) for a in actions]
    assert pairs[0] == ("deactivate-and-delete-key", "AKIA2")
    assert ("deactivate-and-delete-key", "AKIA1") not in pairs
    assert ("delete-login-profile", "arn:aws:iam::1:user/x") in pairs
    [revoke] = [a for a in actions if a["action"] == "revoke-sessions"]
    assert revoke["target"] == "arn:aws:iam::1:role/r" and "aws:TokenIssueTime is before 2026-01-07T23:00:00Z" in revoke["detail"]
    assert ("delete-user", "arn:aws:iam::1:user/x") in pairs and ("delete-user", "arn:aws:iam::1:user/gone") not in pairs
    assert ("detach-policy", "arn:aws:iam::1:user/x") in pairs
    assert not any(a["action"] == "re-enable-logging" for a in actions), "a failed StopLogging changed nothing"
    assert pairs.count(("review-bucket", "arn:aws:s3:::bucket")) == 1
    assert ("investigate-upstream", "AKIA0") in pairs


def test_findings_grouped_by_credential_non_discovery_first() -> None:
    mapping = load_mapping()
    found = label_events(
        [
            row(eventID="1", credential="AKIAQUIET"),
            row(eventID="2", credential="AKIAQUIET", eventName="ListUsers", action="iam:ListUsers"),
            row(eventID="3", credential="AKIALOUD", eventName="CreateUser", action="iam:CreateUser"),
            row(eventID="4", credential=None, principal="arn:aws:iam::1:user/console", eventName="ConsoleLogin", action="signin:ConsoleLogin", succeeded=False),
        ],
        mapping,
    )
    groups = group_by_credential(found)
    assert [g["credential"] or g["principal"] for g in groups][:2] == ["AKIALOUD", "arn:aws:iam::1:user/console"]
    quiet = next(g for g in groups if g["credential"] == "AKIAQUIET")
    assert quiet["tactics"] == {"discovery": 2} and quiet["findings"] == 2
    console = next(g for g in groups if g["credential"] is None)
    assert console["failed"] == 1


def test_markdown_has_every_section_and_escapes_cells() -> None:
    report: dict[str, Any] = {
        "key": "AKIA1",
        "found": True,
        "incident": None,
        "evidence": {"last_event": "b", "store_events": 3},
        "identity": {"type": "IAMUser", "name": "u", "arn": "arn:aws:iam::1:user/u", "account": "1"},
        "first_use": {"time": "t", "eventName": "GetCallerIdentity", "eventID": "e", "sourceIPAddress": "ip"},
        "credentials": [cred("AKIA1", "long-term", "active", born_by=None, born_at=None, parent=None, events=1, status_at=None)],
        "upstream": [],
        "principals_created": [],
        "findings": [make_finding(row(requestParameters=None, target="a|b"), load_mapping())],
        "sleepers": [],
        "still_active": ["AKIA1"],
        "pivots": [],
        "containment": [],
        "timeline": [{"time": "t", "credential": "AKIA1", "eventName": "GetCallerIdentity", "succeeded": True, "errorCode": None, "eventID": "e1"}],
    }
    text = markdown(blast_radius_header(report), blast_radius_sections(report))
    for title in ("Credentials", "Upstream", "Principals created", "Findings", "Sleepers", "Pivots (heuristic)", "Containment", "Timeline"):
        assert f"## {title}" in text
    assert "a\\|b" in text and "Still alive at the end of the evidence: AKIA1" in text
    assert "## Timeline" not in markdown(blast_radius_header(report), blast_radius_sections(report, timeline=False))


class _Times:
    """A stand-in store that answers evidence-reaches from a list of event times."""

    name = "fake"
    location = "memory"

    def __init__(self, times: list[str]) -> None:
        self.times = times
        self.asked = 0

    def read(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.asked += 1
        return [{"found": int(any(t >= params["since"] for t in self.times))}]


def test_the_end_of_the_evidence_is_found_by_seeks() -> None:
    from keytrail.report.blast_radius import evidence_end

    store = _Times(["2026-01-07T02:25:18Z", "2026-01-07T03:00:00Z", "2026-01-09T17:41:07Z"])
    assert evidence_end(store, "2026-01-07T02:25:18Z", None) == "2026-01-09T17:41:07Z"  # type: ignore[arg-type]
    assert store.asked < 60
    assert evidence_end(_Times(["2026-01-07T02:25:18Z"]), "2026-01-07T02:25:18Z", None) == "2026-01-07T02:25:18Z"  # type: ignore[arg-type]
    assert evidence_end(_Times([]), None, None) is None  # type: ignore[arg-type]
