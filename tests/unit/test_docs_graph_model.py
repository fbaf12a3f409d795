"""docs/graph-model.md must keep up with the code: every label, relationship type and stored property is named there.

What is "stored" is read from the code itself: the ``SET x.prop`` assignments and ``{prop: ...}``
patterns of ``keytrail/cypher/write/*.cypher``, and the keys of the maps that those queries merge
whole (``SET e += row.props``, ``SET x += row.detail``), taken from ``transform.event_rows`` run on a
few records.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import keytrail
from keytrail.graph import transform
from keytrail.graph.queries import get_query
from keytrail.graph.schema import EFFECTS, NODE_KEYS, RELATIONSHIP_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "graph-model.md"
WRITE_DIR = Path(keytrail.__file__).parent / "cypher" / "write"

_CLAUSE = re.compile(r"\b(SET|MERGE|MATCH|WITH|FOREACH|UNWIND|RETURN|WHERE|CREATE|DELETE|DETACH|OPTIONAL|LIMIT|ORDER|ON)\b")
_ASSIGNMENT = re.compile(r"\b(\w+)\.(\w+)\s*=(?!~)")
_BINDING = re.compile(r"[(\[]\s*(\w+)\s*:\s*(\w+)")
_PATTERN_KEYS = re.compile(r"[(\[]\s*\w*\s*:\s*(\w+)\s*\{([^}]*)\}")

ACCOUNT = "111122223333"
CALLER = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLEEXAMPLE01",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAAAAAAAAAAAAAAAAA",
    "userName": "alice",
}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/admin"
POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _record(index: int, service: str, name: str, params: dict[str, Any], response: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": CALLER,
        "eventTime": f"2024-01-01T00:00:{index:02d}Z",
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15",
        "requestParameters": params,
        "responseElements": response,
        "requestID": f"request-{index}",
        "eventID": f"event-{index}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "eventCategory": "Management",
        "recipientAccountId": ACCOUNT,
        **extra,
    }


EXTERNAL = "444455556666"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:backdoor"
PERMISSION_SET_ARN = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"
EVERYTHING = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
TRUST_EXTERNAL = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", '
    f'"Principal": {{"AWS": ["arn:aws:iam::{ACCOUNT}:root", "arn:aws:iam::{EXTERNAL}:root", "*"]}}}}]}}'
)

#: Successful calls that open every kind of door, so that every property an OPENED edge can carry is checked.
DOOR_RECORDS = [
    _record(
        11,
        "iam",
        "CreateUser",
        {"userName": "eve", "path": "/ops/"},
        {"user": {"arn": f"arn:aws:iam::{ACCOUNT}:user/ops/eve", "userId": "AIDAEXAMPLEEXAMPLE02", "userName": "eve", "path": "/ops/"}},
    ),
    _record(12, "iam", "UpdateAssumeRolePolicy", {"roleName": "admin", "policyDocument": TRUST_EXTERNAL}),
    _record(13, "iam", "PutUserPolicy", {"userName": "eve", "policyName": "everything", "policyDocument": EVERYTHING}),
    _record(
        14,
        "sts",
        "GetFederationToken",
        {"name": "fed", "policy": EVERYTHING, "durationSeconds": 129600},
        {
            "credentials": {"accessKeyId": "ASIADDDDDDDDDDDDDDDD", "sessionToken": "token", "expiration": "Jan 2, 2024, 12:00:14 PM"},
            "federatedUser": {"arn": f"arn:aws:sts::{ACCOUNT}:federated-user/fed", "federatedUserId": f"{ACCOUNT}:fed"},
        },
    ),
    _record(
        15,
        "lambda",
        "CreateFunction20150331",
        {"functionName": "backdoor", "role": ROLE_ARN, "runtime": "python3.12", "handler": "index.handler"},
        {"functionName": "backdoor", "functionArn": FUNCTION_ARN, "role": ROLE_ARN},
    ),
    _record(
        16, "lambda", "UpdateFunctionCode20150331v2", {"functionName": "backdoor"}, {"functionName": "backdoor", "functionArn": FUNCTION_ARN, "role": ROLE_ARN}
    ),
    _record(17, "lambda", "AddPermission20150331v2", {"functionName": "backdoor", "statementId": "open", "action": "lambda:InvokeFunction", "principal": "*"}),
    _record(
        18,
        "lambda",
        "CreateFunctionUrlConfig",
        {"functionName": "backdoor", "authType": "NONE"},
        {"functionUrl": "https://abcdefghij.lambda-url.us-east-1.on.aws/", "functionArn": FUNCTION_ARN, "authType": "NONE"},
    ),
    _record(
        19,
        "ec2",
        "RunInstances",
        {
            "instancesSet": {"items": [{"imageId": "ami-0123456789abcdef0", "minCount": 1, "maxCount": 1}]},
            "instanceType": "t3.micro",
            "iamInstanceProfile": {"name": "web"},
        },
        {
            "instancesSet": {
                "items": [
                    {"instanceId": "i-0123456789abcdef0", "iamInstanceProfile": {"arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/web", "id": "AIPAEXAMPLE"}}
                ]
            }
        },
    ),
    _record(
        20, "ec2-instance-connect", "SendSSHPublicKey", {"instanceId": "i-0123456789abcdef0", "instanceOSUser": "ec2-user", "sSHPublicKey": "ssh-ed25519 AAAA"}
    ),
    _record(21, "ssm", "SendCommand", {"instanceIds": ["i-0123456789abcdef0"], "documentName": "AWS-RunShellScript"}),
    _record(22, "iam", "AddRoleToInstanceProfile", {"instanceProfileName": "web", "roleName": "admin"}),
    _record(
        23,
        "sso",
        "CreatePermissionSet",
        {"instanceArn": "arn:aws:sso:::instance/ssoins-1111111111111111", "name": "Break-Glass"},
        {"permissionSet": {"name": "Break-Glass", "permissionSetArn": PERMISSION_SET_ARN}},
    ),
    _record(
        24,
        "sso",
        "CreateAccountAssignment",
        {"targetId": EXTERNAL, "targetType": "AWS_ACCOUNT", "permissionSetArn": PERMISSION_SET_ARN, "principalType": "USER", "principalId": "9067-user"},
    ),
    _record(
        25,
        "identitystore",
        "CreateUser",
        {"identityStoreId": "d-1234567890", "userName": "mallory"},
        {"userId": "9067-user", "identityStoreId": "d-1234567890"},
    ),
    _record(
        26,
        "rolesanywhere",
        "CreateTrustAnchor",
        {"name": "anchor", "enabled": True},
        {"trustAnchor": {"trustAnchorArn": f"arn:aws:rolesanywhere:us-east-1:{ACCOUNT}:trust-anchor/0000-anchor", "name": "anchor"}},
    ),
    _record(
        27,
        "rolesanywhere",
        "CreateProfile",
        {"name": "anywhere", "roleArns": [ROLE_ARN]},
        {"profile": {"profileArn": f"arn:aws:rolesanywhere:us-east-1:{ACCOUNT}:profile/0000-profile", "roleArns": [ROLE_ARN]}},
    ),
]

#: Successful calls that, together, send rows to every write query of a batch.
RECORDS = [
    _record(
        1,
        "iam",
        "CreateAccessKey",
        {"userName": "bob"},
        {"accessKey": {"accessKeyId": "AKIABBBBBBBBBBBBBBBB", "status": "Active", "userName": "bob", "createDate": "Jan 1, 2024, 12:00:01 AM"}},
    ),
    _record(2, "iam", "UpdateAccessKey", {"accessKeyId": "AKIABBBBBBBBBBBBBBBB", "status": "Inactive", "userName": "bob"}),
    _record(3, "iam", "CreateRole", {"roleName": "admin", "assumeRolePolicyDocument": "{}"}, {"role": {"arn": ROLE_ARN, "roleName": "admin"}}),
    _record(4, "iam", "PutRolePolicy", {"roleName": "admin", "policyName": "inline", "policyDocument": "{}"}),
    _record(5, "iam", "AttachUserPolicy", {"userName": "bob", "policyArn": POLICY_ARN}),
    _record(6, "iam", "AttachGroupPolicy", {"groupName": "ops", "policyArn": POLICY_ARN}),
    _record(7, "iam", "AddUserToGroup", {"userName": "bob", "groupName": "ops"}),
    _record(8, "iam", "CreateLoginProfile", {"userName": "bob", "passwordResetRequired": False}),
    _record(
        9,
        "sts",
        "AssumeRole",
        {"roleArn": ROLE_ARN, "roleSessionName": "session"},
        {
            "assumedRoleUser": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/session", "assumedRoleId": "AROAEXAMPLEEXAMPLE01:session"},
            "credentials": {"accessKeyId": "ASIACCCCCCCCCCCCCCCC", "sessionToken": "token", "expiration": "Jan 1, 2024, 1:00:00 AM"},
        },
    ),
    _record(10, "s3", "GetObject", {"bucketName": "evidence", "key": "notes.txt"}, eventCategory="Data", readOnly=True),
    *DOOR_RECORDS,
]

#: Write query -> the label whose properties its ``+= row.props`` map sets.
_PROPS_LABEL = {"merge_access_keys": "AccessKey", "merge_resources": "Resource", "merge_login_profiles": "LoginProfile"}


def _body(path: Path) -> str:
    return "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//"))


def _stored_by_cypher() -> dict[str, set[str]]:
    """Label or relationship type -> property keys the write queries set or match on."""
    stored: dict[str, set[str]] = defaultdict(set)
    for path in sorted(WRITE_DIR.glob("*.cypher")):
        body = _body(path)
        bound: dict[str, set[str]] = defaultdict(set)
        for variable, name in _BINDING.findall(body):
            bound[variable].add(name)
        for name, keys in _PATTERN_KEYS.findall(body):
            stored[name].update(re.findall(r"(\w+)\s*:", keys))
        parts = _CLAUSE.split(body)
        for keyword, clause in zip(parts[1::2], parts[2::2], strict=True):
            if keyword != "SET":
                continue
            for variable, prop in _ASSIGNMENT.findall(clause):
                assert variable in bound, f"{path.name}: SET on {variable}.{prop}, a variable bound to no label or type"
                for name in bound[variable]:
                    stored[name].add(prop)
    return stored


def _rows(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    # Without this, keys whose value is null in these records would vanish from the rows, yet real records set them.
    monkeypatch.setattr(transform, "_clean", lambda row: dict(row))
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for index, record in enumerate(RECORDS):
        for name, produced in transform.event_rows(record, origin="test.json", index=index, incident="doc", run_id="run").items():
            rows[name].extend(produced)
    return rows


def _stored_by_transform(rows: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    """Label or relationship type -> property keys of the maps the write queries merge whole."""
    stored: dict[str, set[str]] = defaultdict(set)
    for row in rows["merge_events"]:
        stored["Event"].update(row["props"])
    for row in rows["merge_principals"]:
        stored["Principal"].update(row)
    for query, label in _PROPS_LABEL.items():
        for row in rows[query]:
            stored[label].update(row["props"])
    for query in transform.WRITE_ORDER:
        if query.startswith("merge_effects_on_"):
            for row in rows[query]:
                stored[row["verb"]].update(row["detail"])
    return stored


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) pairs; headings inside code blocks are not headings."""
    sections: list[tuple[str, str]] = []
    heading, in_code = "", False
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("#"):
            sections.append((heading, "\n".join(body)))
            heading, body = line, []
        else:
            body.append(line)
    sections.append((heading, "\n".join(body)))
    return sections


