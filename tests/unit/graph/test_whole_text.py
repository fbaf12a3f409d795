"""What a record says is kept whole on its Event: at any size, at any depth, integers of any size."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keytrail.graph.transform import event_rows
from keytrail.loaders.records import check_record
from keytrail.model.secrets import REDACTED, redact_tokens
from keytrail.rules.base import json_text

ACCOUNT = "111122223333"


def nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        value = {f"k{level % 3}": value} if level % 2 else [value, level]
    return value


def _record(**changes: Any) -> dict[str, Any]:
    return {
        "eventID": "e",
        "eventTime": "2026-01-07T02:25:18Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "PutUserPolicy",
        "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT, "userName": "alice", "accessKeyId": "AKIAAAAAAAAAAAAAAAAA"},
        "recipientAccountId": ACCOUNT,
        "requestParameters": {"userName": "bob", "policyName": "p"},
        "responseElements": None,
        **changes,
    }


def _rows(record: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    assert check_record(record) is None
    return event_rows(record, origin="t", index=0, incident="t", run_id="r")


def _props(record: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = _rows(record)["merge_events"][0]["props"]
    return props


@pytest.mark.parametrize("depth", [254, 255, 300, 400, 1_000])
@pytest.mark.parametrize("field", ["requestParameters", "responseElements", "additionalEventData"])
def test_nesting_hundreds_of_levels_deep_is_kept_whole(field: str, depth: int) -> None:
    value = {"userName": "bob", "deep": nested(depth, "leaf")}
    assert json.loads(_props(_record(**{field: value}))[field]) == value


def test_nesting_deeper_than_python_recurses_is_kept_and_its_tokens_redacted() -> None:
    request, response = {"deep": nested(5_000, "leaf")}, {"deep": nested(5_000, {"sessionToken": "secret-token"})}
    props = _props(_record(requestParameters=request, responseElements=response))
    assert props["requestParameters"].startswith('{"deep":{"k1":[{"k2":[') and props["requestParameters"].count("[") == 2_500
    assert "secret-token" not in props["responseElements"] and f'"sessionToken":"{REDACTED}"' in props["responseElements"]
    assert redact_tokens(response) is not response


@pytest.mark.parametrize("size", [32_768, 32_769, 100_000])
def test_a_long_request_response_or_error_is_kept_whole(size: int) -> None:
    policy = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "r" * size}]})
    record = _record(
        requestParameters={"userName": "bob", "policyName": "p", "policyDocument": policy},
        responseElements={"note": "n" * size},
        errorMessage=None,
        additionalEventData={"x": "a" * size},
    )
    rows = _rows(record)
    props = rows["merge_events"][0]["props"]
    for field in ("requestParameters", "responseElements", "additionalEventData"):
        assert json.loads(props[field]) == record[field]
    # The policy on the PUT_POLICY edge too: the reports read it back as JSON.
    (edge,) = rows["merge_effects_on_principals"]
    assert edge["detail"]["policyDocument"] == policy


def test_a_long_error_message_is_kept_whole() -> None:
    message = "User: arn:aws:iam::111122223333:user/alice is not authorized " + "x" * 5_000
    props = _props(_record(errorCode="AccessDenied", errorMessage=message))
    assert props["errorMessage"] == message


def test_an_empty_error_message_is_kept_as_written() -> None:
    assert _props(_record(errorCode="AccessDenied", errorMessage=""))["errorMessage"] == ""


def test_integers_beyond_64_bits_are_kept_exactly() -> None:
    big = 2**80 + 1
    request = {"userName": "bob", "n": big, "m": [-(2**70)]}
    props = _props(_record(requestParameters=request, responseElements=json.dumps({"count": big})))
    assert json.loads(props["requestParameters"]) == request
    assert json.loads(props["responseElements"]) == {"count": big}


def test_json_text_of_a_deep_value_writes_its_members_as_orjson_does() -> None:
    value = {"b": [1, 2.5, None, True, False, 'é\n\x00"\\'], "a": {"z": {}, "y": []}, "c": -0.0}
    deep = nested(300, value)
    text = json_text(deep)
    assert text is not None and json.loads(text) == deep
    assert json_text(value) == '{"a":{"y":[],"z":{}},"b":[1,2.5,null,true,false,"é\\n\\u0000\\"\\\\"],"c":-0.0}'
    # The deep path writes the innermost value exactly as orjson writes it.
    assert json_text(value) in text


def test_an_unchecked_field_nested_deeper_than_python_recurses_breaks_nothing() -> None:
    props = _props(_record(sessionCredentialFromConsole=nested(5_000, "true")))
    assert "sessionCredentialFromConsole" not in props
    assert _props(_record(sessionCredentialFromConsole="TRUE"))["sessionCredentialFromConsole"] is True
