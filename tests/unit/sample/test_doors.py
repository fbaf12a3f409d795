"""Tests of the door incidents: the facts must be recoverable from the records themselves."""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from keytrail.sample.doors import (
    DOOR_INCIDENTS,
    BackdoorRoleFacts,
    CrossAccountEntryFacts,
    DoorFacts,
    FederationConsoleFacts,
    IdentityCenterFacts,
    InstanceConnectFacts,
    InstanceProfileFacts,
    LambdaBackdoorFacts,
    TrustBackdoorFacts,
    backdoor_role_incident,
    federation_console_incident,
    identity_center_incident,
    instance_connect_incident,
    instance_profile_incident,
    lambda_backdoor_incident,
    trust_backdoor_incident,
)
from keytrail.sample.workshop import Incident

Record = dict[str, Any]

KEY_RE = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{16}$")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"

BUILT: dict[str, Incident[Any]] = {name: make(7) for name, make in DOOR_INCIDENTS}
NAMES = [name for name, _ in DOOR_INCIDENTS]


# --------------------------------------------------------------------------- helpers


def signer(record: Record) -> str | None:
    key = record["userIdentity"].get("accessKeyId")
    return key if isinstance(key, str) else None


def signed_by(records: list[Record], key: str) -> list[Record]:
    return sorted((r for r in records if signer(r) == key), key=lambda r: r["eventTime"])


def by_id(records: list[Record]) -> dict[str, Record]:
    return {r["eventID"]: r for r in records}


def minted(record: Record) -> Iterator[str]:
    """Keys a record brings into being (GetSigninToken's credentials echo the caller's key)."""
    response = record.get("responseElements") or {}
    if record["eventName"] == "GetSigninToken":
        return
    if isinstance(response.get("accessKey"), dict):
        yield response["accessKey"]["accessKeyId"]
    if isinstance(response.get("credentials"), dict):
        yield response["credentials"]["accessKeyId"]


def minted_by(records: list[Record]) -> dict[str, Record]:
    return {key: r for r in records for key in minted(r)}


def aws_time(value: str) -> datetime:
    """``Jan 7, 2026, 4:21:40 PM`` (STS) → datetime."""
    return datetime.strptime(value, "%b %d, %Y, %I:%M:%S %p").replace(tzinfo=UTC)


def iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def one(records: list[Record], **match: Any) -> Record:
    found = [r for r in records if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, len(found))
    return found[0]


