"""The coverage list: each event, in a record shaped as CloudTrail writes it, has the target resource the rules name.

Every expected target is assembled from the record itself (its request, response, account and region), so a
test fails when a finder reads a field CloudTrail does not write, or builds the id from the wrong one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keytrail.graph.transform import event_rows

ACCOUNT = "111122223333"
MEMBER = "444455556666"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
MAPPING = Path(__file__).resolve().parents[3] / "keytrail" / "data" / "attack_mapping.json"

Record = dict[str, Any]


def record(service: str, name: str, request: Any = None, response: Any = None, **extra: Any) -> Record:
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEEXAMPLE01",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAALICE00000000001",
            "userName": "alice",
        },
        "eventTime": "2026-01-07T02:25:18Z",
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.22.0",
        "requestParameters": request,
        "responseElements": response,
        "requestID": f"request-{service}-{name}",
        "eventID": f"event-{service}-{name}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "eventCategory": "Management",
        "recipientAccountId": ACCOUNT,
        **extra,
    }


def arn(r: Record, service: str, resource: str, *, account: str | None = None) -> str:
    """An ARN in the record's region and account."""
    return f"arn:aws:{service}:{r['awsRegion']}:{r['recipientAccountId'] if account is None else account}:{resource}"


def params(r: Record) -> dict[str, Any]:
    value = r["requestParameters"]
    return value if isinstance(value, dict) else {}


def data_event(r: Record, resources: list[dict[str, str]]) -> Record:
    """The record as a data event (S3 object calls, SES sending), with the resources CloudTrail lists."""
    return r | {"eventCategory": "Data", "managementEvent": False, "resources": resources}


BUCKET = "corp-reports"
OBJECT_KEY = "finance/2025-q4.csv"
TABLE_ARN = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/Orders"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:root"}, "Action": "*"}]})

