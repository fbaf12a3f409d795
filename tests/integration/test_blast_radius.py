"""The blast radius and findings, on both stores: the sample incidents (known answers from their facts) and the real corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.graph.backends import Backend, FalkorDBBackend, Neo4jBackend
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.loaders.records import SourceRecord
from keytrail.report import build_blast_radius, build_findings
from keytrail.report.containment import each_target
from keytrail.report.model import to_json
from keytrail.report.render import blast_radius_header
from keytrail.sample import Incident, cross_account_incident, session_token_incident, workshop_incident

WORKSHOP = workshop_incident()
SESSION = session_token_incident()
CROSS = cross_account_incident()

INVICTUS_KEY = "AKIATFQR7NSC8Q4X20BJ"
SANS_LEAKED = "AKIAU7JNXC7K7XNL3F6J"
SANS_SECOND = "AKIAU7JNXC7KZLY6XYHJ"

#: Each Stratus Red Team detonation log's attack events (SOURCES.md §2), which `findings` must label with the file's tactic.
STRATUS_ATTACK_EVENTS = {
    "aws.credential-access.ec2-get-password-data": ["ec2:GetPasswordData"],
    "aws.credential-access.ec2-steal-instance-credentials": ["ssm:SendCommand"],
    "aws.credential-access.secretsmanager-batch-retrieve-secrets": ["secretsmanager:BatchGetSecretValue"],
    "aws.credential-access.secretsmanager-retrieve-secrets": ["secretsmanager:GetSecretValue"],
    "aws.credential-access.ssm-retrieve-securestring-parameters": ["ssm:GetParameters"],
    "aws.defense-evasion.cloudtrail-delete": ["cloudtrail:DeleteTrail"],
    "aws.defense-evasion.cloudtrail-event-selectors": ["cloudtrail:PutEventSelectors"],
    "aws.defense-evasion.cloudtrail-stop": ["cloudtrail:StopLogging"],
    "aws.defense-evasion.dns-delete-logs": ["route53resolver:DeleteResolverQueryLogConfig"],
    "aws.defense-evasion.organizations-leave": ["organizations:LeaveOrganization"],
    "aws.defense-evasion.vpc-remove-flow-logs": ["ec2:DeleteFlowLogs"],
    "aws.discovery.ec2-download-user-data": ["ec2:DescribeInstanceAttribute"],
    "aws.execution.ec2-launch-unusual-instances": ["ec2:RunInstances"],
    "aws.execution.ec2-user-data": ["ec2:ModifyInstanceAttribute"],
    "aws.execution.ssm-send-command": ["ssm:SendCommand"],
    "aws.execution.ssm-start-session": ["ssm:StartSession"],
    "aws.exfiltration.ec2-security-group-open-port-22-ingress": ["ec2:AuthorizeSecurityGroupIngress"],
    "aws.exfiltration.ec2-share-ami": ["ec2:ModifyImageAttribute"],
    "aws.exfiltration.ec2-share-ebs-snapshot": ["ec2:ModifySnapshotAttribute"],
    "aws.exfiltration.rds-share-snapshot": ["rds:ModifyDBSnapshotAttribute"],
    "aws.impact.bedrock-invoke-model": ["bedrock:InvokeModel"],
    "aws.initial-access.console-login-without-mfa": ["signin:ConsoleLogin"],
    "aws.lateral-movement.ec2-instance-connect": ["ec2-instance-connect:SendSSHPublicKey"],
    "aws.lateral-movement.ec2-serial-console-send-ssh-public-key": ["ec2-instance-connect:SendSerialConsoleSSHPublicKey"],
    "aws.persistence.iam-backdoor-role": ["iam:UpdateAssumeRolePolicy"],
    "aws.persistence.iam-backdoor-user": ["iam:CreateAccessKey"],
    "aws.persistence.iam-create-admin-user": ["iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey"],
    "aws.persistence.iam-create-backdoor-role": ["iam:CreateRole", "iam:AttachRolePolicy"],
    "aws.persistence.iam-create-user-login-profile": ["iam:CreateLoginProfile"],
    "aws.persistence.lambda-backdoor-function": ["lambda:AddPermission20150331v2"],
    "aws.persistence.lambda-layer-extension": ["lambda:UpdateFunctionConfiguration20150331v2"],
    "aws.persistence.lambda-overwrite-code": ["lambda:UpdateFunctionCode20150331v2"],
    "aws.persistence.rolesanywhere-create-trust-anchor": ["rolesanywhere:CreateTrustAnchor"],
    "aws.persistence.sts-federation-token": ["sts:GetFederationToken"],
    "aws.privilege-escalation.iam-update-user-login-profile": ["iam:UpdateLoginProfile"],
}


def load_incident(backend: Backend, incident: Incident[Any], name: str, rejects: Path) -> None:
    items = [SourceRecord(f"sample:{incident.name}", index, record) for index, record in enumerate(incident.records)]
    summary = Ingest(backend, name, rejects_path=rejects).run(items, [f"sample:{incident.name}"])
    assert summary.ok and summary.balanced


@pytest.fixture(scope="module")
def samples(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    rejects = tmp_path_factory.mktemp("rejects") / "rejects.jsonl"
    for incident in (WORKSHOP, SESSION, CROSS):
        load_incident(backend, incident, incident.name, rejects)
    return backend


@pytest.fixture(scope="module")
def workshop(samples: Backend) -> dict[str, Any]:
    return build_blast_radius(samples, WORKSHOP.facts.leaked_key.access_key_id, "workshop").to_json()


@pytest.fixture(scope="module")
def session(samples: Backend) -> dict[str, Any]:
    return build_blast_radius(samples, SESSION.facts.leaked_key.access_key_id, "session-token").to_json()


@pytest.fixture(scope="module")
def cross(samples: Backend) -> dict[str, Any]:
    return build_blast_radius(samples, CROSS.facts.leaked_key.access_key_id, "cross-account").to_json()


def credential(report: dict[str, Any], cred_id: str) -> dict[str, Any]:
    [found] = [c for c in report["credentials"] if c["id"] == cred_id]
    return found


# -------------------------------------------------------------------------- workshop


def test_workshop_identity_and_first_use(workshop: dict[str, Any]) -> None:
    facts = WORKSHOP.facts
    assert workshop["found"]
    assert (workshop["identity"]["type"], workshop["identity"]["name"], workshop["identity"]["account"]) == (
        "IAMUser",
        facts.leaked_key.user_name,
        facts.account_id,
    )
    assert (workshop["first_use"]["time"], workshop["first_use"]["eventName"]) == (facts.first_use_time, "GetCallerIdentity")
    assert workshop["first_use"]["sourceIPAddress"] == facts.attacker_ip
    assert workshop["evidence"]["last_event"] == max(r["eventTime"] for r in WORKSHOP.records)


def test_workshop_credentials_in_order_with_lineage(workshop: dict[str, Any]) -> None:
    facts = WORKSHOP.facts
    leaked, dormant, active = facts.leaked_key.access_key_id, facts.dormant_key.access_key_id, facts.active_key.access_key_id
    ids = [c["id"] for c in workshop["credentials"]]
    assert ids == [leaked, dormant, active]
    assert workshop["credentials"][0]["parent"] is None
    for fact in (facts.dormant_key, facts.active_key):
        created = credential(workshop, fact.access_key_id)
        assert (created["parent"], created["born_by"], created["kind"]) == (leaked, "CreateAccessKey", "long-term")
        assert created["owner"].endswith(f":user/{fact.user_name}")
    assert credential(workshop, dormant)["events"] == 0
    assert credential(workshop, active)["events"] == 5


def test_workshop_sleeper_status_and_still_alive(workshop: dict[str, Any]) -> None:
    facts = WORKSHOP.facts
    leaked, dormant, active = facts.leaked_key.access_key_id, facts.dormant_key.access_key_id, facts.active_key.access_key_id
    assert [s["id"] for s in workshop["sleepers"]] == [dormant]
    assert credential(workshop, leaked)["status"] == "deleted"
    assert leaked not in workshop["still_active"]
    assert set(workshop["still_active"]) == {dormant, active}
    actions = {(c["action"], c["target"]) for c in each_target(workshop["containment"])}
    assert {("deactivate-and-delete-key", dormant), ("deactivate-and-delete-key", active)} <= actions
    assert ("deactivate-and-delete-key", leaked) not in actions


def test_workshop_active_key_events_end_in_deleting_the_leaked_keys_user(workshop: dict[str, Any]) -> None:
    facts = WORKSHOP.facts
    events = [t for t in workshop["timeline"] if t["credential"] == facts.active_key.access_key_id]
    assert [t["eventName"] for t in events] == ["GetCallerIdentity", "DetachUserPolicy", "DeleteAccessKey", "DeleteLoginProfile", "DeleteUser"]
    assert [t["succeeded"] for t in events] == [True, True, True, False, True]
    assert events[-1]["target"] == f"arn:aws:iam::{facts.account_id}:user/{facts.deleted_user}"
    by_id = {f["eventID"]: f for f in workshop["findings"]}
    delete_user = by_id[events[-1]["eventID"]]
    assert (delete_user["category"], delete_user["succeeded"], delete_user["credential"]) == ("impact", True, facts.active_key.access_key_id)
    failed = by_id[events[3]["eventID"]]
    assert failed["succeeded"] is False and failed["errorCode"] == "NoSuchEntityException"


def test_workshop_findings_cite_event_and_time_and_failed_calls_stay_attempts(workshop: dict[str, Any]) -> None:
    timeline = {t["eventID"]: t for t in workshop["timeline"]}
    for finding in workshop["findings"]:
        assert timeline[finding["eventID"]]["time"] == finding["time"]
        assert finding["category"] == finding["tactics"][0] and finding["technique"].startswith("T")
    denied = [f for f in workshop["findings"] if f["eventName"] == "GetAccountAuthorizationDetails"]
    assert [f["succeeded"] for f in denied] == [False]
    # A failed call calls for no containment.
    assert not any(c["eventID"] == denied[0]["eventID"] for c in each_target(workshop["containment"]))


def test_workshop_timeline_is_every_event_of_every_credential(samples: Backend, workshop: dict[str, Any]) -> None:
    facts = WORKSHOP.facts
    keys = {facts.leaked_key.access_key_id, facts.dormant_key.access_key_id, facts.active_key.access_key_id}
    expected = sorted(r["eventID"] for r in WORKSHOP.records if (r.get("userIdentity") or {}).get("accessKeyId") in keys)
    assert sorted(t["eventID"] for t in workshop["timeline"]) == expected
    assert [t["time"] for t in workshop["timeline"]] == sorted(t["time"] for t in workshop["timeline"])


# --------------------------------------------------------------------- session token


def test_session_token_outlives_its_deleted_source_key(session: dict[str, Any]) -> None:
    facts = SESSION.facts
    leaked = credential(session, facts.leaked_key.access_key_id)
    assert (leaked["status"], leaked["status_at"]) == ("deleted", facts.key_deleted_time)
    token = credential(session, facts.session_key_id)
    assert (token["parent"], token["born_by"], token["born_at"]) == (facts.leaked_key.access_key_id, "GetSessionToken", facts.session_issued_time)
    assert (token["status"], token["expires"]) == ("active", facts.session_expiration)
    assert facts.session_key_id in session["still_active"] and facts.leaked_key.access_key_id not in session["still_active"]
    used_after = [t for t in session["timeline"] if t["credential"] == facts.session_key_id and t["time"] > facts.key_deleted_time]
    assert used_after, "the session key's calls after the deletion are in the timeline"
    revoke = [c for c in each_target(session["containment"]) if c["action"] == "revoke-sessions" and c["target"].endswith(":user/build-bot")]
    assert revoke and "aws:TokenIssueTime" in revoke[0]["detail"]


def test_session_token_role_chain_user_and_console_login(session: dict[str, Any]) -> None:
    facts = SESSION.facts
    role = credential(session, facts.role_key_id)
    assert (role["parent"], role["born_by"], role["session_of"]) == (facts.session_key_id, "AssumeRole", facts.role_arn)
    assert role["status"] == "expired"
    [created] = session["principals_created"]
    assert (created["name"], created["by"], created["deleted"]) == (facts.created_user, facts.role_key_id, False)
    [profile] = [c for c in session["credentials"] if c["kind"] == "console-password"]
    assert (profile["owner"], profile["parent"], profile["born_by"], profile["status"]) == (created["arn"], facts.role_key_id, "CreateLoginProfile", "active")
    assert [x["time"] for x in profile["logins"]] == [facts.console_login_time]
    console = credential(session, facts.console_key_id)
    assert (console["parent"], console["born_by"], console["born_at"]) == (profile["id"], "ConsoleLogin", facts.console_login_time)
    login = [f for f in session["findings"] if f["eventName"] == "ConsoleLogin"]
    assert [(f["time"], f["credential"], f["category"]) for f in login] == [(facts.console_login_time, profile["id"], "initial-access")]
    assert ("delete-login-profile", created["arn"]) in {(c["action"], c["target"]) for c in each_target(session["containment"])}


def test_upstream_names_the_credentials_that_made_a_key(samples: Backend) -> None:
    facts = SESSION.facts
    report = build_blast_radius(samples, facts.role_key_id, "session-token").to_json()
    chain = [(u["born"], u["credential"], u["depth"]) for u in report["upstream"]]
    assert chain == [(facts.role_key_id, facts.session_key_id, 0), (facts.session_key_id, facts.leaked_key.access_key_id, 1)]
    # Only the credential that made the key is likely compromised; the one before it is provenance.
    assert [u["likely_compromised"] for u in report["upstream"]] == [True, False]
    assert {c["target"] for c in each_target(report["containment"]) if c["action"] == "investigate-upstream"} == {facts.session_key_id}
    assert build_blast_radius(samples, facts.leaked_key.access_key_id, "session-token").to_json()["upstream"] == []


# ---------------------------------------------------------------------- cross account


def test_cross_account_role_chain(cross: dict[str, Any]) -> None:
    facts = CROSS.facts
    entry = credential(cross, facts.entry_key_id)
    assert (entry["parent"], entry["account"], entry["session_of"]) == (facts.leaked_key.access_key_id, facts.account_b, facts.entry_role_arn)
    assert (entry["sharedEventID"], entry["twinAccount"]) == (facts.shared_event_id, facts.account_b)
    chained = credential(cross, facts.chained_key_id)
    assert (chained["parent"], chained["account"], chained["session_of"]) == (facts.entry_key_id, facts.account_b, facts.chained_role_arn)


def test_the_other_accounts_copy_of_a_call_is_never_a_pivot(cross: dict[str, Any]) -> None:
    ours = {t["eventID"] for t in cross["timeline"]}
    shared = {r["sharedEventID"] for r in CROSS.records if r["eventID"] in ours and r.get("sharedEventID")}
    # The same calls as logged by the other account: not signed by a blast-radius key, yet the same calls.
    twins = {r["eventID"] for r in CROSS.records if r.get("sharedEventID") in shared and r["eventID"] not in ours}
    assert twins
    evidence = {e["eventID"] for p in cross["pivots"] for e in p["evidence"]}
    assert not evidence & twins


def test_cross_account_findings_and_containment(cross: dict[str, Any]) -> None:
    facts = CROSS.facts
    [stop] = [f for f in cross["findings"] if f["eventName"] == "StopLogging"]
    assert (stop["category"], stop["credential"], stop["time"], stop["succeeded"]) == ("defense-evasion", facts.chained_key_id, facts.stop_logging_time, True)
    [attach] = [f for f in cross["findings"] if f["eventName"] == "AttachRolePolicy"]
    assert attach["category"] == "privilege-escalation" and "AdministratorAccess" in attach["detail"]
    [read] = [f for f in cross["findings"] if f["eventName"] == "GetObject"]
    assert read["category"] == "collection" and read["target"].endswith(facts.object_key)
    actions = {(c["action"], c["target"]) for c in each_target(cross["containment"])}
    assert ("re-enable-logging", facts.trail_arn) in actions
    assert ("detach-policy", facts.chained_role_arn) in actions


def test_incident_filter_keeps_other_incidents_out(samples: Backend) -> None:
    # Under another incident's name the workshop key has no events at all.
    typed = build_blast_radius(samples, WORKSHOP.facts.leaked_key.access_key_id, "cross-account")
    other = typed.to_json()
    assert other["timeline"] == [] and other["first_use"] is None
    assert other["found"] and not other["in_scope"]
    assert any(line.startswith("No evidence of this key in this scope (incident cross-account)") for line in blast_radius_header(typed))
    everything = build_blast_radius(samples, WORKSHOP.facts.leaked_key.access_key_id, None).to_json()
    assert len(everything["timeline"]) == len(build_blast_radius(samples, WORKSHOP.facts.leaked_key.access_key_id, "workshop").to_json()["timeline"])


def test_an_unknown_key_is_reported_as_not_found(samples: Backend) -> None:
    report = build_blast_radius(samples, "AKIAUNKNOWNUNKNOWN00", None).to_json()
    assert not report["found"] and report["credentials"][0]["events"] == 0 and report["timeline"] == []


def test_findings_over_a_whole_incident(samples: Backend) -> None:
    found = to_json(build_findings(samples, "workshop"))
    assert {f["credential"] for f in found} >= {WORKSHOP.facts.leaked_key.access_key_id, WORKSHOP.facts.active_key.access_key_id}
    assert all(f["eventID"] for f in found)
    impact = to_json(build_findings(samples, "workshop", "impact"))
    assert impact and all("impact" in f["tactics"] for f in impact)
    assert not any(f["principal"] and f["principal"].startswith("service:") for f in found)


# ------------------------------------------------------------------------ the CLI


@pytest.fixture
def cli_args(cli_store: tuple[list[str], dict[str, str]], tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The CLI pointed at a store holding the workshop under incident ``cli``, loaded through ``keytrail load``."""
    args, env = cli_store
    records = tmp_path / "workshop.json"
    records.write_text(json.dumps({"Records": WORKSHOP.records}))
    result = CliRunner().invoke(app, [*args, "load", str(records), "--incident", "cli", "--rejects", str(tmp_path / "r.jsonl")], env=env)
    assert result.exit_code == 0, result.output
    return args, env