def trust_principals(document: str) -> list[str]:
    out: list[str] = []
    for statement in json.loads(document)["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "sts:AssumeRole"
        out.extend(str(v) for v in statement["Principal"].values())
    return out


# --------------------------------------------------------------------------- every door


def test_registry() -> None:
    assert len(NAMES) == len(set(NAMES)) == 7
    for name, incident in BUILT.items():
        assert incident.name == name
        assert isinstance(incident.facts, DoorFacts)
        assert dataclasses.is_dataclass(incident.facts)
        with pytest.raises(dataclasses.FrozenInstanceError):
            incident.facts.account_id = "000000000000"  # type: ignore[misc]


@pytest.mark.parametrize("name", NAMES)
def test_records_are_cloudtrail(name: str) -> None:
    records = BUILT[name].records
    assert 80 <= len(records) <= 600
    ids = [r["eventID"] for r in records]
    assert len(ids) == len(set(ids))
    for r in records:
        assert UUID4_RE.match(r["eventID"]), r
        assert TIME_RE.match(r["eventTime"]), r
        assert r["eventSource"].endswith(".amazonaws.com") and r["eventName"], r
        ident = r["userIdentity"]
        assert isinstance(ident, dict) and ident.get("type") in ("IAMUser", "AssumedRole", "AWSService", "AWSAccount", "FederatedUser", "SAMLUser"), r
        assert re.fullmatch(r"\d{12}", r["recipientAccountId"])
        assert r["eventType"] in ("AwsApiCall", "AwsConsoleSignIn")
        assert (r["eventType"] == "AwsApiCall") == ("requestID" in r), r
        assert r["requestParameters"] is None or r["requestParameters"]
        assert r["responseElements"] is None or r["responseElements"]
        if r["eventSource"] == "iam.amazonaws.com":
            assert r["awsRegion"] == "us-east-1"
        key = signer(r)
        if key is not None:
            assert KEY_RE.match(key), key
            temporary = ident["type"] in ("AssumedRole", "FederatedUser") or "sessionContext" in ident
            assert key.startswith("ASIA" if temporary else "AKIA"), r
        for born in minted(r):
            assert KEY_RE.match(born)
        json.dumps(r)


@pytest.mark.parametrize(("name", "make"), DOOR_INCIDENTS, ids=NAMES)
def test_deterministic(name: str, make: Any) -> None:
    def dump(incident: Incident[Any]) -> str:
        return json.dumps(incident.records, sort_keys=True)

    a, b, c = make(3), make(3), make(4)
    assert dump(a) == dump(b)
    assert a.facts == b.facts
    assert dump(a) != dump(c)
    assert a.facts != c.facts


@pytest.mark.parametrize("name", NAMES)
def test_door_story(name: str) -> None:
    """First use, door signed by the leaked key, key deleted by someone else, entry keys later and alive."""
    records = BUILT[name].records
    facts: DoorFacts = BUILT[name].facts
    leaked = facts.leaked_key.access_key_id
    events = by_id(records)
    births = minted_by(records)

    by_leaked = signed_by(records, leaked)
    assert by_leaked[0]["eventName"] == "GetCallerIdentity"
    assert by_leaked[0]["eventTime"] == facts.first_use_time
    assert {r["sourceIPAddress"] for r in by_leaked} == {facts.attacker_ip}
    assert {r["userIdentity"]["userName"] for r in by_leaked} == {facts.leaked_key.user_name}

    # The door: signed by the leaked key, in time order.
    assert facts.door_event_ids
    door = [events[e] for e in facts.door_event_ids]
    assert all(signer(r) == leaked and "errorCode" not in r for r in door)
    assert [r["eventTime"] for r in door] == sorted(r["eventTime"] for r in door)
    door_end = door[-1]["eventTime"]

    # The defender deactivates, then deletes, the key with a key of their own; the key is silent after.
    deactivate = one(
        records, eventName="UpdateAccessKey", requestParameters={"userName": facts.leaked_key.user_name, "accessKeyId": leaked, "status": "Inactive"}
    )
    delete = one(records, eventName="DeleteAccessKey", requestParameters={"userName": facts.leaked_key.user_name, "accessKeyId": leaked})
    for r in (deactivate, delete):
        assert signer(r) not in (None, leaked)
        assert r["userIdentity"]["userName"] == facts.defender_user
    assert (deactivate["eventTime"], delete["eventTime"]) == (facts.key_deactivated_time, facts.key_deleted_time)
    assert door_end < deactivate["eventTime"] < delete["eventTime"]
    assert by_leaked[-1]["eventTime"] < deactivate["eventTime"]

    # Entry keys: no call of the leaked key minted them; used only after the door, and after the deletion too.
    assert facts.entry_key_ids
    for key in facts.entry_key_ids:
        assert all(key not in minted(r) for r in by_leaked)
        uses = signed_by(records, key)
        assert uses, key
        assert uses[0]["eventTime"] > door_end
        assert uses[-1]["eventTime"] > facts.key_deleted_time
        if key in births:
            born = births[key]
            assert born["eventTime"] > door_end
            assert signer(born) != leaked
            assert aws_time(born["responseElements"]["credentials"]["expiration"]) > iso(facts.evidence_end_time), "entry key should still be alive"

    # The evidence ends with a benign call, after the attacker's last.
    last = max(r["eventTime"] for r in records)
    assert last == facts.evidence_end_time
    attacker = [r for r in records if r["sourceIPAddress"] == facts.attacker_ip]
    assert max(r["eventTime"] for r in attacker) < last
    closing = [r for r in records if r["eventTime"] == last]
    assert all(r["sourceIPAddress"] != facts.attacker_ip and signer(r) not in facts.entry_key_ids for r in closing)


# --------------------------------------------------------------------------- 1. trust policy backdoor


def check_cross_account_entry(records: list[Record], facts: CrossAccountEntryFacts) -> None:
    role_arn, ext, victim = facts.role_arn, facts.external_account_id, facts.account_id
    entry_id, twin_id, shared = facts.entry_event_id, facts.entry_twin_event_id, facts.shared_event_id
    session_name, key, expiration = facts.session_name, facts.session_key_id, facts.session_expiration
    copies = [r for r in records if r.get("sharedEventID") == shared]
    assert {r["eventID"] for r in copies} == {entry_id, twin_id}
    events = by_id(records)
    entry, twin = events[entry_id], events[twin_id]
    for r in (entry, twin):
        assert (r["eventSource"], r["eventName"]) == ("sts.amazonaws.com", "AssumeRole")
        assert r["requestParameters"]["roleArn"] == role_arn
        assert r["requestParameters"]["roleSessionName"] == session_name
        creds = r["responseElements"]["credentials"]
        assert creds["accessKeyId"] == key
        assert aws_time(creds["expiration"]) == iso(expiration)
        assumed = r["responseElements"]["assumedRoleUser"]
        assert assumed["arn"] == f"arn:aws:sts::{victim}:assumed-role/{role_arn.rsplit('/', 1)[1]}/{session_name}"
        assert assumed["assumedRoleId"].startswith("AROA")
    assert entry["recipientAccountId"] == victim
    assert entry["userIdentity"]["type"] == "AWSAccount" and entry["userIdentity"]["accountId"] == ext
    assert twin["recipientAccountId"] == ext
    assert twin["userIdentity"]["type"] == "IAMUser" and twin["userIdentity"]["accountId"] == ext
    assert twin["userIdentity"]["accessKeyId"].startswith("AKIA")
    assert entry["userIdentity"]["principalId"] == twin["userIdentity"]["principalId"]
    assert entry["requestID"] == twin["requestID"]
    sessions = signed_by(records, key)
    assert {r["userIdentity"]["arn"] for r in sessions} == {entry["responseElements"]["assumedRoleUser"]["arn"]}
    assert {r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] for r in sessions} == {role_arn}
    assert min(r["eventTime"] for r in sessions) > entry["eventTime"]
    assert twin["userIdentity"]["arn"] == facts.external_user_arn
    assert twin["userIdentity"]["accessKeyId"] == facts.external_key_id
    assert {r["eventID"] for r in sessions} == set(facts.session_event_ids)