#: (case id, record, the targets it must have, first one first): the event's ``target`` is the first.
CASES: list[tuple[str, Record, Callable[[Record], list[str]]]] = [
    (
        # As the Invictus dataset logs it: wrapped, with the id as tagged content.
        "ec2:DeleteFlowLogs",
        record(
            "ec2",
            "DeleteFlowLogs",
            {"DeleteFlowLogsRequest": {"FlowLogId": {"tag": 1, "content": "fl-064ed3a785e4a37ef"}}},
            {"DeleteFlowLogsResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": "r", "unsuccessful": ""}},
        ),
        lambda r: [arn(r, "ec2", f"vpc-flow-log/{params(r)['DeleteFlowLogsRequest']['FlowLogId']['content']}")],
    ),
    (
        "securityhub:DisableSecurityHub",
        record("securityhub", "DisableSecurityHub"),
        lambda r: [f"securityhub:{r['recipientAccountId']}:{r['awsRegion']}"],
    ),
    (
        "ec2:ModifyInstanceMetadataOptions",
        record(
            "ec2",
            "ModifyInstanceMetadataOptions",
            {"ModifyInstanceMetadataOptionsRequest": {"InstanceId": "i-0a1b2c3d4e5f60718", "HttpTokens": "optional", "HttpEndpoint": "enabled"}},
            {
                "ModifyInstanceMetadataOptionsResponse": {
                    "requestId": "7f1b2c3d-0000-4000-8000-000000000001",
                    "instanceId": "i-0a1b2c3d4e5f60718",
                    "instanceMetadataOptions": {"state": "pending", "httpTokens": "optional", "httpPutResponseHopLimit": 1, "httpEndpoint": "enabled"},
                }
            },
        ),
        lambda r: [arn(r, "ec2", f"instance/{params(r)['ModifyInstanceMetadataOptionsRequest']['InstanceId']}")],
    ),
    (
        "cloudtrail:DeleteEventDataStore",
        record("cloudtrail", "DeleteEventDataStore", {"eventDataStore": f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:eventdatastore/EXAMPLE-f852-4e8f-8bd1"}),
        lambda r: [params(r)["eventDataStore"]],
    ),
    (
        "cloudtrail:StopEventDataStoreIngestion",
        record("cloudtrail", "StopEventDataStoreIngestion", {"eventDataStore": "EXAMPLE-f852-4e8f-8bd1"}),
        lambda r: [arn(r, "cloudtrail", f"eventdatastore/{params(r)['eventDataStore']}")],
    ),
    (
        "macie2:DisableMacie",
        record("macie2", "DisableMacie"),
        lambda r: [f"macie2:{r['recipientAccountId']}:{r['awsRegion']}"],
    ),
    (
        "inspector2:Disable",
        record("inspector2", "Disable", {"resourceTypes": ["EC2", "ECR", "LAMBDA"]}, {"accounts": [], "failedAccounts": []}),
        lambda r: [f"inspector2:{r['recipientAccountId']}:{r['awsRegion']}"],
    ),
    (
        "inspector2:Disable (member accounts)",
        record("inspector2", "Disable", {"accountIds": [MEMBER], "resourceTypes": ["EC2"]}),
        lambda r: [f"inspector2:{a}:{r['awsRegion']}" for a in params(r)["accountIds"]],
    ),
    (
        "access-analyzer:DeleteAnalyzer",
        record("access-analyzer", "DeleteAnalyzer", {"analyzerName": "ConsoleAnalyzer-0a1b2c3d", "clientToken": "c0ffee00-0000-4000-8000-000000000002"}),
        lambda r: [arn(r, "access-analyzer", f"analyzer/{params(r)['analyzerName']}")],
    ),
    (
        "bedrock:DeleteModelInvocationLoggingConfiguration",
        record("bedrock", "DeleteModelInvocationLoggingConfiguration"),
        lambda r: [f"bedrock-invocation-logging:{r['recipientAccountId']}:{r['awsRegion']}"],
    ),
    (
        "bedrock:PutModelInvocationLoggingConfiguration",
        record(
            "bedrock",
            "PutModelInvocationLoggingConfiguration",
            {
                "loggingConfig": {
                    "cloudWatchConfig": {"logGroupName": "/bedrock/invocations", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/bedrock-logs"},
                    "textDataDeliveryEnabled": False,
                    "imageDataDeliveryEnabled": False,
                    "embeddingDataDeliveryEnabled": False,
                }
            },
        ),
        lambda r: [f"bedrock-invocation-logging:{r['recipientAccountId']}:{r['awsRegion']}"],
    ),
    (
        "bedrock:Converse",
        record("bedrock", "Converse", {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"}, readOnly=True),
        lambda r: [f"arn:aws:bedrock:{r['awsRegion']}::foundation-model/{params(r)['modelId']}"],
    ),
    (
        "bedrock:ConverseStream (cross-Region inference profile)",
        record("bedrock", "ConverseStream", {"modelId": "eu.anthropic.claude-3-5-sonnet-20240620-v1:0"}, readOnly=True),
        lambda r: [arn(r, "bedrock", f"inference-profile/{params(r)['modelId']}")],
    ),
    (
        "bedrock:InvokeModel",
        # As in Stratus Red Team's bedrock-invoke-model detonation log.
        record("bedrock", "InvokeModel", {"modelId": "anthropic.claude-3-sonnet-20240229-v1:0"}, readOnly=True),
        lambda r: [f"arn:aws:bedrock:{r['awsRegion']}::foundation-model/{params(r)['modelId']}"],
    ),
    (
        "bedrock:InvokeModel (model ARN)",
        record("bedrock", "InvokeModel", {"modelId": "arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-text-express-v1"}, readOnly=True),
        lambda r: [params(r)["modelId"]],
    ),
    (
        "kms:CreateGrant",
        record(
            "kms",
            "CreateGrant",
            {"keyId": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}", "granteePrincipal": f"arn:aws:iam::{MEMBER}:root", "operations": ["Decrypt"]},
            {"grantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60", "keyId": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}"},
        ),
        lambda r: [params(r)["keyId"]],
    ),
    (
        "kms:DisableKey",
        record("kms", "DisableKey", {"keyId": KEY_ID}),
        lambda r: [arn(r, "kms", f"key/{params(r)['keyId']}")],
    ),
    (
        "secretsmanager:PutResourcePolicy",
        record(
            "secretsmanager",
            "PutResourcePolicy",
            {"secretId": "prod/db/password", "resourcePolicy": POLICY, "blockPublicPolicy": False},
            {"arn": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db/password-AbCdEf", "name": "prod/db/password"},
        ),
        lambda r: [arn(r, "secretsmanager", f"secret:{params(r)['secretId']}")],
    ),
    (
        "logs:PutResourcePolicy",
        record("logs", "PutResourcePolicy", {"policyName": "route53-query-logging", "policyDocument": POLICY}),
        lambda r: [f"logs-resource-policy:{r['recipientAccountId']}:{r['awsRegion']}:{params(r)['policyName']}"],
    ),
    (
        "logs:PutResourcePolicy (log group)",
        record(
            "logs",
            "PutResourcePolicy",
            {"policyName": "app", "policyDocument": POLICY, "resourceArn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/app:*"},
        ),
        lambda r: [arn(r, "logs", "log-group:/aws/app")],
    ),
    (
        "dynamodb:PutResourcePolicy",
        record("dynamodb", "PutResourcePolicy", {"resourceArn": TABLE_ARN, "policy": POLICY}, {"revisionId": "1709841168699"}),
        lambda r: [params(r)["resourceArn"]],
    ),
    (
        "s3:PutObjectAcl",
        data_event(
            record(
                "s3",
                "PutObjectAcl",
                {"bucketName": BUCKET, "key": OBJECT_KEY, "acl": "", "x-amz-acl": "public-read", "Host": f"{BUCKET}.s3.eu-west-1.amazonaws.com"},
            ),
            [
                {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{BUCKET}/{OBJECT_KEY}"},
                {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{BUCKET}"},
            ],
        ),
        lambda r: [f"arn:aws:s3:::{params(r)['bucketName']}/{params(r)['key']}"],
    ),
    (
        "s3:PutBucketWebsite",
        record(
            "s3",
            "PutBucketWebsite",
            {"bucketName": BUCKET, "website": "", "WebsiteConfiguration": {"IndexDocument": {"Suffix": "index.html"}}, "Host": f"{BUCKET}.s3.amazonaws.com"},
        ),
        lambda r: [f"arn:aws:s3:::{params(r)['bucketName']}"],
    ),
    (
        "ec2:CopySnapshot",
        record(
            "ec2",
            "CopySnapshot",
            {"sourceRegion": "us-east-1", "sourceSnapshotId": "snap-0123456789abcdef0", "encrypted": True, "kmsKeyId": f"arn:aws:kms:eu-west-1:{MEMBER}:key/x"},
            {"requestId": "7f1b2c3d-0000-4000-8000-000000000003", "snapshotId": "snap-0fedcba9876543210"},
        ),
        lambda r: [
            arn(r, "ec2", f"snapshot/{r['responseElements']['snapshotId']}"),
            f"arn:aws:ec2:{params(r)['sourceRegion']}:{r['recipientAccountId']}:snapshot/{params(r)['sourceSnapshotId']}",
        ],
    ),
    (
        "dynamodb:ExportTableToPointInTime",
        record(
            "dynamodb",
            "ExportTableToPointInTime",
            {"tableArn": TABLE_ARN, "s3Bucket": "exports-elsewhere", "s3BucketOwner": MEMBER, "exportFormat": "DYNAMODB_JSON"},
            {"exportDescription": {"exportArn": f"{TABLE_ARN}/export/01700000000000-abcdef12", "exportStatus": "IN_PROGRESS"}},
        ),
        lambda r: [params(r)["tableArn"]],
    ),
    (
        "backup:DeleteRecoveryPoint",
        record(
            "backup",
            "DeleteRecoveryPoint",
            {"backupVaultName": "Default", "recoveryPointArn": "arn:aws:ec2:eu-west-1::snapshot/snap-0aaaabbbbccccdddd"},
        ),
        lambda r: [params(r)["recoveryPointArn"], arn(r, "backup", f"backup-vault:{params(r)['backupVaultName']}")],
    ),
    (
        "backup:DeleteBackupVault",
        record("backup", "DeleteBackupVault", {"backupVaultName": "prod-vault"}),
        lambda r: [arn(r, "backup", f"backup-vault:{params(r)['backupVaultName']}")],
    ),
    (
        "s3:PutBucketObjectLockConfiguration",
        record(
            "s3",
            "PutBucketObjectLockConfiguration",
            {
                "bucketName": BUCKET,
                "object-lock": "",
                "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 3650}}},
                "Host": f"{BUCKET}.s3.amazonaws.com",
            },
        ),
        lambda r: [f"arn:aws:s3:::{params(r)['bucketName']}"],
    ),
    (
        "ses:SendRawEmail",
        # A data event: CloudTrail hides the message and lists the identity it went out through.
        data_event(
            record("ses", "SendRawEmail", {"destinations": [HIDDEN], "rawMessage": {"data": HIDDEN}, "source": "billing@example.com"}, readOnly=True),
            [{"accountId": ACCOUNT, "type": "AWS::SES::EmailIdentity", "ARN": f"arn:aws:ses:eu-west-1:{ACCOUNT}:identity/example.com"}],
        ),
        lambda r: [r["resources"][0]["ARN"]],
    ),
    (
        "ses:SendRawEmail (no resources in the record)",
        record("ses", "SendRawEmail", {"destinations": [HIDDEN], "rawMessage": {"data": HIDDEN}, "source": "Billing <billing@example.com>"}),
        lambda r: [arn(r, "ses", "identity/billing@example.com")],
    ),
    (
        "ses:SendRawEmail (sending authorisation)",
        record(
            "ses",
            "SendRawEmail",
            {"rawMessage": {"data": HIDDEN}, "sourceArn": f"arn:aws:ses:eu-west-1:{MEMBER}:identity/example.org", "source": "x@example.org"},
        ),
        lambda r: [params(r)["sourceArn"]],
    ),
    (
        "ses:SendRawEmail (sender only in the message)",
        record("ses", "SendRawEmail", {"destinations": [HIDDEN], "rawMessage": {"data": HIDDEN}}),
        lambda r: [f"ses:{r['recipientAccountId']}:{r['awsRegion']}"],
    ),
    (
        "account:PutAlternateContact",
        record(
            "account",
            "PutAlternateContact",
            {"alternateContactType": "SECURITY", "emailAddress": HIDDEN, "name": HIDDEN, "phoneNumber": HIDDEN, "title": HIDDEN},
        ),
        lambda r: [f"account:{r['recipientAccountId']}:alternate-contact/{params(r)['alternateContactType']}"],
    ),
    (
        "account:PutAlternateContact (member account)",
        record("account", "PutAlternateContact", {"accountId": MEMBER, "alternateContactType": "SECURITY", "emailAddress": HIDDEN, "name": HIDDEN}),
        lambda r: [f"account:{params(r)['accountId']}:alternate-contact/{params(r)['alternateContactType']}"],
    ),
    (
        "iam:CreateInstanceProfile",
        # The shape of the Invictus IR dataset's record (Stratus Red Team's set-up of ec2-steal-instance-credentials).
        record(
            "iam",
            "CreateInstanceProfile",
            {"instanceProfileName": "backdoor-profile", "path": "/"},
            {
                "instanceProfile": {
                    "path": "/",
                    "instanceProfileName": "backdoor-profile",
                    "instanceProfileId": "AIPAEXAMPLEEXAMPLE01",
                    "arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/backdoor-profile",
                    "createDate": "Jan 7, 2026, 2:25:18 AM",
                    "roles": [],
                }
            },
            awsRegion="us-east-1",
        ),
        lambda r: [r["responseElements"]["instanceProfile"]["arn"]],
    ),
    (
        "s3:CreateBucket",
        record("s3", "CreateBucket", {"bucketName": "staging-7f3a9c", "Host": "staging-7f3a9c.s3.amazonaws.com", "x-amz-acl": "private"}),
        lambda r: [f"arn:aws:s3:::{params(r)['bucketName']}"],
    ),
]


def rows(r: Record) -> dict[str, list[dict[str, Any]]]:
    return event_rows(r, origin="coverage.json", index=0, incident="coverage", run_id="run")


@pytest.mark.parametrize(("case", "r", "expected"), CASES, ids=[case for case, _, _ in CASES])
def test_the_event_names_its_target(case: str, r: Record, expected: Callable[[Record], list[str]]) -> None:
    out = rows(r)
    want = expected(r)
    event = out["merge_events"][0]["props"]
    assert (event["target"], event["targetType"]) == (want[0], "Resource"), case
    targets = [e["target"] for e in out["merge_effects_on_resources"]]
    assert targets == want, case
    assert [n["id"] for n in out["merge_resources"]] == want, case


@pytest.mark.parametrize(("case", "r", "expected"), CASES, ids=[case for case, _, _ in CASES])
def test_a_failed_call_keeps_the_intended_target(case: str, r: Record, expected: Callable[[Record], list[str]]) -> None:
    out = rows(r | {"errorCode": "AccessDenied", "errorMessage": "not authorized", "responseElements": None})
    event = out["merge_events"][0]["props"]
    assert event["succeeded"] is False
    if case.startswith(("ec2:CopySnapshot", "iam:CreateInstanceProfile")):
        # The new snapshot's id and the profile's ARN come from the response, which a failed call does not have.
        return
    assert event["target"] == expected(r)[0], case
    assert out["merge_effects_on_resources"] == [] and out["merge_resources"] == []


def test_every_case_is_a_mapped_event() -> None:
    mapped = json.loads(MAPPING.read_text(encoding="utf-8"))["events"]
    events = {f"{r['eventSource'].split('.', 1)[0]}:{r['eventName']}" for _, r, _ in CASES}
    assert sorted(events - set(mapped)) == []
    assert {case.split(" ", 1)[0] for case, _, _ in CASES} == events


def test_created_flow_logs_are_named_from_the_response() -> None:
    r = record(
        "ec2",
        "CreateFlowLogs",
        {"CreateFlowLogsRequest": {"ResourceId": {"tag": 1, "content": "vpc-0255d384b4b458b46"}, "ResourceType": "VPC"}},
        {"CreateFlowLogsResponse": {"requestId": "r", "unsuccessful": "", "flowLogIdSet": {"item": "fl-064ed3a785e4a37ef"}}},
    )
    made = r["responseElements"]["CreateFlowLogsResponse"]["flowLogIdSet"]["item"]
    out = rows(r)
    assert [(e["target"], e["verb"]) for e in out["merge_effects_on_resources"]] == [(arn(r, "ec2", f"vpc-flow-log/{made}"), "CREATED")]
