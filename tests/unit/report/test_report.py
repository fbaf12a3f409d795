"""The report's own logic, without a store: ATT&CK labels, notes, statuses, containment, grouping and rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from keytrail.report.attack import TACTIC_ORDER, load_mapping
from keytrail.report.containment import containment_actions, each_target
from keytrail.report.findings import ROUTINE_ACTIONS, describe, group_by_credential, label_events, made_by_aws, make_finding
from keytrail.report.heuristics import attacker_first_use, rank_pivots
from keytrail.report.model import BlastRadius, Credential, Evidence, FirstUse, Identity, Pivot, PrincipalCreated, TimelineEvent, Upstream, to_json
from keytrail.report.render import blast_radius_header, blast_radius_sections, markdown
from keytrail.rules.policy import quarantine_policy


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
    assert (finding.succeeded, finding.category, finding.errorCode) == (False, "defense-evasion", "AccessDenied")
    assert make_finding(row(action="iam:NoSuchCall"), load_mapping()) is None


def test_events_are_labelled_in_time_order() -> None:
    found = label_events([row(eventID="b", eventTime="2026-01-07T03:00:00Z"), row(eventID="a"), row(eventID="x", action="unmapped:Call")])
    assert [f.eventID for f in found] == ["a", "b"]


def test_notes_say_what_a_call_asked_for() -> None:
    admin = describe("AttachUserPolicy", json.dumps({"userName": "u", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
    assert admin == "arn:aws:iam::aws:policy/AdministratorAccess on u (full administrator)"
    star = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    assert describe("PutUserPolicy", json.dumps({"userName": "u", "policyName": "p", "policyDocument": json.dumps(star)})).endswith("(full administrator)")
    narrow = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    assert "full administrator" not in (describe("PutUserPolicy", json.dumps({"userName": "u", "policyName": "p", "policyDocument": narrow})) or "")
    assert describe("StopLogging", json.dumps({"name": "t"})) == "trail t"
    assert describe("GetCallerIdentity", None) is None and describe("ListUsers", "not json") is None


def cred(cred_id: str, kind: str, status: str, **extra: Any) -> Credential:
    fields: dict[str, Any] = {
        "owner": "arn:aws:iam::1:user/u",
        "owner_type": "IAMUser",
        "account": "1",
        "session_of": None,
        "born_by": "CreateAccessKey",
        "born_at": "t",
        "born_event": "b",
        "parent": None,
        "events": 0,
        "first_use": None,
        "last_use": None,
        "status_at": None,
        "status_event": None,
        "expires": None,
    }
    return Credential(id=cred_id, kind=kind, status=status, **(fields | extra))


def created(arn: str, deleted: bool) -> PrincipalCreated:
    return PrincipalCreated(arn, arn.rsplit("/", 1)[-1], arn, "IAMUser", "1", "AKIA1", "t", "c", deleted, "t" if deleted else None, 0)


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
    derived = "made with a derived credential"
    read_a = make_finding(row(eventID="f3", eventName="GetObject", action="s3:GetObject", target="arn:aws:s3:::bucket/a.csv", reason=derived), load_mapping())
    read_b = make_finding(row(eventID="f4", eventName="GetObject", action="s3:GetObject", target="arn:aws:s3:::bucket/b.csv", reason=derived), load_mapping())
    actions = containment_actions(
        credentials=[
            cred("AKIA1", "long-term", "deleted"),
            cred("AKIA2", "long-term", "active"),
            cred("ASIA1", "temporary", "active", session_of="arn:aws:iam::1:role/r", expires="2026-01-08T00:00:00Z"),
            cred("ASIA2", "temporary", "expired"),
            cred("arn:aws:iam::1:user/x/login-profile", "console-password", "active", owner="arn:aws:iam::1:user/x"),
        ],
        principals_created=[created("arn:aws:iam::1:user/x", False), created("arn:aws:iam::1:user/gone", True)],
        findings=[f for f in (attach, denied, read_a, read_b) if f],
        upstream=[Upstream("AKIA0", None, None, None, "AKIA1", 0, "CreateAccessKey", "u1", "t", "1", True)],
        revoke_before="2026-01-07T23:00:00Z",
    )
    pairs = [(a.action, t.target) for a in actions for t in a.targets]
    assert pairs[0] == ("deactivate-and-delete-key", "AKIA2")
    assert ("deactivate-and-delete-key", "AKIA1") not in pairs
    assert ("delete-login-profile", "arn:aws:iam::1:user/x") in pairs
    [revoke] = [t for a in actions if a.action == "revoke-sessions" for t in a.targets]
    assert revoke.target == "arn:aws:iam::1:role/r" and "aws:TokenIssueTime is before 2026-01-07T23:00:00Z" in revoke.detail
    assert ("delete-user", "arn:aws:iam::1:user/x") in pairs and ("delete-user", "arn:aws:iam::1:user/gone") not in pairs
    assert ("detach-policy", "arn:aws:iam::1:user/x") in pairs
    assert not any(a.action == "re-enable-logging" for a in actions), "a failed StopLogging changed nothing"
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
    assert [g.credential or g.principal for g in groups][:2] == ["AKIALOUD", "arn:aws:iam::1:user/console"]
    quiet = next(g for g in groups if g.credential == "AKIAQUIET")
    assert quiet.tactics == {"discovery": 2} and quiet.findings == 2
    console = next(g for g in groups if g.credential is None)
    assert console.failed == 1


def test_markdown_has_every_section_and_escapes_cells() -> None:
    finding = make_finding(row(requestParameters=None, target="a|b"), load_mapping())
    assert finding is not None
    report = BlastRadius(
        key="AKIA1",
        found=True,
        in_scope=True,
        incident=None,
        evidence=Evidence("b", 3),
        identity=Identity("IAMUser", "u", "arn:aws:iam::1:user/u", "1", None),
        first_use=FirstUse("t", "GetCallerIdentity", "e", "ip", True),
        attacker_first_use=None,
        detection=[],
        credentials=[cred("AKIA1", "long-term", "active", born_by=None, born_at=None, events=1)],
        principals_created=[],
        upstream=[],
        findings=[finding],
        sleepers=[],
        still_active=["AKIA1"],
        doors=[],
        open_doors=[],
        instance_credentials_outside=[],
        pivots=[],
        containment=[],
        timeline=[TimelineEvent("t", "GetCallerIdentity", "AKIA1", "e1", True, None, None, "ip", "1")],
        window=None,
    )
    text = markdown(blast_radius_header(report), blast_radius_sections(report, all_findings=True))
    for title in ("Credentials", "Upstream", "Principals created", "Findings", "Sleepers", "Pivots (heuristic)", "Containment", "Timeline"):
        assert f"## {title}" in text
    assert "a\\|b" in text and "Still alive at the end of the evidence: AKIA1" in text
    assert "## Timeline" not in markdown(blast_radius_header(report), blast_radius_sections(report, timeline=False))
    # By default a discovery finding is counted in the note, not listed: it would bury the rest.
    collapsed = next(s for s in blast_radius_sections(report) if s.title == "Findings")
    assert collapsed.rows == [] and "1 discovery call, counted, not listed (--all lists them): GetCallerIdentity ×1." in collapsed.note
    assert "Findings: discovery 1 (GetCallerIdentity)" in blast_radius_header(report)


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


# ------------------------------------------------------------------ findings precision and detail


def test_calls_aws_made_on_a_principals_behalf_are_not_findings() -> None:
    mapping = load_mapping()
    attach = {"eventName": "AttachUserPolicy", "action": "iam:AttachUserPolicy", "requestParameters": json.dumps({"userName": "u", "policyArn": "P"})}
    assert make_finding(row(**attach), mapping) is not None
    assert made_by_aws(row(**attach)) is None
    for extra in ({"invokedBy": "cloudformation.amazonaws.com"}, {"sourceIPAddress": "AWS Internal"}, {"sourceIPAddress": "lambda.amazonaws.com"}):
        assert made_by_aws(row(**attach, **extra)) and make_finding(row(**attach, **extra), mapping) is None


def test_aws_quarantine_of_a_key_is_never_a_finding_whoever_signed_it() -> None:
    mapping = load_mapping()
    for name in ("AWSCompromisedKeyQuarantine", "AWSCompromisedKeyQuarantineV2", "AWSCompromisedKeyQuarantineV3"):
        params = json.dumps({"userName": "u", "policyArn": f"arn:aws:iam::aws:policy/{name}"})
        assert quarantine_policy("AttachUserPolicy", json.loads(params)) == name
        assert make_finding(row(eventName="AttachUserPolicy", action="iam:AttachUserPolicy", requestParameters=params), mapping) is None
    inline = {"userName": "u", "policyName": "AWSExposedCredentialPolicy_DO_NOT_REMOVE", "policyDocument": "{}"}
    assert quarantine_policy("PutUserPolicy", inline) == "AWSExposedCredentialPolicy_DO_NOT_REMOVE"
    assert make_finding(row(eventName="PutUserPolicy", action="iam:PutUserPolicy", requestParameters=json.dumps(inline)), mapping) is None
    # Another policy whose name merely contains the word is an ordinary attach.
    assert quarantine_policy("AttachUserPolicy", {"policyArn": "arn:aws:iam::1:policy/MyQuarantine"}) is None


def test_routine_calls_need_a_reason_and_say_it() -> None:
    mapping = load_mapping()
    put = {"eventName": "PutObject", "action": "s3:PutObject", "target": "arn:aws:s3:::b/k"}
    assert "s3:PutObject" in ROUTINE_ACTIONS and make_finding(row(**put), mapping) is None
    kept = make_finding(row(**put, reason="made with a derived credential"), mapping)
    assert kept is not None and kept.routine and kept.reason == "made with a derived credential"
    tool = make_finding(row(**put, userAgent="aws-cli/2.17 md/distrib#kali.2024"), mapping)
    assert tool is not None and tool.reason == "user agent of an attack tool (kali)"
    # A call that is not routine needs no reason.
    plain = make_finding(row(eventName="StopLogging", action="cloudtrail:StopLogging"), mapping)
    assert plain is not None and plain.reason is None and not plain.routine


def test_details_that_make_a_finding_dangerous() -> None:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}]}
    note = describe("UpdateAssumeRolePolicy", json.dumps({"roleName": "r", "policyDocument": json.dumps(trust)}), "111122223333")
    assert note is not None and "999988887777" in note and "outside this account" in note
    public = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}
    assert "(public: anyone)" in (describe("PutBucketPolicy", json.dumps({"bucketName": "b", "bucketPolicy": public}), "111122223333") or "")
    assert "(public: anyone)" in (
        describe("AddPermission20150331v2", json.dumps({"functionName": "f", "principal": "*", "action": "lambda:InvokeFunction"})) or ""
    )
    scoped = describe("AddPermission20150331v2", json.dumps({"functionName": "f", "principal": "*", "sourceAccount": "1", "action": "lambda:InvokeFunction"}))
    assert scoped is not None and "public" not in scoped
    assignment = {"permissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1", "principalType": "USER", "principalId": "u-1", "targetId": "222233334444"}
    assert (
        describe("CreateAccountAssignment", json.dumps(assignment))
        == "permission set arn:aws:sso:::permissionSet/ssoins-1/ps-1 for USER u-1 in account 222233334444"
    )
    run = {
        "instanceType": "p3.16xlarge",
        "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 4}]},
        "iamInstanceProfile": {"name": "prof"},
    }
    assert describe("RunInstances", json.dumps(run)) == "4 × p3.16xlarge, image ami-1, instance profile prof"
    assert describe("ConsoleLogin", None, None, json.dumps({"MFAUsed": "No"})) == "without MFA"
    assert describe("ConsoleLogin", None, None, json.dumps({"MFAUsed": "Yes"})) == "with MFA"


# ------------------------------------------------------------------ owner and attacker


def _calls(spec: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """(hours after the start, address, agent) per call."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {
            "eventTime": (start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventID": f"e{i:03}",
            "eventName": "X",
            "sourceIPAddress": ip,
            "userAgent": ua,
        }
        for i, (h, ip, ua) in enumerate(spec)
    ]


