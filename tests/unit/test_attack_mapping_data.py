"""Checks on keytrail/data/attack_mapping.json (CloudTrail event -> MITRE ATT&CK).

Three groups of tests:

* schema: every entry has allowed tactic slugs, a well-formed technique ID and
  name, and only names sources that the file defines;
* coverage: every event of section 3 of the CloudTrail primer is mapped, and so
  is every event of the coverage list (``COVERAGE``);
* Stratus Red Team: in every detonation log of the test corpus, the technique's
  attack events map to the tactic named in the file name
  (``aws.<tactic>.<technique>.json``), and every other successful Stratus call
  is mapped and explicitly classified as a supporting call.
"""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAPPING_PATH = REPO / "keytrail/data/attack_mapping.json"
DETONATION_LOGS = Path(__file__).resolve().parents[3] / "shared/corpus/stratus-red-team/docs/detonation-logs"

ALLOWED_TACTICS = {
    "discovery",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "lateral-movement",
    "collection",
    "exfiltration",
    "impact",
    "execution",
    "initial-access",
}
TECHNIQUE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
EVENT_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*:[A-Za-z][A-Za-z0-9_]*$")


@pytest.fixture(scope="module")
def mapping():
    with MAPPING_PATH.open(encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def events(mapping):
    return mapping["events"]


# --------------------------------------------------------------------------- schema


def test_top_level_shape(mapping):
    assert set(mapping) == {"version", "attack_version", "sources", "events"}
    # The ATT&CK release the techniques and names follow, as the MITRE source names it.
    assert f"v{mapping['attack_version']} " in mapping["sources"]["mitre-attack"]["name"]
    assert mapping["version"] == 1
    assert isinstance(mapping["sources"], dict) and mapping["sources"]
    assert isinstance(mapping["events"], dict) and mapping["events"]


def test_sources_are_described(mapping):
    for source_id, source in mapping["sources"].items():
        assert re.fullmatch(r"[a-z0-9-]+", source_id), source_id
        for field in ("name", "url", "licence", "attribution"):
            assert isinstance(source.get(field), str) and source[field].strip(), (
                source_id,
                field,
            )


def test_traildiscover_cc_by_attribution(mapping):
    td = mapping["sources"]["traildiscover"]
    assert td["licence"] == "CC-BY-4.0"
    for needle in ("TrailDiscover", "Adan Alvarez", "CC BY 4.0", "creativecommons.org/licenses/by/4.0"):
        assert needle in td["attribution"], needle
    assert mapping["sources"]["stratus-red-team"]["licence"] == "Apache-2.0"


def test_event_entries_schema(mapping, events):
    known_sources = set(mapping["sources"])
    problems = []
    for key, entry in events.items():
        if not EVENT_KEY.match(key):
            problems.append(f"{key}: key is not <service>:<EventName>")
        extra = set(entry) - {"tactics", "technique", "technique_name", "sources", "note"}
        if extra:
            problems.append(f"{key}: unexpected fields {sorted(extra)}")
        tactics = entry.get("tactics")
        if not isinstance(tactics, list) or not tactics:
            problems.append(f"{key}: tactics must be a non-empty list")
        else:
            if set(tactics) - ALLOWED_TACTICS:
                problems.append(f"{key}: unknown tactics {sorted(set(tactics) - ALLOWED_TACTICS)}")
            if len(set(tactics)) != len(tactics):
                problems.append(f"{key}: duplicate tactics {tactics}")
        if not TECHNIQUE_ID.match(str(entry.get("technique", ""))):
            problems.append(f"{key}: bad technique {entry.get('technique')!r}")
        name = entry.get("technique_name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{key}: technique_name missing")
        elif "." in entry.get("technique", "") and ": " not in name:
            problems.append(f"{key}: sub-technique name should read 'Parent: Sub'")
        sources = entry.get("sources")
        if not isinstance(sources, list) or not sources:
            problems.append(f"{key}: sources must be a non-empty list")
        elif set(sources) - known_sources:
            problems.append(f"{key}: undefined sources {sorted(set(sources) - known_sources)}")
        if "note" in entry and not (isinstance(entry["note"], str) and entry["note"].strip()):
            problems.append(f"{key}: empty note")
    assert not problems, "\n".join(problems)


def test_one_name_per_technique(events):
    names = {}
    for entry in events.values():
        names.setdefault(entry["technique"], set()).add(entry["technique_name"])
    clashes = {t: n for t, n in names.items() if len(n) > 1}
    assert not clashes, clashes


def test_sub_technique_names_share_parent_prefix(events):
    by_id = {e["technique"]: e["technique_name"] for e in events.values()}
    for tid, name in by_id.items():
        parent = tid.split(".")[0]
        if "." in tid and parent in by_id:
            assert name.startswith(by_id[parent] + ": "), (tid, name, by_id[parent])


# ------------------------------------------------------------------- primer coverage

# Section 3 of /work/shared/cloudtrail-primer.md, written as CloudTrail records them.
# Differences from the primer's wording, following AWS's documentation:
#  * lambda:AddPermission is logged with its API version: AddPermission20150331v2;
#  * s3 DeletePublicAccessBlock is logged as DeleteBucketPublicAccessBlock (bucket) or
#    DeleteAccountPublicAccessBlock (account);
#  * iam:PassRole is a permission, not an API call: it never appears as an eventName
#    (it shows up as RunInstances, CreateFunction20150331, ... carrying a role), so it
#    is not listed here.
PRIMER_SECTION_3 = [
    # discovery
    "sts:GetCallerIdentity",
    "iam:ListUsers",
    "iam:ListRoles",
    "iam:ListPolicies",
    "iam:GetAccountAuthorizationDetails",
    "ec2:DescribeInstances",
    "s3:ListBuckets",
    # persistence
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:CreateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup",
    "iam:CreateVirtualMFADevice",
    "iam:UploadSSHPublicKey",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "ec2:CreateKeyPair",
    "ec2:ImportKeyPair",
    "lambda:AddPermission20150331v2",
    # privilege escalation
    "iam:AttachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachGroupPolicy",
    "iam:PutUserPolicy",
    "iam:PutRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    # lateral movement
    "sts:AssumeRole",
    # defense evasion
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "guardduty:DeleteDetector",
    "guardduty:UpdateDetector",
    "guardduty:CreateIPSet",
    "config:StopConfigurationRecorder",
    "s3:PutBucketLogging",
    "ec2:DeleteFlowLogs",
    "logs:DeleteLogGroup",
    # impact and covering tracks
    "iam:DeleteUser",
    "iam:DeleteAccessKey",
    "iam:DeleteLoginProfile",
    "iam:DetachUserPolicy",
    "s3:DeleteObject",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:PutBucketAcl",
    "s3:DeleteBucketPublicAccessBlock",
    "s3:DeleteAccountPublicAccessBlock",
    "ec2:RunInstances",
    "ec2:TerminateInstances",
    "ec2:ModifySnapshotAttribute",
    "kms:ScheduleKeyDeletion",
    # collection / exfiltration
    "s3:GetObject",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
]


@pytest.mark.parametrize("event", PRIMER_SECTION_3)
def test_primer_event_is_mapped(events, event):
    assert event in events, f"{event} (primer section 3) is not mapped"


# The primer's grouping, checked where it is a statement about the event itself.
PRIMER_TACTIC = {
    "sts:GetCallerIdentity": "discovery",
    "iam:ListUsers": "discovery",
    "ec2:DescribeInstances": "discovery",
    "s3:ListBuckets": "discovery",
    "iam:CreateUser": "persistence",
    "iam:CreateAccessKey": "persistence",
    "sts:GetFederationToken": "persistence",
    "sts:GetSessionToken": "persistence",
    "iam:AttachUserPolicy": "privilege-escalation",
    "iam:PutUserPolicy": "privilege-escalation",
    "iam:CreatePolicyVersion": "privilege-escalation",
    "sts:AssumeRole": "lateral-movement",
    "cloudtrail:StopLogging": "defense-evasion",
    "guardduty:DeleteDetector": "defense-evasion",
    "config:StopConfigurationRecorder": "defense-evasion",
    "iam:DeleteUser": "impact",
    "s3:DeleteObject": "impact",
    "ec2:RunInstances": "impact",
    "kms:ScheduleKeyDeletion": "impact",
    "s3:GetObject": "collection",
    "secretsmanager:GetSecretValue": "credential-access",
}


@pytest.mark.parametrize("event,tactic", sorted(PRIMER_TACTIC.items()))
def test_primer_primary_tactic(events, event, tactic):
    assert events[event]["tactics"][0] == tactic, events[event]["tactics"]


# -------------------------------------------------------------------- coverage list

# The coverage list, as CloudTrail names the events (<first label of eventSource>:<eventName>):
# detection and logging switched off, data shared or copied out, backups destroyed, services hijacked.
COVERAGE = [
    "securityhub:DisableSecurityHub",
    "ec2:ModifyInstanceMetadataOptions",
    "cloudtrail:DeleteEventDataStore",
    "cloudtrail:StopEventDataStoreIngestion",
    "macie2:DisableMacie",
    "inspector2:Disable",
    "access-analyzer:DeleteAnalyzer",
    "bedrock:DeleteModelInvocationLoggingConfiguration",
    "bedrock:PutModelInvocationLoggingConfiguration",
    "bedrock:Converse",
    "bedrock:ConverseStream",
    "bedrock:InvokeModel",
    "kms:CreateGrant",
    "kms:DisableKey",
    "secretsmanager:PutResourcePolicy",
    "logs:PutResourcePolicy",
    "dynamodb:PutResourcePolicy",
    "s3:PutObjectAcl",
    "s3:PutBucketWebsite",
    "ec2:CopySnapshot",
    "dynamodb:ExportTableToPointInTime",
    "backup:DeleteRecoveryPoint",
    "backup:DeleteBackupVault",
    "s3:PutBucketObjectLockConfiguration",
    "ses:SendRawEmail",
    "account:PutAlternateContact",
    "iam:CreateInstanceProfile",
    "s3:CreateBucket",
]


def test_every_coverage_event_is_mapped(events):
    missing = [event for event in COVERAGE if event not in events]
    assert not missing, f"coverage-list events not mapped: {missing}"


@pytest.mark.parametrize("event", COVERAGE)
def test_coverage_event_says_why(events, event):
    assert events[event].get("note"), f"{event}: no note saying why"


# ----------------------------------------------------------------- Stratus Red Team

# For each detonation log: the technique's attack events (from SOURCES.md section 2,
# "attack-relevant eventNames") and the supporting calls Stratus makes around them.
# Attack events must carry the file's tactic, whether the call succeeded or was denied
# (ec2-get-password-data, organizations-leave, ec2-download-user-data and
# ec2-launch-unusual-instances only ever fail). Supporting calls (assuming the role the
# technique then acts with, GetCallerIdentity checks, polling, clean-up, enabling a
# service first) must be mapped, but may carry another tactic.
STRATUS = {
    "aws.credential-access.ec2-get-password-data": (
        ["ec2:GetPasswordData"],
        ["sts:AssumeRole"],
    ),
    "aws.credential-access.ec2-steal-instance-credentials": (
        ["ssm:SendCommand"],
        [
            "sts:GetCallerIdentity",
            "ec2:DescribeInstances",
            "ssm:DescribeInstanceInformation",
            "ssm:GetCommandInvocation",
        ],
    ),
    "aws.credential-access.secretsmanager-batch-retrieve-secrets": (
        ["secretsmanager:BatchGetSecretValue"],
        [],
    ),
    "aws.credential-access.secretsmanager-retrieve-secrets": (
        ["secretsmanager:GetSecretValue"],
        ["secretsmanager:ListSecrets"],
    ),
    "aws.credential-access.ssm-retrieve-securestring-parameters": (
        ["ssm:GetParameters"],
        ["ssm:DescribeParameters"],
    ),
    "aws.defense-evasion.cloudtrail-delete": (["cloudtrail:DeleteTrail"], []),
    "aws.defense-evasion.cloudtrail-event-selectors": (["cloudtrail:PutEventSelectors"], []),
    "aws.defense-evasion.cloudtrail-stop": (["cloudtrail:StopLogging"], []),
    "aws.defense-evasion.dns-delete-logs": (["route53resolver:DeleteResolverQueryLogConfig"], []),
    "aws.defense-evasion.organizations-leave": (
        ["organizations:LeaveOrganization"],
        ["sts:AssumeRole"],
    ),
    "aws.defense-evasion.vpc-remove-flow-logs": (["ec2:DeleteFlowLogs"], []),
    "aws.discovery.ec2-download-user-data": (
        ["ec2:DescribeInstanceAttribute"],
        ["sts:AssumeRole"],
    ),
    "aws.execution.ec2-launch-unusual-instances": (
        ["ec2:RunInstances"],
        ["sts:AssumeRole"],
    ),
    "aws.execution.ec2-user-data": (
        ["ec2:ModifyInstanceAttribute"],
        ["ec2:DescribeInstances", "ec2:StopInstances", "ec2:StartInstances"],
    ),
    "aws.execution.ssm-send-command": (
        ["ssm:SendCommand"],
        ["ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation"],
    ),
    "aws.execution.ssm-start-session": (
        ["ssm:StartSession"],
        ["ssm:DescribeInstanceInformation", "ssm:TerminateSession"],
    ),
    "aws.exfiltration.ec2-security-group-open-port-22-ingress": (
        ["ec2:AuthorizeSecurityGroupIngress"],
        [],
    ),
    "aws.exfiltration.ec2-share-ami": (["ec2:ModifyImageAttribute"], []),
    "aws.exfiltration.ec2-share-ebs-snapshot": (["ec2:ModifySnapshotAttribute"], []),
    "aws.exfiltration.rds-share-snapshot": (["rds:ModifyDBSnapshotAttribute"], []),
    "aws.impact.bedrock-invoke-model": (
        ["bedrock:InvokeModel"],
        [
            "bedrock:GetFoundationModelAvailability",
            "bedrock:ListFoundationModelAgreementOffers",
            "bedrock:CreateFoundationModelAgreement",
            "bedrock:PutFoundationModelEntitlement",
            "bedrock:PutUseCaseForModelAccess",
        ],
    ),
    "aws.initial-access.console-login-without-mfa": (["signin:ConsoleLogin"], []),
    "aws.lateral-movement.ec2-instance-connect": (
        ["ec2-instance-connect:SendSSHPublicKey"],
        [],
    ),
    "aws.lateral-movement.ec2-serial-console-send-ssh-public-key": (
        ["ec2-instance-connect:SendSerialConsoleSSHPublicKey"],
        ["ec2:EnableSerialConsoleAccess"],
    ),
    "aws.persistence.iam-backdoor-role": (["iam:UpdateAssumeRolePolicy"], []),
    "aws.persistence.iam-backdoor-user": (["iam:CreateAccessKey"], []),
    "aws.persistence.iam-create-admin-user": (
        ["iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey"],
        [],
    ),
    "aws.persistence.iam-create-backdoor-role": (
        ["iam:CreateRole", "iam:AttachRolePolicy"],
        [],
    ),
    "aws.persistence.iam-create-user-login-profile": (
        ["iam:CreateLoginProfile"],
        ["sts:GetCallerIdentity", "iam:DeleteLoginProfile"],
    ),
    "aws.persistence.lambda-backdoor-function": (["lambda:AddPermission20150331v2"], []),
    "aws.persistence.lambda-layer-extension": (
        ["lambda:UpdateFunctionConfiguration20150331v2"],
        [],
    ),
    "aws.persistence.lambda-overwrite-code": (["lambda:UpdateFunctionCode20150331v2"], []),
    "aws.persistence.rolesanywhere-create-trust-anchor": (
        ["rolesanywhere:CreateTrustAnchor", "rolesanywhere:CreateProfile"],
        [],
    ),
    "aws.persistence.sts-federation-token": (
        ["sts:GetFederationToken"],
        ["sts:GetCallerIdentity"],
    ),
    "aws.privilege-escalation.iam-update-user-login-profile": (
        ["iam:UpdateLoginProfile"],
        [],
    ),
}


def _event_key(record):
    return record["eventSource"].split(".")[0] + ":" + record["eventName"]


def _load_records(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("Records", [data])
    return data


def _detonation_files():
    if not DETONATION_LOGS.is_dir():
        return []
    return sorted(DETONATION_LOGS.glob("aws.*.json"))


needs_corpus = pytest.mark.skipif(not DETONATION_LOGS.is_dir(), reason=f"test corpus not found at {DETONATION_LOGS}")


@needs_corpus
def test_every_detonation_log_is_classified():
    on_disk = {p.stem for p in _detonation_files()}
    assert on_disk == set(STRATUS), {
        "files without an entry here": sorted(on_disk - set(STRATUS)),
        "entries without a file": sorted(set(STRATUS) - on_disk),
    }


@pytest.mark.parametrize("stem", sorted(STRATUS))
def test_stratus_listed_events_are_mapped_with_file_tactic(events, stem):
    """Independent of the corpus: the classification table itself agrees with the mapping."""
    tactic = stem.split(".")[1]
    assert tactic in ALLOWED_TACTICS
    attack, support = STRATUS[stem]
    for key in attack:
        assert key in events, f"{stem}: attack event {key} not mapped"
        assert tactic in events[key]["tactics"], (stem, key, events[key]["tactics"])
    for key in support:
        assert key in events, f"{stem}: supporting event {key} not mapped"


@needs_corpus
@pytest.mark.parametrize("stem", sorted(STRATUS))
def test_stratus_detonation_log(events, stem):
    path = DETONATION_LOGS / f"{stem}.json"
    if not path.exists():
        pytest.fail(f"{path} missing")
    tactic = stem.split(".")[1]
    attack, support = STRATUS[stem]
    records = _load_records(path)
    present = {_event_key(r) for r in records}
    assert set(attack) <= present, f"attack events not in the log: {set(attack) - present}"

    checked = 0
    problems = []
    for r in records:
        key = _event_key(r)
        by_stratus = "stratus-red-team" in (r.get("userAgent") or "")
        if not ((by_stratus and not r.get("errorCode")) or key in attack):
            continue
        checked += 1
        entry = events.get(key)
        if entry is None:
            problems.append(f"{key} not mapped")
        elif key in attack:
            if tactic not in entry["tactics"]:
                problems.append(f"{key}: {tactic} not in {entry['tactics']}")
        elif key not in support:
            problems.append(f"{key}: successful Stratus call not classified as attack or support")
    assert checked, "no record checked"
    assert not problems, "\n".join(problems)
