"""Tests of the sample generators: they check the records themselves, not the facts."""

from __future__ import annotations

import gzip
import itertools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from keytrail.sample import (
    ATTACKER_NET,
    cross_account_incident,
    session_token_incident,
    synthetic_records,
    workshop_incident,
    write_eventbridge,
    write_jsonl,
    write_lookup_events,
    write_s3_layout,
)

Record = dict[str, Any]

KEY_RE = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{16}$")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
LOG_RE = re.compile(
    r"^AWSLogs/(?:(?P<org>o-[a-z0-9]{10,32})/)?(?P<acct>\d{12})/CloudTrail/(?P<region>[a-z]{2}-[a-z]+-\d)/"
    r"(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/(?P=acct)_CloudTrail_(?P=region)_"
    r"(?P<stamp>(?P=y)(?P=m)(?P=d)T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$"
)
DIGEST_RE = re.compile(
    r"^AWSLogs/(?:o-[a-z0-9]{10,32}/)?(?P<acct>\d{12})/CloudTrail-Digest/(?P<region>[a-z]{2}-[a-z]+-\d)/"
    r"(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/(?P=acct)_CloudTrail-Digest_(?P=region)_[\w-]+_(?P=region)_"
    r"(?P=y)(?P=m)(?P=d)T\d{6}Z\.json\.gz$"
)
REQUIRED = (
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "eventCategory",
)


def all_incidents() -> list[tuple[str, list[Record]]]:
    return [
        ("workshop", workshop_incident().records),
        ("session-token", session_token_incident().records),
        ("cross-account", cross_account_incident().records),
        ("synthetic", list(synthetic_records(30_000, attack_every=3_000))),
    ]


INCIDENTS = all_incidents()


def key_ids(record: Record) -> Iterator[tuple[str, str]]:
    """(where, key id) for every access key id a record carries."""
    ident = record["userIdentity"]
    if "accessKeyId" in ident:
        yield "identity", ident["accessKeyId"]
    req = record.get("requestParameters") or {}
    if "accessKeyId" in req:
        yield "request", req["accessKeyId"]
    resp = record.get("responseElements") or {}
    if "accessKey" in resp:
        yield "accessKey", resp["accessKey"]["accessKeyId"]
    if "credentials" in resp:
        yield "credentials", resp["credentials"]["accessKeyId"]


def by_key(records: list[Record], key_id: str) -> list[Record]:
    return sorted(
        (r for r in records if r["userIdentity"].get("accessKeyId") == key_id),
        key=lambda r: r["eventTime"],
    )


# --------------------------------------------------------------------------- every generator


@pytest.mark.parametrize(("name", "records"), INCIDENTS, ids=[n for n, _ in INCIDENTS])
def test_record_shape(name: str, records: list[Record]) -> None:
    assert records
    for r in records:
        missing = [f for f in REQUIRED if f not in r]
        assert not missing, (name, missing, r)
        assert TIME_RE.match(r["eventTime"]), r["eventTime"]
        assert UUID4_RE.match(r["eventID"]), r["eventID"]
        assert r["eventSource"].endswith(".amazonaws.com")
        assert r["eventType"] in ("AwsApiCall", "AwsConsoleSignIn")
        assert r["eventCategory"] == ("Management" if r["managementEvent"] else "Data")
        assert r["requestParameters"] is None or r["requestParameters"]
        assert r["responseElements"] is None or r["responseElements"]
        assert ("errorCode" in r) == ("errorMessage" in r)
        assert re.fullmatch(r"\d{12}", r["recipientAccountId"])
        if r["eventType"] == "AwsApiCall":
            assert r["requestID"]
        if r["eventSource"] == "iam.amazonaws.com":
            assert r["awsRegion"] == "us-east-1"
        json.dumps(r)


@pytest.mark.parametrize(("name", "records"), INCIDENTS, ids=[n for n, _ in INCIDENTS])
def test_event_ids_unique(name: str, records: list[Record]) -> None:
    ids = [r["eventID"] for r in records]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("name", "records"), INCIDENTS, ids=[n for n, _ in INCIDENTS])