def test_the_attackers_first_use_needs_routine_before_it() -> None:
    routine = [(h, "10.0.0.1", "ci") for h in range(0, 48, 8)]
    found = attacker_first_use(_calls([*routine, (50, "10.0.0.1", "ci"), (51, "203.0.113.5", "ci"), (52, "203.0.113.5", "kali")]))
    assert found is not None and (found.eventID, found.routine_addresses, found.routine_events) == ("e007", ["10.0.0.1"], 7)
    # A new agent alone counts too.
    agent = attacker_first_use(_calls([*routine, (60, "10.0.0.1", "other")]))
    assert agent is not None and agent.eventID == "e006"
    # Too few calls, or too short a history: no routine, no second first use.
    assert attacker_first_use(_calls([*routine[:4], (60, "203.0.113.5", "kali")])) is None
    assert attacker_first_use(_calls([(h, "10.0.0.1", "ci") for h in range(6)] + [(7, "203.0.113.5", "kali")])) is None
    # AWS's own addresses are nobody's new address.
    assert attacker_first_use(_calls([*routine, (60, "AWS Internal", "ci")])) is None


def test_pivots_sharing_address_and_agent_rank_first() -> None:
    def pivot(via: str, value: str, credential: str) -> Pivot:
        return Pivot(via, value, credential, None, None, 1, "t", "t", [])

    ranked = rank_pivots([pivot("source-ip", "1.1.1.1", "A"), pivot("source-ip", "2.2.2.2", "B"), pivot("user-agent", "ua", "B")])
    assert [(p.credential, p.via) for p in ranked] == [("B", "source-ip"), ("B", "user-agent"), ("A", "source-ip")]
    assert ranked[0].shares == ["source-ip", "user-agent"] and ranked[2].shares == ["source-ip"]


