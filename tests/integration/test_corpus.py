"""The real attack logs in ../shared/corpus, on both stores: the facts SOURCES.md says a correct analysis finds."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from keytrail.graph.backends import Backend
from keytrail.graph.queries import get_query
from keytrail.graph.runner import run_query, store_stats
from keytrail.ingest import Ingest, LoadSummary
from keytrail.loaders.files import FileSource
from keytrail.loaders.records import SourceRecord
from keytrail.report.blast_radius import build_blast_radius
from keytrail.report.findings import build_findings_report
from keytrail.report.render import blast_radius_header

pytestmark = pytest.mark.corpus

SANS_LEAKED = "AKIAU7JNXC7K7XNL3F6J"
SANS_SECOND = "AKIAU7JNXC7KZLY6XYHJ"
INVICTUS_KEY = "AKIATFQR7NSC8Q4X20BJ"


def load(backend: Backend, path: Path, incident: str, rejects: Path) -> LoadSummary:
    return Ingest(backend, incident, rejects_path=rejects).run(FileSource([path]), [str(path)])


@pytest.fixture(scope="module")
def loaded(backend: Backend, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rejects = tmp_path_factory.mktemp("rejects") / "rejects.jsonl"
    summaries = {
        name: load(backend, corpus / name, name, rejects)
        for name in ("sans504-s3-ransomware-lab", "invictus-aws-dataset", "traildiscover", "otrf-security-datasets", "flaws2", "stratus-red-team")
    }
    return {"backend": backend, "summaries": summaries, "stats": store_stats(backend), "corpus": corpus, "rejects": rejects}


def q(loaded: dict[str, Any], name: str, **params: str | None) -> list[dict[str, Any]]:
    """A named query over the whole store, unless ``incident`` is given."""
    query = get_query(name)
    if any(p.name == "incident" for p in query.params):
        params.setdefault("incident", None)
    return run_query(loaded["backend"], name, params)


def test_every_record_is_accounted_for(loaded: dict[str, Any]) -> None:
    summaries: dict[str, LoadSummary] = loaded["summaries"]
    expected_read = {
        "sans504-s3-ransomware-lab": 30_477,
        "invictus-aws-dataset": 2_900,
        "traildiscover": 563,
        "otrf-security-datasets": 103,
        "flaws2": 37,
        "stratus-red-team": 310,
    }
    for name, summary in summaries.items():
        assert summary.read == expected_read[name], name
        assert summary.balanced and summary.ok, (name, summary.problems)


def test_sans_duplicate_deliveries_collapse(loaded: dict[str, Any]) -> None:
    sans: LoadSummary = loaded["summaries"]["sans504-s3-ransomware-lab"]
    assert (sans.loaded, sans.duplicates) == (30_477 - 6_496, 6_496)
    trail: LoadSummary = loaded["summaries"]["traildiscover"]
    assert (trail.loaded, trail.duplicates) == (563 - 249, 249)
    incidents = {row["incident"]: row["events"] for row in loaded["stats"]["incidents"]}
    assert incidents["sans504-s3-ransomware-lab"] == 23_981
    assert loaded["stats"]["events"] == sum(s.loaded for s in loaded["summaries"].values())


def test_sans_leaked_key_story(loaded: dict[str, Any]) -> None:
    [identity] = q(loaded, "key-identity", key=SANS_LEAKED)
    assert (identity["type"], identity["userName"], identity["accountId"]) == ("IAMUser", "jmerckle", "342082656213")
    [first] = q(loaded, "key-first-use", key=SANS_LEAKED)
    assert first["eventName"] == "GetCallerIdentity" and first["sourceIPAddress"] == "3.238.12.183"
    activity = q(loaded, "key-activity", key=SANS_LEAKED)
    escalation = [r for r in activity if r["eventName"] == "PutUserPolicy"]
    assert [r["eventTime"] for r in escalation] == ["2021-07-29T13:06:49Z"] and escalation[0]["errorCode"] is None
    before = [r for r in activity if r["eventTime"] < "2021-07-29T13:06:49Z"]
    after = [r for r in activity if r["eventTime"] > "2021-07-29T13:06:49Z"]
    assert any(r["eventName"] == "ListBuckets" and r["errorCode"] == "AccessDenied" for r in before)
    assert any(r["eventName"] == "ListBuckets" and r["errorCode"] is None for r in after)
    assert [r["eventTime"] for r in activity] == sorted(r["eventTime"] for r in activity)


def test_sans_second_key_and_its_single_use(loaded: dict[str, Any]) -> None:
    created = q(loaded, "keys-created-by", user="jmerckle")
    assert [(r["accessKeyId"], r["owner"], r["eventTime"]) for r in created] == [(SANS_SECOND, "jmerckle", "2021-07-29T13:10:42Z")]
    used = q(loaded, "key-activity", key=SANS_SECOND)
    assert [(r["eventTime"], r["eventName"]) for r in used] == [("2021-07-29T13:11:40Z", "GetCallerIdentity")]


def test_invictus_keys_and_deleted_users(loaded: dict[str, Any]) -> None:
    [identity] = q(loaded, "key-identity", key=INVICTUS_KEY)
    assert identity["userName"] == "bert-jan"
    created = {(r["accessKeyId"], r["owner"]) for r in q(loaded, "keys-created-by", user="bert-jan")}
    assert created == {("AKIATFQR7NSC3ZO6PKAZ", "stratus-red-team-backdoor-u-user"), ("AKIATFQR7NSCQLA2F4OD", "malicious-iam-user")}
    for key, _ in created:
        assert q(loaded, "key-activity", key=key) == []
    [deleted] = q(loaded, "user-deleted", user="malicious-iam-user")
    assert (deleted["actor"], deleted["credential"], deleted["eventTime"]) == ("bert-jan", INVICTUS_KEY, "2023-07-10T12:28:24Z")
    assert q(loaded, "keys-created-by", user="benjamin") == []


def test_otrf_records_without_event_time_use_the_pipeline_timestamp(loaded: dict[str, Any]) -> None:
    activity = q(loaded, "key-activity", key="ASIA5FLZVX4OPVKKVBMX")
    assert {r["eventName"] for r in activity} >= {"ListBuckets", "GetObject"}
    assert all(r["eventTime"].startswith("2020-09-14T") for r in activity)
    [identity] = q(loaded, "key-identity", key="ASIA5FLZVX4OPVKKVBMX")
    assert identity["type"] == "AssumedRole" and identity["userName"] == "i-0317f6c6b66ae9c40"


def test_traildiscover_failed_and_masked_calls_make_no_keys(loaded: dict[str, Any]) -> None:
    # Every TrailDiscover key id is masked (AKIA****...), so no key may be invented from them.
    assert q(loaded, "key-identity", key="AKIA****************") == []
    # The TrailDiscover user's CreateAccessKey and CreateUser were denied: nothing created.
    assert q(loaded, "keys-created-by", user="TrailDiscover") == []


def test_a_second_load_changes_no_count(loaded: dict[str, Any], tmp_path: Path) -> None:
    backend: Backend = loaded["backend"]
    before = store_stats(backend)
    again = load(backend, loaded["corpus"] / "invictus-aws-dataset", "invictus-aws-dataset", tmp_path / "r.jsonl")
    assert (again.loaded, again.duplicates) == (0, 2_900)
    after = store_stats(backend)
    for count in ("events", "nodes", "relationships", "access_keys", "principals"):
        assert after[count] == before[count], count
    assert after["loads"] == before["loads"] + 1
    assert {k: v for k, v in after["labels"].items() if k != "LoadRun"} == {k: v for k, v in before["labels"].items() if k != "LoadRun"}


def test_invictus_instance_credentials_through_the_doors_it_opened(loaded: dict[str, Any]) -> None:
    """bert-jan's key launched instances with a role; their role sessions join the blast radius, and the
    one whose calls come from the key's own address is reported as used outside the instance.
    Expected answers are read from the records themselves."""
    records = [item.record for item in FileSource([loaded["corpus"] / "invictus-aws-dataset"]) if isinstance(item, SourceRecord)]
    launched: set[str] = set()
    for r in records:
        by_key = (r.get("userIdentity") or {}).get("accessKeyId") == INVICTUS_KEY
        if by_key and r["eventName"] == "RunInstances" and not r.get("errorCode") and (r.get("requestParameters") or {}).get("iamInstanceProfile"):
            launched |= {i["instanceId"] for i in r["responseElements"]["instancesSet"]["items"]}
    attacker_ips = {r.get("sourceIPAddress") for r in records if (r.get("userIdentity") or {}).get("accessKeyId") == INVICTUS_KEY}
    sessions: dict[str, set[str]] = {}
    for r in records:
        identity = r.get("userIdentity") or {}
        if identity.get("type") == "AssumedRole" and str(identity.get("arn", "")).rsplit("/", 1)[-1] in launched:
            sessions.setdefault(identity["accessKeyId"], set()).add(r.get("sourceIPAddress"))
    outside = {key for key, ips in sessions.items() if ips & attacker_ips}
    assert launched and outside
    report = build_blast_radius(loaded["backend"], INVICTUS_KEY, "invictus-aws-dataset").to_json()
    credentials = {c["id"]: c for c in report["credentials"]}
    assert set(sessions) <= set(credentials)
    assert {c["id"] for c in report["credentials"] if str(c["born_by"]).startswith("door:")} >= set(sessions)
    assert {x["credential"] for x in report["instance_credentials_outside"]} == outside
    # Stratus cleaned up after itself: every door it opened was shut again in the evidence.
    assert report["open_doors"] == []


def test_sans_admin_policy_door_admits_no_key_that_was_in_use_before_it(loaded: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """jmerckle's leaked key wrote itself an administrator policy: a door into jmerckle. The key itself was in
    use before that, so it did not come through the door; the key created after it did."""
    with caplog.at_level(logging.WARNING, logger="neo4j"):
        typed = build_blast_radius(loaded["backend"], SANS_LEAKED, "sans504-s3-ransomware-lab")
    report = typed.to_json()
    # No store warns about the report's queries (Neo4j does for every property key that no node or edge carries).
    assert [r.getMessage()[:200] for r in caplog.records if r.name.startswith("neo4j")] == []
    [door] = [d for d in report["doors"] if d["kind"] == "admin-policy"]
    assert door["target"].endswith(":user/jmerckle") and door["status"] == "open"
    first_use = report["first_use"]["time"]
    assert first_use < door["time"]
    assert SANS_LEAKED not in door["sessions"] and SANS_SECOND in door["sessions"]
    assert f"door {door['target']}" in "\n".join(blast_radius_header(typed))


def test_flaws2_the_lambda_session_used_from_elsewhere(loaded: dict[str, Any]) -> None:
    """flaws2: the level1 function's role session, leaked through its environment, used from the attacker's address.
    AWS minted it for Lambda: nothing upstream is compromised, the function's own calls are its routine, and the
    first call from another address with another agent is the attacker's first use. Expected answers come from the records."""
    records = [item.record for item in FileSource([loaded["corpus"] / "flaws2"]) if isinstance(item, SourceRecord)]
    session = sorted(
        (r for r in records if str((r.get("userIdentity") or {}).get("arn", "")).endswith(":assumed-role/level1/level1")),
        key=lambda r: (r["eventTime"], r["eventID"]),
    )
    [key] = {r["userIdentity"]["accessKeyId"] for r in session}
    own = session[0]
    elsewhere = next(r for r in session if r["sourceIPAddress"] != own["sourceIPAddress"] and r["userAgent"] != own["userAgent"])
    report = build_blast_radius(loaded["backend"], key, "flaws2").to_json()
    [upstream] = [u for u in report["upstream"] if u["depth"] == 0]
    assert upstream["principal_type"] == "AWSService" and not upstream["likely_compromised"]
    assert not [a for a in report["containment"] if a["action"] == "investigate-upstream"]
    attacker = report["attacker_first_use"]
    assert (attacker["eventID"], attacker["sourceIPAddress"]) == (elsewhere["eventID"], elsewhere["sourceIPAddress"])
    # The function's own calls (its failed CreateLogStream) are routine, not the attacker's.
    function_calls = {r["eventID"] for r in session if r["sourceIPAddress"] == own["sourceIPAddress"]}
    assert function_calls and not function_calls & {f["eventID"] for f in report["findings"]}


