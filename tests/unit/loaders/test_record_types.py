"""The record check refuses, naming the field, what the transform and the rules could not read; the rules read the rest.

A field of the record's envelope (what CloudTrail itself writes) of another type than CloudTrail's
is refused; a member of a request or response of another type than a rule expects names nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from keytrail.graph.transform import event_rows, reduce_batch
from keytrail.loaders.records import check_record
from keytrail.rules import REGISTRY
from keytrail.rules.policy import quarantine_policy

ACCOUNT = "111122223333"


def _record(**changes: Any) -> dict[str, Any]:
    return {
        "eventID": "e",
        "eventTime": "2026-01-07T02:25:18Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT, "userName": "alice", "accessKeyId": "AKIAAAAAAAAAAAAAAAAA"},
        "recipientAccountId": ACCOUNT,
        "requestParameters": {"userName": "bob"},
        "responseElements": {"user": {"userName": "bob"}},
        **changes,
    }


def _refused(record: dict[str, Any]) -> str:
    reason = check_record(record)
    assert reason is not None
    # A reason is one line a person reads, and the rejects file can hold it.
    reason.encode("utf-8")
    assert len(reason) < 1_000
    return reason


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"eventID": " " * 10_000}, "eventID"),
        ({"userIdentity": {"type": "AssumedRole", "sessionContext": "x"}}, "userIdentity.sessionContext"),
        ({"userIdentity": {"type": "AssumedRole", "sessionContext": {"sessionIssuer": ["x"]}}}, "userIdentity.sessionContext.sessionIssuer"),
        (
            {"userIdentity": {"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::1:role/r", "principalId": {}}}}},
            "userIdentity.sessionContext.sessionIssuer.principalId",
        ),
        ({"userIdentity": {"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"arn": 5}}}}, "userIdentity.sessionContext.sessionIssuer.arn"),
        ({"userIdentity": {"type": "IdentityCenterUser", "onBehalfOf": {"userId": ["u"]}}}, "userIdentity.onBehalfOf.userId"),
        ({"userIdentity": {"type": "IdentityCenterUser", "onBehalfOf": "u"}}, "userIdentity.onBehalfOf"),
        ({"resources": [{"ARN": "arn:aws:s3:::b", "type": {"x": 1}}]}, "resources[0].type"),
        ({"resources": [{"ARN": ["arn:aws:s3:::b"]}]}, "resources[0].ARN"),
        ({"resources": [{"accountId": 1}]}, "resources[0].accountId"),
        ({"readOnly": {"x": "y" * 10_000}}, "readOnly"),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_naming_it(changes: dict[str, Any], field: str) -> None:
    assert field in _refused(_record(**changes))


def test_a_missing_time_names_the_stand_in_field_of_the_wrong_type() -> None:
    record = _record(**{"@timestamp": 5})
    del record["eventTime"]
    assert "@timestamp" in _refused(record)


@pytest.mark.parametrize(
    ("make", "where"),
    [
        (lambda r: r["requestParameters"].__setitem__("self", r["requestParameters"]), "requestParameters.self"),
        (lambda r: r["requestParameters"].__setitem__("bad", float("nan")), "requestParameters.bad"),
        (lambda r: r["requestParameters"].__setitem__("bad", [float("inf")]), "requestParameters.bad[0]"),
        (lambda r: r["requestParameters"].__setitem__("bad", {1: "int key"}), "requestParameters.bad"),
        (lambda r: r["requestParameters"].__setitem__("bad", {"a", "set"}), "requestParameters.bad"),
        (lambda r: r["responseElements"].__setitem__("bad", [b"bytes"]), "responseElements.bad[0]"),
        (lambda r: r["responseElements"]["user"].__setitem__("userName", "bo\ud800b"), "responseElements.user.userName"),
        (lambda r: r["responseElements"].__setitem__("a\ud800", 1), "responseElements.a\\ud800"),
        (lambda r: r.__setitem__("userAgent", "\udfff"), "userAgent"),
        (lambda r: r.__setitem__("eventID", "e\udc80"), "eventID"),
    ],
    ids=["cycle", "nan", "infinity", "int-key", "set", "bytes", "surrogate", "surrogate-key", "surrogate-agent", "surrogate-id"],
)
def test_what_json_and_the_stores_cannot_hold_is_refused_naming_where(make: Callable[[dict[str, Any]], None], where: str) -> None:
    record = _record()
    make(record)
    assert where in _refused(record)


def test_a_deep_path_is_named_by_its_ends() -> None:
    leaf: Any = "\ud800"
    for _ in range(2_000):
        leaf = {"level": leaf}
    reason = _refused(_record(requestParameters={"top": leaf}))
    assert reason.startswith("field requestParameters.top.level") and "levels" in reason and "U+D800" in reason


def _storable(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(item, str | int | float | bool) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


#: Request and response members that rules read as objects, strings or booleans, here of other types.
ODD_REQUEST = {
    "userName": ["bob"],
    "roleName": {"n": 1},
    "passwordResetRequired": {"x": 1},
    "status": {"Inactive": 1},
    "IamInstanceProfile": "p",
    "roleArns": "r",
}
ODD_RESPONSES = [
    {"accessKey": "AKIAAAAAAAAAAAAAAAAB", "user": ["bob"], "role": 1},
    {"accessKey": {"accessKeyId": "AKIAAAAAAAAAAAAAAAAB", "userName": 5, "status": [], "createDate": {}}},
    {"credentials": "x", "assumedRoleUser": 5, "federatedUser": ["f"]},
    {"assumedRoleUser": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", "assumedRoleId": {"id": 1}}},
    {"user": {"userName": "bob", "arn": ["a"], "userId": {"x": 1}}},
    {"instanceProfile": [], "permissionSet": "p", "trustAnchor": 1, "profile": True, "instancesSet": "i"},
]


@pytest.mark.parametrize("request_parameters", [ODD_REQUEST, {}], ids=["odd-request", "empty-request"])
@pytest.mark.parametrize("response", ODD_RESPONSES)
def test_a_member_of_another_type_names_nothing_and_breaks_no_rule(response: dict[str, Any], request_parameters: dict[str, Any]) -> None:
    for service, name in REGISTRY.events():
        wrapped = {f"{name}Response": {"iamInstanceProfileAssociation": "x"}}
        record = _record(eventSource=f"{service}.amazonaws.com", eventName=name, requestParameters=request_parameters, responseElements=response | wrapped)
        assert check_record(record) is None
        rows = event_rows(record, origin="t", index=0, incident="t", run_id="r")
        for query, produced in reduce_batch(rows).items():
            for row in produced:
                for key, value in row.items():
                    inner = value.values() if isinstance(value, dict) and key in ("props", "detail") else [value]
                    assert all(_storable(v) for v in inner), (service, name, query, key, value)


def test_a_user_name_of_another_type_is_not_taken_for_the_caller() -> None:
    rows = event_rows(_record(requestParameters={"userName": ["bob"]}, responseElements=None), origin="t", index=0, incident="t", run_id="r")
    assert rows["merge_effects_on_principals"] == []
    rows = event_rows(
        _record(eventName="CreateAccessKey", requestParameters={"userName": {"n": "bob"}}, responseElements=None), origin="t", index=0, incident="t", run_id="r"
    )
    assert rows["merge_events"][0]["props"].get("target") is None


def test_a_policy_named_by_a_value_of_another_type_is_no_quarantine_policy() -> None:
    deep: Any = "AWSCompromisedKeyQuarantineV2"
    for _ in range(5_000):
        deep = [deep]
    assert quarantine_policy("AttachUserPolicy", {"policyArn": deep}) is None
    assert quarantine_policy("PutUserPolicy", {"policyName": deep}) is None
    assert quarantine_policy("AttachUserPolicy", {"policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}) == "AWSCompromisedKeyQuarantineV2"