def test_cli_json_markdown_and_terminal(cli_args: tuple[list[str], dict[str, str]]) -> None:
    args, env = cli_args
    key = WORKSHOP.facts.leaked_key.access_key_id
    result = CliRunner().invoke(app, [*args, "blast-radius", key, "--incident", "cli", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["key"] == key and next(c["id"] for c in data["credentials"]) == key
    assert set(data["still_active"]) == {WORKSHOP.facts.dormant_key.access_key_id, WORKSHOP.facts.active_key.access_key_id}
    result = CliRunner().invoke(app, [*args, "blast-radius", key, "--incident", "cli", "--markdown"], env=env)
    assert result.exit_code == 0 and "## Containment" in result.stdout and WORKSHOP.facts.active_key.access_key_id in result.stdout
    result = CliRunner().invoke(app, [*args, "blast-radius", key, "-i", "cli", "--no-timeline"], env=env)
    assert result.exit_code == 0 and "Findings" in result.stdout and "Timeline" not in result.stdout
    result = CliRunner().invoke(app, [*args, "findings", "--incident", "cli", "--category", "impact", "--json"], env=env)
    assert result.exit_code == 0
    impact = json.loads(result.stdout)["findings"]
    assert impact and all("impact" in f["tactics"] for f in impact)
    result = CliRunner().invoke(app, [*args, "findings", "--incident", "cli"], env=env)
    assert result.exit_code == 0 and WORKSHOP.facts.active_key.access_key_id in result.stdout
    assert CliRunner().invoke(app, [*args, "findings", "--category", "nonsense"], env=env).exit_code == 2
    assert CliRunner().invoke(app, [*args, "blast-radius", "AKIAUNKNOWNUNKNOWN00", "--json"], env=env).exit_code == 1
    # An incident that does not exist is an error that lists the ones that do, never a report calling the key active.
    result = CliRunner().invoke(app, [*args, "blast-radius", key, "--incident", "no-such-case", "--json"], env=env)
    assert result.exit_code == 1 and "no incident 'no-such-case'" in result.stderr and "cli" in result.stderr and result.stdout == ""
    for command in (["findings"], ["findings", "--json"]):
        result = CliRunner().invoke(app, [*args, *command, "--incident", "no-such-case"], env=env)
        assert result.exit_code == 1 and "no incident 'no-such-case'" in result.stderr and result.stdout == ""


# ------------------------------------------------------------------------ real corpus


@pytest.fixture(scope="module")
def real(samples: Backend, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    rejects = tmp_path_factory.mktemp("corpus-rejects") / "rejects.jsonl"
    for folder in ("invictus-aws-dataset", "sans504-s3-ransomware-lab"):
        Ingest(samples, folder, rejects_path=rejects).run(FileSource([corpus / folder]), [folder])
    logs = corpus / "stratus-red-team" / "docs" / "detonation-logs"
    for stem in STRATUS_ATTACK_EVENTS:
        path = logs / f"{stem}.json"
        Ingest(samples, stem, rejects_path=rejects).run(FileSource([path]), [str(path)])
    return samples


@pytest.mark.corpus
def test_invictus_blast_radius(real: Backend) -> None:
    report = build_blast_radius(real, INVICTUS_KEY, "invictus-aws-dataset").to_json()
    assert report["identity"]["name"] == "bert-jan"
    created = {p["name"] for p in report["principals_created"]}
    assert {"stratus-red-team-nmfalu-gfjyeaypjt", "stratus-red-team-backdoor-u-user", "malicious-iam-user", "stratus-red-team-login-profile-user"} <= created
    keys = {c["id"]: c for c in report["credentials"]}
    for key in ("AKIATFQR7NSC3ZO6PKAZ", "AKIATFQR7NSCQLA2F4OD"):
        assert (keys[key]["parent"], keys[key]["born_by"], keys[key]["status"]) == (INVICTUS_KEY, "CreateAccessKey", "deleted")
        assert key in {s["id"] for s in report["sleepers"]}
    [console] = [c for c in report["credentials"] if c["kind"] == "console-password" and "nmfalu" in c["id"]]
    assert [x["time"] for x in console["logins"]] == ["2023-07-10T12:23:15Z"] and console["status"] == "deleted"
    assert any(f["eventName"] == "ConsoleLogin" and f["credential"] == console["id"] for f in report["findings"])
    [admin] = [f for f in report["findings"] if f["eventName"] == "AttachUserPolicy" and f["target"].endswith("user/malicious-iam-user")]
    assert admin["category"] == "privilege-escalation" and "AdministratorAccess" in admin["detail"]
    tampering = {f["eventName"] for f in report["findings"] if f["category"] == "defense-evasion"}
    assert {"StopLogging", "DeleteTrail", "PutEventSelectors"} <= tampering
    assert not [f for f in report["findings"] if f["eventName"] == "StopLogging" and f["succeeded"]], "every StopLogging failed: attempts only"
    assert "benjamin" not in json.dumps(report)


@pytest.mark.corpus
def test_sans_blast_radius(real: Backend) -> None:
    report = build_blast_radius(real, SANS_LEAKED, "sans504-s3-ransomware-lab").to_json()
    assert report["identity"]["name"] == "jmerckle"
    [escalation] = [f for f in report["findings"] if f["eventName"] == "PutUserPolicy"]
    assert (escalation["time"], escalation["category"], escalation["succeeded"]) == ("2021-07-29T13:06:49Z", "privilege-escalation", True)
    assert "full administrator" in escalation["detail"]
    second = credential(report, SANS_SECOND)
    assert (second["parent"], second["born_at"], second["events"]) == (SANS_LEAKED, "2021-07-29T13:10:42Z", 1)
    assert [(t["time"], t["eventName"]) for t in report["timeline"] if t["credential"] == SANS_SECOND] == [("2021-07-29T13:11:40Z", "GetCallerIdentity")]
    text = json.dumps(report)
    assert "FalsimentisRoot" not in text and ":root" not in text


@pytest.mark.corpus
@pytest.mark.parametrize("stem", sorted(STRATUS_ATTACK_EVENTS))
def test_stratus_findings_carry_the_files_tactic(real: Backend, stem: str) -> None:
    tactic = stem.split(".")[1]
    found = to_json(build_findings(real, stem))
    for action in STRATUS_ATTACK_EVENTS[stem]:
        labelled = [f for f in found if f["action"] == action]
        assert labelled, f"{stem}: no finding for {action}"
        assert all(tactic in f["tactics"] for f in labelled), (action, labelled[0]["tactics"])


# ------------------------------------------------------------------- both stores agree


@pytest.mark.neo4j
def test_both_stores_give_the_same_report(falkordb_backend: FalkorDBBackend, neo4j_backend: Neo4jBackend, tmp_path: Path) -> None:
    reports = []
    for store in (falkordb_backend, neo4j_backend):
        # Loaded again under a name of its own: the same events, tagged with one more incident, whatever the store held.
        load_incident(store, SESSION, "equality", tmp_path / "rejects.jsonl")
        reports.append(build_blast_radius(store, SESSION.facts.leaked_key.access_key_id, "equality").to_json())
    assert reports[0]["credentials"] and reports[0]["findings"]
    assert json.dumps(reports[0], sort_keys=True) == json.dumps(reports[1], sort_keys=True)