def test_key_ids_valid(name: str, records: list[Record]) -> None:
    seen = 0
    for r in records:
        ident = r["userIdentity"]
        for where, key in key_ids(r):
            seen += 1
            assert KEY_RE.match(key), (where, key)
            if where == "accessKey":
                assert key.startswith("AKIA")
            elif where == "credentials":
                assert key.startswith("ASIA")
            elif where == "identity":
                temporary = ident["type"] == "AssumedRole" or "sessionContext" in ident
                assert key.startswith("ASIA" if temporary else "AKIA"), r
    assert seen > 0


@pytest.mark.parametrize(("name", "records"), INCIDENTS, ids=[n for n, _ in INCIDENTS])
def test_minted_keys_are_new(name: str, records: list[Record]) -> None:
    """A key born in a response is never used before it is born, and born once."""
    born: dict[str, str] = {}
    for r in records:
        for where, key in key_ids(r):
            if where in ("accessKey", "credentials"):
                assert born.get(key, r["eventTime"]) == r["eventTime"], key
                born[key] = r["eventTime"]
    for r in records:
        key = r["userIdentity"].get("accessKeyId")
        if key in born:
            assert r["eventTime"] >= born[key], (key, r["eventName"])


def test_deterministic() -> None:
    def dump(records: list[Record]) -> str:
        return json.dumps(records, sort_keys=True)

    assert dump(workshop_incident(7).records) == dump(workshop_incident(7).records)
    assert dump(workshop_incident(7).records) != dump(workshop_incident(8).records)
    assert workshop_incident(7).facts == workshop_incident(7).facts
    assert dump(session_token_incident(3).records) == dump(session_token_incident(3).records)
    assert dump(cross_account_incident(3).records) == dump(cross_account_incident(3).records)
    assert cross_account_incident(3).facts == cross_account_incident(3).facts
    a = list(synthetic_records(5_000, seed=5, attack_every=1_000))
    b = list(synthetic_records(5_000, seed=5, attack_every=1_000))
    c = list(synthetic_records(5_000, seed=6, attack_every=1_000))
    assert dump(a) == dump(b)
    assert dump(a) != dump(c)


# --------------------------------------------------------------------------- workshop


def test_workshop_story() -> None:
    inc = workshop_incident()
    records, facts = inc.records, inc.facts
    assert 200 <= len(records) <= 600
    times = [r["eventTime"] for r in records]
    assert times != sorted(times), "records should be shuffled"

    # Find L, M, N from the records themselves, starting from the user name only.
    sysdev = "tdir-workshop-sysdev"
    creates = sorted(
        (r for r in records if r["eventName"] == "CreateAccessKey" and r["userIdentity"].get("userName") == sysdev),
        key=lambda r: r["eventTime"],
    )
    assert len(creates) == 2
    key_l = creates[0]["userIdentity"]["accessKeyId"]
    assert {c["userIdentity"]["accessKeyId"] for c in creates} == {key_l}
    created = {c["responseElements"]["accessKey"]["userName"]: c["responseElements"]["accessKey"] for c in creates}
    assert set(created) == {"tdir-workshop-mmajor-dev", "tdir-workshop-nwolf-dev"}
    for c in creates:
        key = c["responseElements"]["accessKey"]
        assert c["requestParameters"]["userName"] == key["userName"]
        assert key["status"] == "Active"
        assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d\d:\d\d [AP]M", key["createDate"])
    key_m = created["tdir-workshop-mmajor-dev"]["accessKeyId"]
    key_n = created["tdir-workshop-nwolf-dev"]["accessKeyId"]

    used_l = by_key(records, key_l)
    assert used_l[0]["eventTime"] == "2026-01-07T02:25:18Z"
    assert used_l[0]["eventName"] == "GetCallerIdentity"
    assert all(r["userIdentity"]["userName"] == sysdev for r in used_l)
    assert len({r["sourceIPAddress"] for r in used_l}) == 1
    assert len({r["userAgent"] for r in used_l}) == 1
    assert not used_l[0]["userAgent"].startswith(("AWS Internal", "console."))
    denied = [r for r in used_l if r.get("errorCode") == "AccessDenied"]
    assert len(denied) == 1
    assert {"ListUsers", "ListAttachedUserPolicies"} <= {r["eventName"] for r in used_l}

    assert by_key(records, key_m) == []
    used_n = by_key(records, key_n)
    assert len(used_n) == 5
    assert used_n[-1]["eventName"] == "DeleteUser"
    assert used_n[-1]["requestParameters"] == {"userName": sysdev}
    assert all(r["userIdentity"]["userName"] == "tdir-workshop-nwolf-dev" for r in used_n)
    assert {r["sourceIPAddress"] for r in used_n} == {used_l[0]["sourceIPAddress"]}
    assert used_n[0]["eventTime"] > creates[1]["eventTime"]
    assert any(r["eventName"] == "DeleteAccessKey" and r["requestParameters"]["accessKeyId"] == key_l for r in used_n)
    assert used_l[-1]["eventTime"] < used_n[0]["eventTime"]

    # Facts agree with what the records say.
    assert facts.leaked_key.access_key_id == key_l and facts.leaked_key.user_name == sysdev
    assert facts.dormant_key.access_key_id == key_m
    assert facts.active_key.access_key_id == key_n
    assert facts.attacker_ip == used_l[0]["sourceIPAddress"]
    assert facts.account_id == "111122223333"
    assert {r["recipientAccountId"] for r in records} == {facts.account_id}


