"""Every answer of the AWS CIRT workshop (../shared/seed/), on both stores, from a sample incident
written the way CloudTrail delivers it (gzipped S3 log files, one record delivered twice, digests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keytrail.graph.backends import Backend
from keytrail.graph.queries import get_query
from keytrail.graph.runner import run_query, store_stats
from keytrail.ingest import Ingest, LoadSummary
from keytrail.loaders.files import FileSource
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_s3_layout

INCIDENT = workshop_incident()
FACTS = INCIDENT.facts
LEAKED = FACTS.leaked_key.access_key_id
DORMANT = FACTS.dormant_key.access_key_id
ACTIVE = FACTS.active_key.access_key_id


@pytest.fixture(scope="module")
def loaded(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("workshop")
    written = write_s3_layout(INCIDENT.records, root, duplicate_every=40)
    summary = Ingest(backend, "workshop", rejects_path=root / "rejects.jsonl").run(FileSource([root]), [str(root)])
    return {"backend": backend, "summary": summary, "files": written, "root": root}


def q(loaded: dict[str, Any], name: str, **params: str | None) -> list[dict[str, Any]]:
    """A named query over the whole store, unless ``incident`` is given."""
    query = get_query(name)
    if any(p.name == "incident" for p in query.params):
        params.setdefault("incident", None)
    return run_query(loaded["backend"], name, params)


def test_load_accounts_for_every_record(loaded: dict[str, Any]) -> None:
    summary: LoadSummary = loaded["summary"]
    digests = [p for p in loaded["files"] if "CloudTrail-Digest" in str(p)]
    assert digests and summary.skipped_origins == len(digests)
    assert summary.loaded == len(INCIDENT.records)
    assert summary.duplicates == len(INCIDENT.records) // 40
    assert summary.balanced and summary.ok


def test_q1_when_the_key_was_first_used_and_for_what(loaded: dict[str, Any]) -> None:
    [first] = q(loaded, "key-first-use", key=LEAKED)
    assert (first["eventTime"], first["eventName"]) == ("2026-01-07T02:25:18Z", "GetCallerIdentity")


def test_q2_whose_key_it_is(loaded: dict[str, Any]) -> None:
    [identity] = q(loaded, "key-identity", key=LEAKED)
    assert (identity["type"], identity["userName"], identity["accountId"]) == ("IAMUser", "tdir-workshop-sysdev", FACTS.account_id)
    assert identity["arn"].endswith(":user/tdir-workshop-sysdev")


def test_q3_what_the_key_did(loaded: dict[str, Any]) -> None:
    activity = q(loaded, "key-activity", key=LEAKED)
    names = [r["eventName"] for r in activity]
    assert names[0] == "GetCallerIdentity" and names.count("CreateAccessKey") == 2
    assert [r["eventTime"] for r in activity] == sorted(r["eventTime"] for r in activity)
    assert any(r["errorCode"] for r in activity), "the failed discovery call is kept as an attempt"


def test_q4_the_keys_it_created_and_for_whom(loaded: dict[str, Any]) -> None:
    created = q(loaded, "keys-created-by", user="tdir-workshop-sysdev")
    assert {(r["accessKeyId"], r["owner"]) for r in created} == {
        (DORMANT, "tdir-workshop-mmajor-dev"),
        (ACTIVE, "tdir-workshop-nwolf-dev"),
    }


def test_q5_one_created_key_was_never_used(loaded: dict[str, Any]) -> None:
    assert q(loaded, "key-activity", key=DORMANT) == []


def test_q6_the_other_made_five_calls_ending_in_delete_user(loaded: dict[str, Any]) -> None:
    activity = q(loaded, "key-activity", key=ACTIVE)
    assert len(activity) == 5
    assert activity[-1]["eventName"] == "DeleteUser"


def test_q7_who_deleted_the_leaked_keys_user_and_with_which_key(loaded: dict[str, Any]) -> None:
    [deleted] = q(loaded, "user-deleted", user="tdir-workshop-sysdev")
    assert (deleted["actor"], deleted["credential"]) == ("tdir-workshop-nwolf-dev", ACTIVE)
    [last] = q(loaded, "key-activity", key=ACTIVE)[-1:]
    assert deleted["eventID"] == last["eventID"]


def test_background_users_created_no_keys(loaded: dict[str, Any]) -> None:
    stats = store_stats(loaded["backend"])
    assert stats["events"] == len(INCIDENT.records)
    assert q(loaded, "keys-created-by", user="tdir-workshop-nwolf-dev") == []


def test_loading_again_under_another_incident_adds_no_events(loaded: dict[str, Any], tmp_path: Path) -> None:
    backend: Backend = loaded["backend"]
    before = store_stats(backend)
    again = Ingest(backend, "workshop-copy", rejects_path=tmp_path / "r.jsonl").run(FileSource([loaded["root"]]), [])
    assert again.loaded == 0 and again.duplicates == again.read
    after = store_stats(backend)
    assert (after["events"], after["nodes"], after["relationships"]) == (before["events"], before["nodes"], before["relationships"])
    incidents = {row["incident"]: row["events"] for row in after["incidents"]}
    assert incidents["workshop"] == incidents["workshop-copy"] == len(INCIDENT.records)


def test_key_status_is_decided_from_the_whole_store_and_stored_on_the_key(loaded: dict[str, Any]) -> None:
    # CloudTrail files are not time-ordered; the status is decided from every change in the store.
    status = loaded["backend"].read(
        "MATCH (k:AccessKey) WHERE k.accessKeyId IN $keys RETURN k.accessKeyId AS key, k.status AS status, k.statusEventID AS event ORDER BY key",
        {"keys": [LEAKED, DORMANT, ACTIVE]},
    )
    [deletion] = [r["eventID"] for r in INCIDENT.records if r["eventName"] == "DeleteAccessKey" and (r["requestParameters"] or {}).get("accessKeyId") == LEAKED]
    assert {r["key"]: (r["status"], r["event"]) for r in status} == {LEAKED: ("deleted", deletion), DORMANT: ("active", None), ACTIVE: ("active", None)}


def test_q4_and_q7_accept_the_users_arn_as_well_as_its_name(loaded: dict[str, Any]) -> None:
    # The leaked key's user, as its own calls name it.
    [arn] = {r["userIdentity"]["arn"] for r in INCIDENT.records if r["userIdentity"].get("accessKeyId") == LEAKED}
    assert q(loaded, "keys-created-by", user=arn) == q(loaded, "keys-created-by", user=FACTS.leaked_key.user_name) != []
    assert q(loaded, "user-deleted", user=arn) == q(loaded, "user-deleted", user=FACTS.deleted_user) != []
    # The same name in another account is another user.
    elsewhere = arn.replace(f":{FACTS.account_id}:", ":999999999999:")
    assert elsewhere != arn
    assert q(loaded, "keys-created-by", user=elsewhere) == [] and q(loaded, "user-deleted", user=elsewhere) == []