def test_trust_backdoor() -> None:
    inc = trust_backdoor_incident()
    records, facts = inc.records, inc.facts
    assert isinstance(facts, TrustBackdoorFacts)
    door = by_id(records)[facts.door_event_id]
    assert door["eventName"] == "UpdateAssumeRolePolicy"
    assert door["responseElements"] is None
    assert f"arn:aws:iam::{facts.account_id}:role/{door['requestParameters']['roleName']}" == facts.role_arn
    principals = trust_principals(door["requestParameters"]["policyDocument"])
    assert tuple(principals) == facts.admitted_principals
    assert f"arn:aws:iam::{facts.external_account_id}:root" in principals
    assert f"arn:aws:iam::{facts.account_id}:root" in principals
    check_cross_account_entry(records, facts)
    put = one(signed_by(records, facts.session_key_id), eventName="PutBucketPolicy")
    assert put["requestParameters"]["bucketName"] == facts.exposed_bucket
    assert put["requestParameters"]["bucketPolicy"]["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::{facts.external_account_id}:root"


# --------------------------------------------------------------------------- 2. new backdoor role


def test_backdoor_role() -> None:
    inc = backdoor_role_incident()
    records, facts = inc.records, inc.facts
    assert isinstance(facts, BackdoorRoleFacts)
    events = by_id(records)
    create, attach = events[facts.create_role_event_id], events[facts.attach_policy_event_id]
    assert facts.door_event_ids == (create["eventID"], attach["eventID"])
    role = create["responseElements"]["role"]
    assert (role["arn"], role["roleId"]) == (facts.role_arn, facts.role_id)
    document = create["requestParameters"]["assumeRolePolicyDocument"]
    assert urllib.parse.unquote(role["assumeRolePolicyDocument"]) == document
    assert tuple(trust_principals(document)) == facts.admitted_principals == (f"arn:aws:iam::{facts.external_account_id}:root",)
    assert create["requestParameters"]["maxSessionDuration"] == 43_200
    assert attach["requestParameters"] == {"roleName": role["roleName"], "policyArn": facts.policy_arn}
    assert facts.policy_arn == ADMIN
    check_cross_account_entry(records, facts)
    sessions = signed_by(records, facts.session_key_id)
    created = one(sessions, eventName="CreateAccessKey")
    assert created["responseElements"]["accessKey"]["accessKeyId"] == facts.further_key.access_key_id
    assert created["requestParameters"]["userName"] == facts.further_key.user_name


# --------------------------------------------------------------------------- 3. Lambda backdoor


def test_lambda_backdoor() -> None:
    inc = lambda_backdoor_incident()
    records, facts = inc.records, inc.facts
    assert isinstance(facts, LambdaBackdoorFacts)
    events = by_id(records)
    create_role = events[facts.create_role_event_id]
    assert create_role["responseElements"]["role"]["arn"] == facts.role_arn
    assert trust_principals(create_role["requestParameters"]["assumeRolePolicyDocument"]) == ["lambda.amazonaws.com"]
    assert events[facts.attach_policy_event_id]["requestParameters"]["policyArn"] == ADMIN

    create_function = events[facts.create_function_event_id]
    assert create_function["eventName"] == "CreateFunction20150331"
    request = create_function["requestParameters"]
    assert (request["functionName"], request["role"]) == (facts.function_name, facts.role_arn)
    assert request["runtime"] and request["handler"]
    assert create_function["responseElements"]["functionArn"] == facts.function_arn
    failed = [r for r in records if r["eventName"] == "CreateFunction20150331" and "errorCode" in r]
    assert len(failed) == 1 and failed[0]["eventTime"] < create_function["eventTime"]

    permissions = [events[e] for e in facts.add_permission_event_ids]
    assert {r["eventName"] for r in permissions} == {"AddPermission20150331v2"}
    assert {r["requestParameters"]["principal"] for r in permissions} == {facts.permission_principal} == {"*"}
    assert tuple(r["requestParameters"]["action"] for r in permissions) == facts.permission_actions
    assert "lambda:InvokeFunction" in facts.permission_actions
    for r in permissions:
        statement = json.loads(r["responseElements"]["statement"])
        assert (statement["Principal"], statement["Resource"]) == ("*", facts.function_arn)

    url = events[facts.create_url_event_id]
    assert url["eventName"] == "CreateFunctionUrlConfig"
    assert url["requestParameters"] == {"functionName": facts.function_name, "authType": facts.url_auth_type}
    assert url["responseElements"]["functionUrl"] == facts.function_url
    assert facts.url_auth_type == "NONE"

    # Lambda's own AssumeRole calls: at creation (awslambda_…, never used) and for the invocation.
    service = [r for r in records if r["eventName"] == "AssumeRole" and r["userIdentity"] == {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}]
    assert len(service) == 2
    assert {r["requestParameters"]["roleArn"] for r in service} == {facts.role_arn}
    by_name = {r["requestParameters"]["roleSessionName"]: r for r in service}
    assert facts.function_name in by_name
    assert sum(n.startswith("awslambda_") for n in by_name) == 1
    invocation = by_name[facts.function_name]
    assert invocation["eventID"] == facts.service_assume_event_id
    assert "assumedRoleUser" not in invocation["responseElements"]
    assert invocation["responseElements"]["credentials"]["accessKeyId"] == facts.session_key_id
    assert aws_time(invocation["responseElements"]["credentials"]["expiration"]) == iso(facts.session_expiration)
    validation_key = next(r for n, r in by_name.items() if n.startswith("awslambda_"))["responseElements"]["credentials"]["accessKeyId"]
    assert validation_key == facts.validation_key_id
    assert not signed_by(records, validation_key)

    sessions = signed_by(records, facts.session_key_id)
    assert {r["eventID"] for r in sessions} == set(facts.session_event_ids)
    role_name = facts.role_arn.rsplit("/", 1)[1]
    for r in sessions:
        ident = r["userIdentity"]
        assert ident["type"] == "AssumedRole"
        assert ident["arn"] == f"arn:aws:sts::{facts.account_id}:assumed-role/{role_name}/{facts.function_name}"
        issuer = ident["sessionContext"]["sessionIssuer"]
        assert (issuer["type"], issuer["arn"], issuer["userName"]) == ("Role", facts.role_arn, role_name)
        assert r["sourceIPAddress"] == facts.function_ip != facts.attacker_ip
    assert one(sessions, eventName="CreateUser")["requestParameters"]["userName"] == facts.created_user
    created = one(sessions, eventName="CreateAccessKey")["responseElements"]["accessKey"]
    assert (created["accessKeyId"], created["userName"]) == (facts.further_key.access_key_id, facts.further_key.user_name)
    further_uses = signed_by(records, facts.further_key.access_key_id)
    assert further_uses and {r["sourceIPAddress"] for r in further_uses} == {facts.attacker_ip}


# --------------------------------------------------------------------------- 4. EC2 instance profile


def test_instance_profile() -> None:
    inc = instance_profile_incident()
    records, facts = inc.records, inc.facts
    assert isinstance(facts, InstanceProfileFacts)
    run = by_id(records)[facts.door_event_id]
    assert (run["eventSource"], run["eventName"]) == ("ec2.amazonaws.com", "RunInstances")
    request = run["requestParameters"]
    assert request["iamInstanceProfile"] == {"name": facts.instance_profile_name}
    assert request["instancesSet"]["items"][0]["minCount"] == request["instancesSet"]["items"][0]["maxCount"] == 2
    items = run["responseElements"]["instancesSet"]["items"]
    assert tuple(i["instanceId"] for i in items) == facts.instance_ids
    assert all(i["iamInstanceProfile"]["arn"] == facts.instance_profile_arn and i["iamInstanceProfile"]["id"].startswith("AIPA") for i in items)

    ec2 = [r for r in records if r["eventName"] == "AssumeRole" and r["userIdentity"] == {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}]
    role_name = facts.role_arn.rsplit("/", 1)[1]
    for instance_id, ip, key, expiration, assume_id in zip(
        facts.instance_ids, facts.instance_ips, facts.session_key_ids, facts.session_expirations, facts.service_assume_event_ids, strict=True
    ):
        assume = one(ec2, requestParameters={"roleArn": facts.role_arn, "roleSessionName": instance_id})
        assert assume["eventID"] == assume_id and "sharedEventID" in assume
        assert assume["responseElements"]["credentials"]["accessKeyId"] == key
        assert aws_time(assume["responseElements"]["credentials"]["expiration"]) == iso(expiration)
        uses = signed_by(records, key)
        assert {r["userIdentity"]["arn"] for r in uses} == {f"arn:aws:sts::{facts.account_id}:assumed-role/{role_name}/{instance_id}"}
        assert all(r["userIdentity"]["sessionContext"]["ec2RoleDelivery"] for r in uses)
        assert ip in {r["sourceIPAddress"] for r in uses}
    # Exactly one instance key is also used from the attacker's IP: the one the leaked key used.
    leaked_ip = signed_by(records, facts.leaked_key.access_key_id)[0]["sourceIPAddress"]
    outside = {key for key in facts.session_key_ids if leaked_ip in {r["sourceIPAddress"] for r in signed_by(records, key)}}
    assert outside == {facts.exfiltrated_key_id} and leaked_ip == facts.attacker_ip
    assert facts.session_key_ids[facts.instance_ids.index(facts.exfiltrated_from_instance)] == facts.exfiltrated_key_id
    # Instance sessions run while the key is deleted: before and after.
    times = [r["eventTime"] for key in facts.session_key_ids for r in signed_by(records, key)]
    assert min(times) < facts.key_deleted_time < max(times)


# --------------------------------------------------------------------------- 5. EC2 Instance Connect


def test_instance_connect() -> None:
    inc = instance_connect_incident()
    records, facts = inc.records, inc.facts
    assert isinstance(facts, InstanceConnectFacts)
    door = by_id(records)[facts.door_event_id]
    assert (door["eventSource"], door["eventName"]) == ("ec2-instance-connect.amazonaws.com", "SendSSHPublicKey")
    assert door["requestParameters"] == {"instanceId": facts.instance_id, "instanceOSUser": facts.os_user, "sSHPublicKey": facts.ssh_public_key}
    assert door["responseElements"] == {"requestId": door["requestID"], "success": True}

    assume = by_id(records)[facts.service_assume_event_id]
    assert assume["userIdentity"] == {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}
    assert assume["requestParameters"] == {"roleArn": facts.role_arn, "roleSessionName": facts.instance_id}
    assert assume["responseElements"]["credentials"]["accessKeyId"] == facts.session_key_id
    assert aws_time(assume["responseElements"]["credentials"]["expiration"]) == iso(facts.session_expiration)

    uses = signed_by(records, facts.session_key_id)
    assert {r["eventID"] for r in uses} == set(facts.session_event_ids)
    assert {r["userIdentity"]["principalId"].split(":", 1)[1] for r in uses} == {facts.instance_id}
    assert {r["sourceIPAddress"] for r in uses} == {facts.instance_ip, facts.attacker_ip}
    from_attacker = [r for r in uses if r["sourceIPAddress"] == facts.attacker_ip]
    assert {r["eventID"] for r in from_attacker} == set(facts.attacker_event_ids)
    assert min(r["eventTime"] for r in from_attacker) > facts.key_deleted_time


# --------------------------------------------------------------------------- 6. federation token to console


def test_federation_console() -> None:
    inc = federation_console_incident()
    records, facts = inc.records, inc.facts
    assert isinstance(facts, FederationConsoleFacts)
    events = by_id(records)
    door = events[facts.door_event_id]
    assert door["eventName"] == "GetFederationToken"
    assert door["requestParameters"]["name"] == facts.federated_name and json.loads(door["requestParameters"]["policy"])
    response = door["responseElements"]
    assert response["federatedUser"] == {"arn": facts.federated_arn, "federatedUserId": facts.federated_user_id}
    assert response["credentials"]["accessKeyId"] == facts.minted_key_id
    assert aws_time(response["credentials"]["expiration"]) == iso(facts.minted_expiration) > iso(facts.evidence_end_time)

    leaked_user_arn = door["userIdentity"]["arn"]
    signin = events[facts.signin_token_event_id]
    assert (signin["eventSource"], signin["eventName"], signin["eventType"]) == ("signin.amazonaws.com", "GetSigninToken", "AwsConsoleSignIn")
    assert signer(signin) == facts.minted_key_id
    assert signin["userIdentity"]["type"] == "FederatedUser"
    login = events[facts.console_login_event_id]
    assert (login["eventSource"], login["eventName"]) == ("signin.amazonaws.com", "ConsoleLogin")
    assert login["responseElements"] == {"ConsoleLogin": "Success"}
    ident = login["userIdentity"]
    assert (ident["type"], ident["arn"], ident["principalId"], ident["accountId"]) == (
        "FederatedUser",
        facts.federated_arn,
        facts.federated_user_id,
        facts.account_id,
    )
    assert "accessKeyId" not in ident
    assert ident["sessionContext"]["sessionIssuer"]["arn"] == leaked_user_arn
    assert signin["eventTime"] <= login["eventTime"]

    console = signed_by(records, facts.console_key_id)
    assert {r["eventID"] for r in console} == set(facts.console_event_ids)
    assert all(r["sessionCredentialFromConsole"] == "true" and r["userIdentity"]["type"] == "FederatedUser" for r in console)
    assert {r["userIdentity"]["arn"] for r in console} == {facts.federated_arn}
    assert min(r["eventTime"] for r in console) >= login["eventTime"]
    # No call minted the console key.
    assert all(facts.console_key_id not in json.dumps(r.get("responseElements")) for r in records)


# --------------------------------------------------------------------------- 7. IAM Identity Center


def test_identity_center() -> None:
    inc = identity_center_incident()
    records, facts = inc.records, inc.facts
    assert isinstance(facts, IdentityCenterFacts)
    events = by_id(records)
    create_ps = events[facts.create_permission_set_event_id]
    assert (create_ps["eventSource"], create_ps["eventName"]) == ("sso.amazonaws.com", "CreatePermissionSet")
    assert create_ps["requestParameters"]["instanceArn"] == facts.instance_arn
    assert create_ps["requestParameters"]["name"] == facts.permission_set_name
    assert create_ps["responseElements"]["permissionSet"]["permissionSetArn"] == facts.permission_set_arn
    attach = events[facts.attach_policy_event_id]
    assert attach["requestParameters"] == {
        "instanceArn": facts.instance_arn,
        "permissionSetArn": facts.permission_set_arn,
        "managedPolicyArn": facts.policy_arn,
    }
    assert facts.policy_arn == ADMIN
    user = events[facts.create_user_event_id]
    assert (user["eventSource"], user["eventName"]) == ("identitystore.amazonaws.com", "CreateUser")
    assert user["requestParameters"]["userName"] == facts.user_name
    assert user["responseElements"]["userId"] == facts.user_id
    assignment = events[facts.create_assignment_event_id]
    assert assignment["requestParameters"] == {
        "instanceArn": facts.instance_arn,
        "targetId": facts.member_account_id,
        "targetType": "AWS_ACCOUNT",
        "permissionSetArn": facts.permission_set_arn,
        "principalType": "USER",
        "principalId": facts.user_id,
    }
    assert assignment["responseElements"]["accountAssignmentCreationStatus"]["requestId"] == assignment["requestID"]
    assert {r["recipientAccountId"] for r in (create_ps, attach, user, assignment)} == {facts.account_id}

    assert re.fullmatch(rf"AWSReservedSSO_{facts.permission_set_name}_[0-9a-f]{{16}}", facts.role_name)
    assert facts.role_arn == f"arn:aws:iam::{facts.member_account_id}:role/aws-reserved/sso.amazonaws.com/{facts.role_name}"
    assume = events[facts.assume_event_id]
    assert (assume["eventName"], assume["userIdentity"]["type"], assume["recipientAccountId"]) == ("AssumeRoleWithSAML", "SAMLUser", facts.member_account_id)
    assert signer(assume) is None
    assert assume["requestParameters"]["roleArn"] == facts.role_arn
    assert assume["requestParameters"]["principalArn"] == facts.saml_provider_arn
    assert assume["requestParameters"]["roleSessionName"] == facts.user_name
    assert assume["responseElements"]["credentials"]["accessKeyId"] == facts.session_key_id
    assert aws_time(assume["responseElements"]["credentials"]["expiration"]) == iso(facts.session_expiration)

    sessions = signed_by(records, facts.session_key_id)
    assert {r["eventID"] for r in sessions} == set(facts.session_event_ids)
    for r in sessions:
        ident = r["userIdentity"]
        assert ident["arn"] == f"arn:aws:sts::{facts.member_account_id}:assumed-role/{facts.role_name}/{facts.user_name}"
        assert ident["sessionContext"]["sessionIssuer"]["arn"] == facts.role_arn
        assert ident["sessionContext"]["sessionIssuer"]["userName"] == facts.role_name
        assert r["recipientAccountId"] == facts.member_account_id