def test_workshop_background_is_unrelated() -> None:
    inc = workshop_incident()
    facts = inc.facts
    attack_keys = {facts.leaked_key.access_key_id, facts.dormant_key.access_key_id, facts.active_key.access_key_id}
    attack_users = {"tdir-workshop-sysdev", "tdir-workshop-mmajor-dev", "tdir-workshop-nwolf-dev"}
    attack = [r for r in inc.records if r["userIdentity"].get("accessKeyId") in attack_keys]
    background = [r for r in inc.records if r not in attack]
    assert len(background) >= 200
    for r in background:
        text = json.dumps(r)
        assert facts.attacker_ip not in text
        assert not any(k in text for k in attack_keys)
        assert not any(u in text for u in attack_users)
    kinds = Counter(r["userIdentity"]["type"] for r in background)
    assert kinds["IAMUser"] and kinds["AssumedRole"] and kinds["AWSService"]
    assert sum("errorCode" in r for r in background) >= 3
    assert len({r["userIdentity"].get("userName") for r in background if r["userIdentity"]["type"] == "IAMUser"}) >= 5
    services = [r for r in background if r["userIdentity"]["type"] == "AWSService"]
    assert all(r["userIdentity"]["invokedBy"] == r["sourceIPAddress"] for r in services)


# --------------------------------------------------------------------------- session token