def test_a_trust_policy_door_names_what_it_added_and_a_restore_opens_nothing(loaded: dict[str, Any]) -> None:
    """Invictus: the key backdoored a role's trust policy, then Stratus restored it. The backdoor is a door and names
    the principals it added; the restore admits nobody new and is no door. Expected answers come from the records."""
    from keytrail.rules import policy

    records = [item.record for item in FileSource([loaded["corpus"] / "invictus-aws-dataset"]) if isinstance(item, SourceRecord)]
    changes = sorted(
        (r for r in records if r["eventName"] in ("CreateRole", "UpdateAssumeRolePolicy") and not r.get("errorCode")),
        key=lambda r: (r["eventTime"], r["eventID"]),
    )
    expected: dict[str, list[str]] = {}
    previous: dict[str, set[str]] = {}
    for r in changes:
        params = r["requestParameters"]
        admitted = policy.admitted_principals(policy.document(params.get("policyDocument") or params.get("assumeRolePolicyDocument")))
        role = params["roleName"]
        if r["eventName"] == "UpdateAssumeRolePolicy" and r["userIdentity"].get("accessKeyId") == INVICTUS_KEY and role in previous:
            expected[r["eventID"]] = [p for p in admitted if p not in previous[role]]
        previous[role] = set(admitted)
    assert any(expected.values()) and any(added == [] for added in expected.values()), "the dataset backdoors and restores"
    report = build_blast_radius(loaded["backend"], INVICTUS_KEY, "invictus-aws-dataset").to_json()
    doors = {d["eventID"]: d for d in report["doors"] if d["kind"] == "trust-policy"}
    for event_id, added in expected.items():
        if added:
            assert doors[event_id]["detail"]["added"] == added
        else:
            assert event_id not in doors


@pytest.mark.parametrize(
    ("incident", "attacker", "kinds"),
    [
        # SOURCES.md: the leaked key is refused in four services, then puts "*:*" on its own user.
        ("sans504-s3-ransomware-lab", SANS_LEAKED, ["self-admin", "denied"]),
        # The leaked key runs Stratus Red Team, whose user agent says so.
        ("invictus-aws-dataset", INVICTUS_KEY, ["attack-tool"]),
        # The Lambda role's credentials, used by the attacker from an address the role's session had not called from.
        ("flaws2", "ASIAZQNB3KHGIGYQXVVG", ["new-address"]),
    ],
)
def test_findings_put_the_attackers_key_first(loaded: dict[str, Any], incident: str, attacker: str, kinds: list[str]) -> None:
    """Not the defenders' keys, which make more harmful-sounding calls (SANS: deleting keys, changing the trail)."""
    groups = build_findings_report(loaded["backend"], incident).groups
    assert groups[0].credential == attacker, [(g.credential, g.signals) for g in groups[:3]]
    assert [s.kind for s in groups[0].signals] == kinds
    if incident.startswith("sans"):
        assert not any(g.signals for g in groups[1:]), "the defenders' work carries no signal"