def _first_cell(line: str) -> str:
    return line.strip().strip("|").split("|", 1)[0].strip()


def _keyed_rows(text: str) -> list[tuple[str, str]]:
    """(first cell, line) of the rows of tables keyed by label or type (first column ``label`` or ``type``)."""
    rows: list[tuple[str, str]] = []
    header = ""
    for line in text.splitlines():
        if not line.startswith("|"):
            header = ""
        elif not header:
            header = _first_cell(line)
        elif header in ("label", "type"):
            rows.append((_first_cell(line), line))
    return rows


def _describing(text: str, name: str) -> list[str]:
    """The text that describes a label or type: its rows in the keyed tables, else the sections headed by it.

    A section with keyed tables describes only what its rows name, so a row cannot go missing unnoticed.
    """
    rows = [line for cell, line in _keyed_rows(text) if cell == f"`{name}`"]
    if rows:
        return rows
    return [body for heading, body in _sections(text) if f"`{name}`" in heading and not _keyed_rows(body)]


@pytest.fixture(scope="module")
def doc() -> str:
    assert DOC.is_file(), f"{DOC} is missing"
    return DOC.read_text()


def test_the_records_reach_every_write_query(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(monkeypatch)
    assert [name for name in transform.WRITE_ORDER if not rows[name]] == []


def test_the_parser_finds_what_the_queries_store() -> None:
    stored = _stored_by_cypher()
    assert {"kind", "accessKeyId"} <= stored["AccessKey"]
    assert {"incidents", "eventID"} <= stored["Event"]
    assert {"count", "eventIDs", "firstSeen", "lastSeen", "rule"} <= stored["USED"]
    assert {"eventID", "eventTime", "via", "rule"} <= stored["ISSUED"]
    assert {"rule", "eventID", "eventTime"} <= stored["READ"]


def test_every_merged_map_is_read_from_the_transform() -> None:
    # A query that merges a whole map (``+=``) stores keys only the transform knows; _stored_by_transform must read them.
    merging = {path.stem for path in WRITE_DIR.glob("*.cypher") if "+=" in _body(path)}
    effects = {name for name in transform.WRITE_ORDER if name.startswith("merge_effects_on_")}
    assert merging == {"merge_events", *_PROPS_LABEL, *effects}


def test_every_label_has_a_section_naming_its_key(doc: str) -> None:
    headings = "\n".join(heading for heading, _ in _sections(doc))
    for label, key in NODE_KEYS.items():
        assert f"`{label}`" in headings, f"no section for the label {label}"
        assert any(f"`{key}`" in text for text in _describing(doc, label)), f"{label}'s key {key} is not described"


def test_every_relationship_type_is_described(doc: str) -> None:
    for kind in sorted(RELATIONSHIP_TYPES):
        assert _describing(doc, kind), f"relationship type {kind} is not described"


def test_the_diagram_shows_every_label_and_type(doc: str) -> None:
    match = re.search(r"```mermaid\n(.*?)```", doc, re.DOTALL)
    assert match is not None, "no mermaid diagram"
    words = set(re.findall(r"\w+", match.group(1)))
    assert sorted((set(NODE_KEYS) | RELATIONSHIP_TYPES) - words) == []


def test_every_stored_property_is_described(doc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = _stored_by_cypher()
    for name, keys in _stored_by_transform(_rows(monkeypatch)).items():
        stored[name] |= keys
    missing = sorted(f"{name}.{prop}" for name, props in stored.items() for prop in props if not any(f"`{prop}`" in text for text in _describing(doc, name)))
    assert missing == []


def test_the_effect_target_table_matches_the_queries(doc: str) -> None:
    in_code: dict[str, set[str]] = defaultdict(set)
    for path in WRITE_DIR.glob("merge_effects_on_*.cypher"):
        body = _body(path)
        labels = {name for variable, name in _BINDING.findall(body) if name in NODE_KEYS and name != "Event"}
        assert len(labels) == 1, f"{path.name}: one target label expected, got {labels}"
        for verb in set(re.findall(r"\[\s*\w+\s*:\s*(\w+)\s*\]", body)):
            in_code[verb] |= labels
    assert set(in_code) == EFFECTS
    lines = doc.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| verb |"))
    columns = [cell.strip().strip("`") for cell in lines[header].strip().strip("|").split("|")]
    in_doc: dict[str, set[str]] = defaultdict(set)
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        for verb in re.findall(r"`(\w+)`", cells[0]):
            in_doc[verb] |= {column for column, cell in zip(columns[1:], cells[1:], strict=True) if "✓" in cell}
    assert dict(in_doc) == dict(in_code)


def _cypher_blocks(text: str) -> list[tuple[str, str]]:
    """(prose since the previous code block, Cypher block) pairs."""
    blocks: list[tuple[str, str]] = []
    prose: list[str] = []
    code: list[str] | None = None
    fence = ""
    for line in text.splitlines():
        if code is None and line.startswith("```"):
            code, fence = [], line
        elif code is not None and line.startswith("```"):
            if fence == "```cypher":
                blocks.append(("\n".join(prose), "\n".join(code)))
            code, prose = None, []
        elif code is not None:
            code.append(line)
        else:
            prose.append(line)
    return blocks


def test_quoted_named_queries_are_quoted_exactly(doc: str) -> None:
    # A Cypher block introduced by "the named query `name`" must be that query's text.
    quoted: list[tuple[str, str]] = []
    for prose, block in _cypher_blocks(doc):
        names = re.findall(r"named query `([\w-]+)`", prose)
        if names:
            quoted.append((names[-1], block))
    assert len(quoted) >= 2
    for name, block in quoted:
        assert block.split() == get_query(name).body.split(), f"the quoted {name} differs from its .cypher file"