# ------------------------------------------------------------------ containment rows


def test_containment_groups_repeated_actions_and_names_targets_never_events() -> None:
    mapping = load_mapping()
    reads = [
        make_finding(row(eventID=f"r{i}", eventName="GetSecretValue", action="secretsmanager:GetSecretValue", target=f"arn:s:{i}"), mapping) for i in range(3)
    ]
    run = make_finding(row(eventID="run", eventName="RunInstances", action="ec2:RunInstances", target="arn:i/1", account="1"), mapping)
    stop = make_finding(row(eventID="stop", eventName="DisableSecurityHub", action="securityhub:DisableSecurityHub", account="111122223333"), mapping)
    targets = {
        "run": [
            {"targetArn": "arn:i/1", "deleted": None},
            {"targetArn": "arn:i/2", "deleted": "2026-01-01T00:00:00Z x"},
            {"targetArn": "arn:i/3", "deleted": None},
        ],
        "r0": [{"targetArn": "arn:s:0", "deleted": None}],
    }
    actions = containment_actions(
        credentials=[], principals_created=[], findings=[f for f in (*reads, run, stop) if f], upstream=[], revoke_before=None, targets=targets
    )
    by_action = {a.action: a for a in actions}
    assert len(by_action) == len(actions)
    assert [t.target for t in by_action["rotate-secret"].targets] == ["arn:s:0", "arn:s:1", "arn:s:2"]
    # Every instance of the launch that the evidence does not show terminated; none named by its eventID.
    assert [t.target for t in by_action["terminate-instances"].targets] == ["arn:i/1", "arn:i/3"]
    assert [t.target for t in by_action["re-enable-detection"].targets] == ["account 111122223333"]
    assert not {t["target"] for t in each_target(to_json(actions))} & {"r0", "r1", "r2", "run", "stop"}
    # A call whose every target is gone needs nothing.
    gone = {"run": [{"targetArn": "arn:i/1", "deleted": "t e"}]}
    assert containment_actions(credentials=[], principals_created=[], findings=[run] if run else [], upstream=[], revoke_before=None, targets=gone) == []


