"""Every rule of the registry, run on a record that names everything rules read, emits only verbs of the write plan,
and together with the generic rule they emit every verb the plan has."""

from __future__ import annotations

from typing import Any

import orjson

from keytrail.graph.effects import EFFECT_QUERY, WRITE_PLAN
from keytrail.graph.transform import event_rows
from keytrail.rules import REGISTRY
from keytrail.rules.registry import base_name

ACCOUNT = "111122223333"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
TRUST = orjson.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}]}).decode()
REQUEST: dict[str, Any] = {
    "userName": "bob",
    "roleName": "ops",
    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/ops",
    "roleSessionName": "s",
    "policyArn": ADMIN,
    "policyName": "p",
    "policyDocument": TRUST,
    "assumeRolePolicyDocument": TRUST,
    "accessKeyId": "AKIAREGISTRYTEST0001",
    "status": "Inactive",
    "groupName": "g",
    "instanceProfileName": "prof",
    "functionName": "fn",
    "role": f"arn:aws:iam::{ACCOUNT}:role/ops",
    "principal": "*",
    "action": "lambda:InvokeFunction",
    "authType": "NONE",
    "instanceId": "i-0abc",
    "instanceIds": ["i-0abc"],
    "iamInstanceProfile": {"name": "prof"},
    "instanceOSUser": "ec2-user",
    "documentName": "AWS-RunShellScript",
    "name": "set",
    "permissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
    "managedPolicyArn": ADMIN,
    "targetId": "444455556666",
    "principalType": "USER",
    "principalId": "u-1",
    "identityStoreId": "d-1",
    "roleArns": [f"arn:aws:iam::{ACCOUNT}:role/ops"],
    "bucketName": "b",
}
RESPONSE: dict[str, Any] = {
    "accessKey": {"accessKeyId": "AKIAREGISTRYTEST0002", "userName": "bob", "status": "Active"},
    "credentials": {"accessKeyId": "ASIAREGISTRYTEST0003", "expiration": "Jan 8, 2026, 2:25:18 AM"},
    "assumedRoleUser": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/s"},
    "federatedUser": {"arn": f"arn:aws:sts::{ACCOUNT}:federated-user/f"},
    "user": {"userName": "bob", "arn": f"arn:aws:iam::{ACCOUNT}:user/bob"},
    "role": {"arn": f"arn:aws:iam::{ACCOUNT}:role/ops"},
    "instancesSet": {"items": [{"instanceId": "i-0abc", "iamInstanceProfile": {"arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/prof"}}]},
    "permissionSet": {"name": "set", "permissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1"},
    "trustAnchor": {"trustAnchorArn": f"arn:aws:rolesanywhere:us-east-1:{ACCOUNT}:trust-anchor/t-1"},
    "profile": {"profileArn": f"arn:aws:rolesanywhere:us-east-1:{ACCOUNT}:profile/p-1"},
}
#: Events no rule claims, for the verbs only the generic rule gives.
GENERIC = [("cloudtrail", "StopLogging"), ("cloudtrail", "StartLogging"), ("s3", "GetObject"), ("s3", "PutBucketPolicy")]


def _record(service: str, name: str, **request: Any) -> dict[str, Any]:
    return {
        "eventID": f"{service}-{name}",
        "eventTime": "2026-01-07T02:25:18Z",
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT, "userName": "alice", "accessKeyId": "AKIAREGISTRYTEST0000"},
        "recipientAccountId": ACCOUNT,
        "requestParameters": REQUEST | request,
        "responseElements": RESPONSE,
    }


def test_every_rule_emits_only_planned_verbs_and_all_of_them_are_emitted() -> None:
    emitted: set[tuple[str, str]] = set()
    records = [_record(service, name) for service, name in [*REGISTRY.events(), *GENERIC]]
    records.append(_record("iam", "UpdateAccessKey", status="Active"))
    for record in records:
        service, name = record["eventSource"].split(".", 1)[0], record["eventName"]
        rows = event_rows(record, origin="t", index=0, incident="t", run_id="r")
        for label, query in EFFECT_QUERY.items():
            for row in rows[query]:
                assert row["verb"] in WRITE_PLAN[label], (service, name, label, row["verb"])
                emitted.add((label, row["verb"]))
    assert emitted == {(label, verb) for label, verbs in WRITE_PLAN.items() for verb in verbs}


def test_versioned_event_names_find_their_rule() -> None:
    assert base_name("CreateFunction20150331") == "CreateFunction"
    assert base_name("AddPermission20150331v2") == "AddPermission"
    assert REGISTRY.rule_for("lambda", "UpdateFunctionConfiguration20150331v2") is REGISTRY.rule_for("lambda", "UpdateFunctionConfiguration")