def test_session_token_story() -> None:
    inc = session_token_incident()
    records = inc.records
    gst = [r for r in records if r["eventName"] == "GetSessionToken"]
    assert len(gst) == 1
    akia = gst[0]["userIdentity"]["accessKeyId"]
    user = gst[0]["userIdentity"]["userName"]
    assert user == "build-bot" and akia.startswith("AKIA")
    assert gst[0]["requestParameters"] == {"durationSeconds": 129600}
    creds = gst[0]["responseElements"]["credentials"]
    asia = creds["accessKeyId"]
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M", creds["expiration"])
    issued = datetime.strptime(gst[0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    expires = datetime.strptime(creds["expiration"], "%b %d, %Y, %I:%M:%S %p").replace(tzinfo=UTC)
    assert (expires - issued).total_seconds() == 129600

    deletes = [r for r in records if r["eventName"] == "DeleteAccessKey" and r["requestParameters"]["accessKeyId"] == akia]
    assert len(deletes) == 1
    deleted_at = deletes[0]["eventTime"]
    assert deletes[0]["userIdentity"]["userName"] != user
    deactivate = [
        r for r in records if r["eventName"] == "UpdateAccessKey" and r["requestParameters"] == {"userName": user, "accessKeyId": akia, "status": "Inactive"}
    ]
    assert len(deactivate) == 1 and deactivate[0]["eventTime"] < deleted_at
    assert all(r["eventTime"] < deleted_at for r in by_key(records, akia))

    after = [r for r in by_key(records, asia) if r["eventTime"] > deleted_at]
    names = {r["eventName"] for r in after}
    assert {"ListBuckets", "GetObject"} <= names
    for r in by_key(records, asia):
        ident = r["userIdentity"]
        assert ident["type"] == "IAMUser" and ident["userName"] == user
        assert ident["sessionContext"]["attributes"] == {"creationDate": gst[0]["eventTime"], "mfaAuthenticated": "false"}
        # AWS: without MFA, GetSessionToken credentials cannot call IAM.
        assert r["eventSource"] != "iam.amazonaws.com"
    get_object = next(r for r in after if r["eventName"] == "GetObject")
    assert get_object["eventCategory"] == "Data" and get_object["managementEvent"] is False

    # The new user: created (through the role the session assumed), given a password, signs in.
    create = next(r for r in records if r["eventName"] == "CreateUser")
    assert create["requestParameters"]["userName"] == "support-audit"
    role_key = create["userIdentity"]["accessKeyId"]
    origin = [r for r in records if (r.get("responseElements") or {}).get("credentials", {}).get("accessKeyId") == role_key]
    assert len(origin) == 1 and origin[0]["userIdentity"]["accessKeyId"] == asia
    assert origin[0]["eventTime"] > deleted_at
    profile = next(r for r in records if r["eventName"] == "CreateLoginProfile")
    assert profile["requestParameters"]["userName"] == "support-audit"
    login = next(r for r in records if r["eventName"] == "ConsoleLogin" and r["userIdentity"].get("userName") == "support-audit")
    assert login["eventType"] == "AwsConsoleSignIn"
    assert login["responseElements"] == {"ConsoleLogin": "Success"}
    assert login["additionalEventData"]["MFAUsed"] == "No"
    assert login["eventTime"] > profile["eventTime"]
    console = [r for r in records if r.get("sessionCredentialFromConsole") == "true" and r["userIdentity"].get("userName") == "support-audit"]
    assert len(console) == 1
    assert console[0]["userIdentity"]["accessKeyId"].startswith("ASIA")
    assert console[0]["eventTime"] > login["eventTime"]
    assert inc.facts.session_key_id == asia and inc.facts.leaked_key.access_key_id == akia


# --------------------------------------------------------------------------- cross-account


def test_cross_account_story() -> None:
    inc = cross_account_incident()
    records = inc.records
    a, b = "111111111111", "222222222222"
    entry_arn = f"arn:aws:iam::{b}:role/OrganizationAccountAccessRole"
    entry = [r for r in records if r["eventName"] == "AssumeRole" and (r["requestParameters"] or {}).get("roleArn") == entry_arn]
    assert len(entry) == 2
    by_recipient = {r["recipientAccountId"]: r for r in entry}
    assert set(by_recipient) == {a, b}
    in_a, in_b = by_recipient[a], by_recipient[b]
    assert in_a["sharedEventID"] == in_b["sharedEventID"]
    assert in_a["eventID"] != in_b["eventID"]
    assert in_a["requestID"] == in_b["requestID"]
    assert in_a["userIdentity"]["type"] == "IAMUser" and in_a["userIdentity"]["userName"] == "deployer"
    assert in_a["userIdentity"]["accountId"] == a
    assert in_b["userIdentity"] == {"type": "AWSAccount", "principalId": in_a["userIdentity"]["principalId"], "accountId": a}
    asia1 = in_a["responseElements"]["credentials"]["accessKeyId"]
    assert in_b["responseElements"] == in_a["responseElements"]
    assert in_a["responseElements"]["assumedRoleUser"]["arn"].startswith(f"arn:aws:sts::{b}:assumed-role/OrganizationAccountAccessRole/")

    s1 = by_key(records, asia1)
    assert s1 and all(r["recipientAccountId"] == b and r["userIdentity"]["type"] == "AssumedRole" for r in s1)
    chain = [r for r in s1 if r["eventName"] == "AssumeRole"]
    assert len(chain) == 1
    assert chain[0]["requestParameters"]["roleArn"] == f"arn:aws:iam::{b}:role/data-admin"
    asia2 = chain[0]["responseElements"]["credentials"]["accessKeyId"]
    s2 = by_key(records, asia2)
    names = [r["eventName"] for r in s2]
    assert {"ListBuckets", "GetObject", "StopLogging", "AttachRolePolicy"} <= set(names)
    attach = next(r for r in s2 if r["eventName"] == "AttachRolePolicy")
    assert attach["requestParameters"]["policyArn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert all(r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"].endswith("role/data-admin") for r in s2)
    stop = next(r for r in s2 if r["eventName"] == "StopLogging")
    assert max(r["eventTime"] for r in records if r["recipientAccountId"] == b) == stop["eventTime"]
    assert {r["recipientAccountId"] for r in records} == {a, b}
    f = inc.facts
    assert (f.entry_key_id, f.chained_key_id, f.shared_event_id) == (asia1, asia2, in_a["sharedEventID"])


# --------------------------------------------------------------------------- synthetic


def test_synthetic_count_and_chains() -> None:
    n = 40_000
    records = list(synthetic_records(n, seed=3, attack_every=4_000))
    assert len(records) == n
    assert len({r["eventID"] for r in records}) == n
    times = [r["eventTime"] for r in records]
    assert times == sorted(times)

    position: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        key = r["userIdentity"].get("accessKeyId")
        if key:
            position[key].append(i)
    from_attacker = [i for i, r in enumerate(records) if r["sourceIPAddress"].startswith(ATTACKER_NET)]
    creates = [i for i in from_attacker if records[i]["eventName"] == "CreateAccessKey"]
    assert len(creates) == n // 4_000
    for i in creates:
        new_key = records[i]["responseElements"]["accessKey"]["accessKeyId"]
        assert position[new_key] and min(position[new_key]) > i
        tokens = [j for j in position[new_key] if records[j]["eventName"] == "GetSessionToken"]
        assert len(tokens) == 1
        asia = records[tokens[0]]["responseElements"]["credentials"]["accessKeyId"]
        assert position[asia] and min(position[asia]) > tokens[0]
    assert len(from_attacker) == 9 * len(creates)
    assert list(synthetic_records(0)) == []
    assert not any(r["sourceIPAddress"].startswith(ATTACKER_NET) for r in synthetic_records(5_000, attack_every=0))


def test_synthetic_records_are_independent_top_level() -> None:
    a, b = itertools.islice(synthetic_records(10, seed=9), 2)
    a["eventName"] = "changed"
    a["userIdentity"]["type"] = "changed"
    assert b["eventName"] != "changed" and b["userIdentity"]["type"] != "changed"


# --------------------------------------------------------------------------- writers


def read_gz_json(path: Path) -> Any:
    return json.loads(gzip.decompress(path.read_bytes()))


def test_s3_layout(tmp_path: Path) -> None:
    records = cross_account_incident().records
    paths = write_s3_layout(records, tmp_path, duplicate_every=7)
    assert paths == sorted(paths) and all(p.is_file() for p in paths)
    logs = [p for p in paths if "/CloudTrail/" in p.as_posix()]
    digests = [p for p in paths if "/CloudTrail-Digest/" in p.as_posix()]
    assert logs and digests and len(logs) + len(digests) == len(paths)

    where: dict[str, list[Path]] = defaultdict(list)
    total = 0
    for p in logs:
        rel = p.relative_to(tmp_path).as_posix()
        m = LOG_RE.match(rel)
        assert m, rel
        body = read_gz_json(p)
        assert set(body) == {"Records"} and isinstance(body["Records"], list) and body["Records"]
        stamp = datetime.strptime(m["stamp"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        for r in body["Records"]:
            total += 1
            where[r["eventID"]].append(p)
            assert r["recipientAccountId"] == m["acct"] and r["awsRegion"] == m["region"]
            t = datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            assert 0 < (stamp - t).total_seconds() <= 300
    assert total == len(records) + len(records) // 7
    assert set(where) == {r["eventID"] for r in records}
    twice = {e: ps for e, ps in where.items() if len(ps) > 1}
    assert len(twice) == len(records) // 7
    for e, ps in twice.items():
        assert len(ps) == 2 and ps[0] != ps[1], e
    # Identical record in both deliveries.
    e, ps = next(iter(twice.items()))
    copies = [r for p in ps for r in read_gz_json(p)["Records"] if r["eventID"] == e]
    assert copies[0] == copies[1]

    listed = set()
    for p in digests:
        rel = p.relative_to(tmp_path).as_posix()
        assert DIGEST_RE.match(rel), rel
        digest = read_gz_json(p)
        assert "Records" not in digest
        assert {"digestStartTime", "digestEndTime", "logFiles", "awsAccountId"} <= set(digest)
        listed |= {f["s3Object"] for f in digest["logFiles"]}
    assert listed == {p.relative_to(tmp_path).as_posix() for p in logs}


def test_s3_layout_org_and_determinism(tmp_path: Path) -> None:
    records = workshop_incident().records
    first = write_s3_layout(records, tmp_path / "a", org_id="o-exampleorgid11")
    second = write_s3_layout(records, tmp_path / "b", org_id="o-exampleorgid11")
    rel_a = [p.relative_to(tmp_path / "a") for p in first]
    assert rel_a == [p.relative_to(tmp_path / "b") for p in second]
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(first, second, strict=True))
    for rel in rel_a:
        assert rel.as_posix().startswith("AWSLogs/o-exampleorgid11/111122223333/")
        assert LOG_RE.match(rel.as_posix()) or DIGEST_RE.match(rel.as_posix())


def test_s3_layout_splits_big_windows(tmp_path: Path) -> None:
    records = list(synthetic_records(3_000, span=timedelta(minutes=10), accounts=1))
    paths = write_s3_layout(records, tmp_path, max_records_per_file=400, max_buffered=1_000)
    counts = [len(read_gz_json(p)["Records"]) for p in paths if "/CloudTrail/" in p.as_posix()]
    assert sum(counts) == 3_000 and max(counts) <= 400


def test_other_writers(tmp_path: Path) -> None:
    records = session_token_incident().records
    assert write_jsonl(records, tmp_path / "r.jsonl") == len(records)
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in lines] == records

    n = write_lookup_events(records, tmp_path / "lookup.json")
    events = json.loads((tmp_path / "lookup.json").read_text())["Events"]
    management = [r for r in records if r["managementEvent"]]
    assert n == len(events) == len(management)
    assert [e["EventTime"] for e in events] == sorted((e["EventTime"] for e in events), reverse=True)
    for e in events:
        inner = json.loads(e["CloudTrailEvent"])
        assert e["EventId"] == inner["eventID"] and e["EventName"] == inner["eventName"]
        assert e["EventTime"] == inner["eventTime"].replace("Z", "+00:00")
        assert e["ReadOnly"] in ("true", "false")
        assert e.get("AccessKeyId") == inner["userIdentity"].get("accessKeyId")
        assert isinstance(e["Resources"], list)
    gst = next(e for e in events if e["EventName"] == "GetSessionToken")
    assert gst["Username"] == "build-bot"

    assert write_eventbridge(records, tmp_path / "eb.jsonl") == len(records)
    wrapped = [json.loads(x) for x in (tmp_path / "eb.jsonl").read_text().splitlines()]
    assert [w["detail"] for w in wrapped] == records
    for w in wrapped:
        assert w["version"] == "0" and UUID4_RE.match(w["id"])
        assert w["source"] == "aws." + w["detail"]["eventSource"].split(".")[0]
        assert w["account"] == w["detail"]["recipientAccountId"]
        assert w["time"] == w["detail"]["eventTime"] and w["region"] == w["detail"]["awsRegion"]
    login = next(w for w in wrapped if w["detail"]["eventName"] == "ConsoleLogin")
    assert login["detail-type"] == "AWS Console Sign In via CloudTrail"
    assert len({w["id"] for w in wrapped}) == len(wrapped)