def test_a_session_aws_issued_to_a_service_is_routine_until_used_from_elsewhere() -> None:
    calls = _calls([(0, "34.234.236.212", "awslambda-worker"), (0, "34.234.236.9", "awslambda-worker"), (1, "104.102.221.250", "aws-cli/1.16")])
    found = attacker_first_use(calls, "lambda.amazonaws.com")
    # Another worker of the function (new address, same agent) is the function; a new address and agent is not.
    assert found is not None and (found.eventID, found.sourceIPAddress) == ("e002", "104.102.221.250")
    assert "lambda.amazonaws.com" in found.reason
    assert attacker_first_use(calls) is None, "a key's own routine needs 5 calls over 24 hours"


def test_instance_credentials_used_outside_the_instance() -> None:
    from keytrail.report.heuristics import instance_credentials_outside

    instance = cred("ASIAINST", "temporary", "active", session_name="i-0abc")
    thief = cred("AKIATHIEF", "long-term", "active")

    def event(i: int, credential: str, ip: str, agent: str) -> dict[str, Any]:
        return {"eventID": f"e{i}", "credential": credential, "sourceIPAddress": ip, "userAgent": agent}

    own = [event(1, "ASIAINST", "3.225.16.109", "amazon-ssm-agent"), event(2, "ASIAINST", "AWS Internal", "ssm")]
    # From the thief's address: the first sign.
    used = instance_credentials_outside([instance, thief], [*own, event(3, "AKIATHIEF", "198.51.100.7", "cli"), event(4, "ASIAINST", "198.51.100.7", "cli")])
    assert [(x.credential, x.instance, x.addresses, x.events) for x in used] == [("ASIAINST", "i-0abc", ["198.51.100.7"], ["e4"])]
    assert "another credential" in used[0].reasons[0]
    # From an address nobody else used, with another agent than the instance's own calls: the second sign.
    fresh = instance_credentials_outside([instance], [*own, event(5, "ASIAINST", "203.0.113.50", "boto3")])
    assert [(x.addresses, x.events) for x in fresh] == [(["203.0.113.50"], ["e5"])] and "new address and user agent" in fresh[0].reasons[0]
    # Another address of the instance's with its own agent (a new public IP after a restart) is still the instance.
    assert instance_credentials_outside([instance], [*own, event(6, "ASIAINST", "3.225.16.200", "amazon-ssm-agent")]) == []
