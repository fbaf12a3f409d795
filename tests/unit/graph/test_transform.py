"""Records to rows: identities, credential lineage, effects, and failed calls as attempts."""

from __future__ import annotations

from typing import Any

import pytest

from keytrail.graph.transform import aggregate_key_usage, aggregate_tallies, event_rows, retagged
from keytrail.model.identity import principal_of_identity
from keytrail.model.time import parse_aws_time
from keytrail.rules.generic import generic_verb

ALICE = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLE",
    "arn": "arn:aws:iam::111122223333:user/ops/alice",
    "accountId": "111122223333",
    "accessKeyId": "AKIAALICE00000000001",
    "userName": "alice",
}


def rec(name: str, source: str = "iam", identity: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    base = {
        "eventID": f"id-{name}",
        "eventTime": "2026-01-07T02:25:18Z",
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2",
        "userIdentity": identity or ALICE,
        "recipientAccountId": "111122223333",
    }
    base.update(extra)
    return base


def rows(record: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return event_rows(record, origin="f.json", index=3, incident="case", run_id="run")


def test_iam_user_identity_ignores_the_path() -> None:
    principal = principal_of_identity(ALICE)
    assert principal is not None
    assert principal["id"] == "arn:aws:iam::111122223333:user/alice"
    assert principal["arn"] == ALICE["arn"]


def test_create_access_key_for_another_user() -> None:
    record = rec(
        "CreateAccessKey",
        requestParameters={"userName": "bob"},
        responseElements={"accessKey": {"userName": "bob", "accessKeyId": "AKIABOB0000000000001", "status": "Active", "createDate": "Jan 7, 2026, 2:25:18 AM"}},
    )
    out = rows(record)
    [new_key] = [k for k in out["merge_access_keys"] if k["accessKeyId"] == "AKIABOB0000000000001"]
    assert new_key["props"]["bornBy"] == "CreateAccessKey" and new_key["props"]["createdAt"] == "2026-01-07T02:25:18Z"
    owners = {(o["accessKeyId"], o["principal"]) for o in out["merge_key_owners"]}
    assert ("AKIABOB0000000000001", "arn:aws:iam::111122223333:user/bob") in owners
    assert ("AKIAALICE00000000001", "arn:aws:iam::111122223333:user/alice") in owners
    assert [(i["parent"], i["child"], i["eventID"]) for i in out["merge_issued"]] == [("AKIAALICE00000000001", "AKIABOB0000000000001", "id-CreateAccessKey")]
    assert [(e["verb"], e["target"], e["rule"]) for e in out["merge_effects_on_access_keys"]] == [("CREATED", "AKIABOB0000000000001", "iam.CreateAccessKey")]
    assert out["merge_events"][0]["props"]["target"] == "AKIABOB0000000000001"


def test_a_failed_call_is_an_attempt_not_an_effect() -> None:
    record = rec(
        "CreateAccessKey", requestParameters={"userName": "bob"}, responseElements=None, errorCode="AccessDenied", errorMessage="User: alice is not authorized"
    )
    out = rows(record)
    event = out["merge_events"][0]["props"]
    assert event["succeeded"] is False and event["errorCode"] == "AccessDenied"
    assert event["verb"] == "CREATED" and event["target"] == "arn:aws:iam::111122223333:user/bob"
    for name in ("merge_effects_on_access_keys", "merge_effects_on_principals", "merge_issued", "merge_login_profiles"):
        assert out[name] == []
    assert [k["accessKeyId"] for k in out["merge_access_keys"]] == ["AKIAALICE00000000001"]
    assert [(u["action"], u["succeeded"]) for u in out["merge_key_usage"]] == [("iam:CreateAccessKey", False)]


def test_a_failed_create_user_creates_no_user() -> None:
    out = rows(rec("CreateUser", requestParameters={"userName": "mallory"}, errorCode="AccessDenied"))
    assert [p["id"] for p in out["merge_principals"]] == ["arn:aws:iam::111122223333:user/alice"]


def test_assume_role_mints_a_session_key() -> None:
    record = rec(
        "AssumeRole",
        source="sts",
        requestParameters={"roleArn": "arn:aws:iam::222222222222:role/team/Admin", "roleSessionName": "s1"},
        responseElements={
            "credentials": {"accessKeyId": "ASIAADMIN00000000001", "sessionToken": "SECRET", "expiration": "Jan 7, 2026, 3:25:18 AM"},
            "assumedRoleUser": {"assumedRoleId": "AROAX:s1", "arn": "arn:aws:sts::222222222222:assumed-role/Admin/s1"},
        },
    )
    out = rows(record)
    session = "arn:aws:sts::222222222222:assumed-role/Admin/s1"
    role = "arn:aws:iam::222222222222:role/Admin"
    assert {(s["session"], s["parent"]) for s in out["merge_sessions"]} == {(session, role)}
    assert ("ASIAADMIN00000000001", session) in {(o["accessKeyId"], o["principal"]) for o in out["merge_key_owners"]}
    [minted] = [k for k in out["merge_access_keys"] if k["accessKeyId"] == "ASIAADMIN00000000001"]
    assert minted["kind"] == "temporary" and minted["props"]["expiration"] == "2026-01-07T03:25:18Z"
    assert {(e["verb"], e["target"]) for e in out["merge_effects_on_principals"]} == {("ASSUMED", role)}
    assert "SECRET" not in out["merge_events"][0]["props"]["responseElements"]


def test_get_session_token_key_belongs_to_the_user() -> None:
    record = rec(
        "GetSessionToken",
        source="sts",
        requestParameters={"durationSeconds": 129600},
        responseElements={"credentials": {"accessKeyId": "ASIASESSION000000001", "expiration": "Jan 8, 2026, 2:25:18 PM"}},
    )
    out = rows(record)
    assert ("ASIASESSION000000001", "arn:aws:iam::111122223333:user/alice") in {(o["accessKeyId"], o["principal"]) for o in out["merge_key_owners"]}
    assert [(i["via"], i["child"]) for i in out["merge_issued"]] == [("GetSessionToken", "ASIASESSION000000001")]


def test_masked_key_ids_make_no_key_nodes() -> None:
    identity = dict(ALICE, accessKeyId="AKIA****************")
    out = rows(rec("ListUsers", identity=identity))
    assert out["merge_access_keys"] == [] and out["merge_signed"] == []
    assert out["merge_events"][0]["props"]["accessKeyId"] == "AKIA****************"


def test_service_event_without_identity_type() -> None:
    out = rows(rec("SharedSnapshotVolumeCreated", source="ec2", identity={"accountId": "1", "invokedBy": "ec2.amazonaws.com"}))
    assert out["merge_principals"][0]["id"] == "service:ec2.amazonaws.com"


def test_login_profile_and_policy_attachment() -> None:
    profile = rows(rec("CreateLoginProfile", requestParameters={"userName": "bob", "passwordResetRequired": False}))
    assert [(e["verb"], e["target"]) for e in profile["merge_effects_on_login_profiles"]] == [("CREATED", "arn:aws:iam::111122223333:user/bob/login-profile")]
    attach = rows(rec("AttachUserPolicy", requestParameters={"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
    effect, door = attach["merge_effects_on_principals"]
    assert effect["verb"] == "ATTACHED_POLICY" and effect["detail"]["policyArn"].endswith("AdministratorAccess")
    # An administrator made by the call is a door into that user.
    assert (door["verb"], door["target"], door["detail"]["door"]) == ("OPENED", effect["target"], "admin-policy")
    read_only = rows(rec("AttachUserPolicy", requestParameters={"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}))
    assert [e["verb"] for e in read_only["merge_effects_on_principals"]] == ["ATTACHED_POLICY"]


def test_generic_resources() -> None:
    stop = rows(rec("StopLogging", source="cloudtrail", requestParameters={"name": "main"}))
    assert [(e["verb"], e["target"]) for e in stop["merge_effects_on_resources"]] == [("STOPPED", "arn:aws:cloudtrail:us-east-1:111122223333:trail/main")]
    read = rows(rec("GetObject", source="s3", eventCategory="Data", requestParameters={"bucketName": "b", "key": "k.txt"}))
    assert [(e["verb"], e["target"]) for e in read["merge_effects_on_resources"]] == [("READ", "arn:aws:s3:::b/k.txt")]


def test_verbs_and_times() -> None:
    assert generic_verb("DeleteTrail", False) == "DELETED"
    assert generic_verb("PutEventSelectors", False) == "MODIFIED"
    assert generic_verb("ConsoleLogin", None) == "MODIFIED"
    assert parse_aws_time("Jul 29, 2021 1:10:42 PM") == "2021-07-29T13:10:42Z"
    assert parse_aws_time("Nov 30, 2024, 8:43:17 PM") == "2024-11-30T20:43:17Z"


def test_usage_is_aggregated_per_key_action_and_outcome() -> None:
    usage = [{"accessKeyId": "K", "action": "a", "succeeded": True, "eventID": str(i), "eventTime": f"2026-01-0{i}T00:00:00Z"} for i in range(1, 4)] + [
        {"accessKeyId": "K", "action": "a", "succeeded": False, "eventID": "x", "eventTime": "2026-01-05T00:00:00Z"}
    ]
    out = {(r["succeeded"], r["count"], r["firstSeen"], r["lastSeen"]) for r in aggregate_key_usage(usage)}
    assert out == {(True, 3, "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"), (False, 1, "2026-01-05T00:00:00Z", "2026-01-05T00:00:00Z")}


def test_run_instances_targets_the_instances_in_the_response() -> None:
    record = rec(
        "RunInstances",
        source="ec2",
        requestParameters={"instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1}]}},
        responseElements={"instancesSet": {"items": [{"instanceId": "i-0abc"}]}},
    )
    out = rows(record)
    assert [(e["verb"], e["target"]) for e in out["merge_effects_on_resources"]] == [("CREATED", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc")]


def test_response_elements_as_json_text_still_give_lineage_and_are_redacted() -> None:
    import json

    response = json.dumps({"credentials": {"accessKeyId": "ASIASESSION000000002", "sessionToken": "SECRET", "expiration": "Jan 8, 2026, 2:25:18 PM"}})
    out = rows(rec("GetSessionToken", source="sts", responseElements=response))
    assert [i["child"] for i in out["merge_issued"]] == ["ASIASESSION000000002"]
    assert "SECRET" not in out["merge_events"][0]["props"]["responseElements"]


def test_failed_create_access_key_targets_the_user() -> None:
    props = rows(rec("CreateAccessKey", requestParameters={"userName": "bob"}, errorCode="AccessDenied"))["merge_events"][0]["props"]
    assert (props["target"], props["targetType"]) == ("arn:aws:iam::111122223333:user/bob", "Principal")


def test_key_changes_are_edges_the_status_is_decided_from() -> None:
    key = "AKIABOB0000000000001"
    delete = rows(rec("DeleteAccessKey", requestParameters={"userName": "bob", "accessKeyId": key}, eventTime="2026-01-07T03:00:00Z"))
    assert [(r["target"], r["verb"]) for r in delete["merge_effects_on_access_keys"]] == [(key, "DELETED")]
    # The status itself is decided from those edges by every load (keytrail/graph/status.py), not per batch.
    assert "set_key_status" not in delete
    assert generic_verb("RevokeSecurityGroupIngress", False) == "MODIFIED"


def test_associate_instance_profile_as_cloudtrail_logs_it() -> None:
    request = {"AssociateIamInstanceProfileRequest": {"InstanceId": "i-0abc", "IamInstanceProfile": {"Name": "admin-profile"}}}
    out = rows(rec("AssociateIamInstanceProfile", source="ec2", requestParameters=request))
    [door] = [e for e in out["merge_effects_on_resources"] if e["verb"] == "OPENED"]
    assert door["target"] == "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"
    assert (door["detail"]["door"], door["detail"]["sessionName"], door["detail"]["instanceProfile"]) == ("instance-profile", "i-0abc", "admin-profile")


def test_partition_comes_from_the_arn_or_the_region() -> None:
    caller = {"type": "IAMUser", "accountId": "111122223333", "userName": "alice"}
    china = rows(rec("CreateUser", identity=caller, requestParameters={"userName": "x"}, awsRegion="cn-north-1"))
    assert china["merge_effects_on_principals"][0]["target"] == "arn:aws-cn:iam::111122223333:user/x"
    # A caller's ARN names the partition of what it acts on, whatever the region says.
    gov_caller = {"type": "IAMUser", "arn": "arn:aws-us-gov:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"}
    gov_user = rows(rec("CreateUser", identity=gov_caller, requestParameters={"userName": "x"}))
    assert gov_user["merge_effects_on_principals"][0]["target"] == "arn:aws-us-gov:iam::111122223333:user/x"
    gov = principal_of_identity({"type": "AssumedRole", "arn": "arn:aws-us-gov:sts::1:assumed-role/r/s", "accountId": "1"})
    assert gov is not None and gov["id"] == "arn:aws-us-gov:sts::1:assumed-role/r/s"
    pathed = principal_of_identity({"type": "IAMUser", "arn": "arn:aws:iam::1:user/ops/team/alice", "accountId": "1", "userName": "alice"})
    assert pathed is not None and (pathed["id"], pathed["path"]) == ("arn:aws:iam::1:user/alice", "/ops/team/")


def test_every_event_is_tallied_once_under_its_incident() -> None:
    [case] = rows(rec("ListUsers"))["merge_tallies"]
    fields = ("incident", "credential", "principal", "action", "succeeded", "userAgent", "madeByAws", "count", "firstCount", "firstEvent", "lastEvent")
    assert [case[f] for f in fields] == [
        "case",
        "AKIAALICE00000000001",
        "arn:aws:iam::111122223333:user/alice",
        "iam:ListUsers",
        True,
        "aws-cli/2",
        False,
        1,
        1,
        "2026-01-07T02:25:18Z",
        "2026-01-07T02:25:18Z",
    ]
    # The same call gives the same tally: the id depends on the fields, not on the event.
    [again] = rows(rec("ListUsers", eventID="another", eventTime="2026-01-08T00:00:00Z"))["merge_tallies"]
    assert again["id"] == case["id"]
    [failed] = rows(rec("ListUsers", errorCode="AccessDenied"))["merge_tallies"]
    assert failed["succeeded"] is False and failed["id"] != case["id"]
    [other] = event_rows(rec("ListUsers"), origin="f.json", index=3, incident="other", run_id="run")["merge_tallies"]
    assert other["id"] != case["id"]
    # Tagged with another incident later, the event counts there, and not again in the whole store.
    assert (retagged(other)["count"], retagged(other)["firstCount"]) == (1, 0)


@pytest.mark.parametrize(
    ("changes", "aws"),
    [
        ({"userIdentity": ALICE | {"invokedBy": "cloudformation.amazonaws.com"}}, True),
        ({"userIdentity": ALICE | {"invokedBy": ""}}, False),
        ({"sourceIPAddress": "AWS Internal"}, True),
        ({"sourceIPAddress": "lambda.amazonaws.com"}, True),
        ({"userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}}, True),
        ({"sourceIPAddress": "198.51.100.1"}, False),
    ],
)
def test_a_tally_says_whether_aws_made_the_call(changes: dict[str, Any], aws: bool) -> None:
    assert {t["madeByAws"] for t in rows(rec("ListUsers", **changes))["merge_tallies"]} == {aws}


def test_a_batch_sums_its_tallies_whatever_the_order() -> None:
    times = ["2026-01-07T03:00:00Z", "2026-01-07T01:00:00Z", "2026-01-07T02:00:00Z"]
    made = [t for i, when in enumerate(times) for t in rows(rec("ListUsers", eventID=f"e{i}", eventTime=when))["merge_tallies"]]
    made.append(retagged(made[0]))
    for order in (made, made[::-1]):
        [reduced] = aggregate_tallies(order)
        assert (reduced["count"], reduced["firstCount"], reduced["firstEvent"], reduced["lastEvent"]) == (4, 3, min(times), max(times))
