"""bench/vs_sql.py's SQL side: the workshop's questions in DuckDB, asked of generated S3 log files, give the
answers the data was generated with, with and without de-duplicating on eventID."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb  # noqa: F401  (in the test extras: a test that cannot run must fail, not skip)
import pytest

from keytrail.sample import workshop_incident

REPO = Path(__file__).resolve().parents[2]


def _load_bench_module() -> ModuleType:
    path = REPO / "bench" / "sql_questions.py"
    spec = importlib.util.spec_from_file_location("bench_sql_questions", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


sq = _load_bench_module()

EVENTS = 3_000
EVERY = 37
INCIDENT = workshop_incident()
FACTS = INCIDENT.facts
LEAKED, DORMANT, ACTIVE = FACTS.leaked_key, FACTS.dormant_key, FACTS.active_key


def _by_key(key: str) -> list[dict[str, Any]]:
    """The generator's own records made with ``key``, in (eventTime, eventID) order."""
    found = [r for r in INCIDENT.records if (r.get("userIdentity") or {}).get("accessKeyId") == key]
    return sorted(found, key=lambda r: (r["eventTime"], r["eventID"]))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    generated = sq.generate(tmp_path_factory.mktemp("bucket"), EVENTS, seed=3, duplicate_every=EVERY)
    con = sq.connect(2)
    files = {a.question.name: a for a in sq.ask_files(con, generated.glob, generated.facts)}
    _seconds, rows = sq.load_table(con, generated.glob)
    table = {a.question.name: a for a in sq.ask_table(con, generated.facts)}
    return {"generated": generated, "con": con, "files": files, "table": table, "table_rows": rows}


def _delivered(generated: Any) -> list[dict[str, Any]]:
    """Every record in the log files, read with nothing but gzip and json."""
    records: list[dict[str, Any]] = []
    for path in generated.log_files:
        records.extend(json.loads(gzip.decompress(path.read_bytes()))["Records"])
    return records


def test_the_files_hold_n_events_and_exactly_the_duplicates_recorded(run: dict[str, Any]) -> None:
    generated = run["generated"]
    counts = Counter(r["eventID"] for r in _delivered(generated))
    assert len(counts) == EVENTS == run["table_rows"]
    assert {e for e, n in counts.items() if n == 2} == generated.duplicated
    assert set(counts.values()) == {1, 2}
    assert sum(counts.values()) == generated.records_written == EVENTS + len(generated.duplicated)
    assert len(generated.duplicated) == EVENTS // EVERY
    # The workshop is inside, once per eventID, and the attacker's chosen calls are among the re-delivered.
    assert {r["eventID"] for r in INCIDENT.records} <= set(counts)
    assert generated.chosen <= generated.duplicated and len(generated.chosen) == 3
    # The log files are per 5-minute window, as CloudTrail's; digests are not read.
    assert generated.digest_files > 0 and all("CloudTrail-Digest" not in str(p) for p in generated.log_files)


def test_no_key_or_user_is_written_into_sql_text() -> None:
    values = {LEAKED.access_key_id, DORMANT.access_key_id, ACTIVE.access_key_id, LEAKED.user_name, FACTS.deleted_user, ACTIVE.user_name}
    for question in sq.QUESTIONS:
        for source in (sq.FILES_SOURCE, sq.TABLE_SOURCE):
            text = question.text(source)
            assert not any(v in text for v in values), question.name
            assert set(question.params(FACTS)) <= {"key", "user"}


def test_q1_first_use_is_the_generated_first_call(run: dict[str, Any]) -> None:
    expected = ((FACTS.first_use_time, "GetCallerIdentity"),)
    assert run["table"]["first-use"].answer == run["files"]["first-use"].answer == expected


def test_q2_and_q4_the_leaked_keys_calls(run: dict[str, Any]) -> None:
    mine = _by_key(LEAKED.access_key_id)
    again = [r for r in mine if r["eventID"] in run["generated"].duplicated]
    assert again, "the first use and a CreateAccessKey were delivered twice"
    ordered = tuple((r["eventTime"], r["eventName"]) for r in mine)
    assert run["table"]["first-calls"].answer == ordered
    assert ordered[0] == (FACTS.first_use_time, "GetCallerIdentity")
    names = tuple(sorted(r["eventName"] for r in mine))
    assert run["table"]["what-it-did"].answer == tuple((n,) for n in names)
    assert names.count("CreateAccessKey") == 2
    # As delivered: each re-delivered call twice, nothing else added.
    for name in ("first-calls", "what-it-did"):
        assert run["files"][name].rows == run["table"][name].rows + len(again) > run["table"][name].rows
    delivered = Counter(run["files"]["first-calls"].answer)
    assert delivered == Counter(ordered) + Counter((r["eventTime"], r["eventName"]) for r in again)


def test_q3_identity(run: dict[str, Any]) -> None:
    expected = (("IAMUser", LEAKED.user_name, f"arn:aws:iam::{FACTS.account_id}:user/{LEAKED.user_name}", FACTS.account_id),)
    assert run["table"]["identity"].answer == run["files"]["identity"].answer == expected


def test_q5_the_keys_created_and_for_whom(run: dict[str, Any]) -> None:
    expected = tuple(sorted((k.user_name, k.access_key_id) for k in FACTS.created_keys))
    assert run["table"]["keys-created"].answer == expected
    created = [r for r in INCIDENT.records if r["eventName"] == "CreateAccessKey" and r["userIdentity"].get("userName") == LEAKED.user_name]
    again = [r for r in created if r["eventID"] in run["generated"].duplicated]
    assert len(created) == 2 and len(again) >= 1
    assert run["files"]["keys-created"].rows == 2 + len(again)


def test_q6_the_dormant_key_did_nothing(run: dict[str, Any]) -> None:
    assert _by_key(DORMANT.access_key_id) == []
    assert run["table"]["dormant-key"].answer == run["files"]["dormant-key"].answer == ()


def test_q7_and_q8_the_active_key_did_five_things_ending_in_delete_user(run: dict[str, Any]) -> None:
    mine = _by_key(ACTIVE.access_key_id)
    assert len(mine) == 5 and mine[-1]["eventName"] == "DeleteUser"
    again = [r for r in mine if r["eventID"] in run["generated"].duplicated]
    assert run["table"]["active-key"].answer == tuple(sorted((r["eventName"],) for r in mine))
    assert run["files"]["active-key"].rows == 5 + len(again) > 5
    assert run["table"]["delete-user"].answer == ((FACTS.deleted_user, ACTIVE.user_name, ACTIVE.access_key_id),)
    # The DeleteUser was delivered twice: the question as asked returns it twice.
    assert run["files"]["delete-user"].rows == 2
    assert run["files"]["delete-user"].answer == ((FACTS.deleted_user, ACTIVE.user_name, ACTIVE.access_key_id),) * 2


def test_as_delivered_counts_exceed_deduplicated_by_the_duplicates_only(run: dict[str, Any]) -> None:
    generated = run["generated"]
    delivered = _delivered(generated)
    for question in sq.QUESTIONS:
        evidence = sq.evidence(run["con"], question, generated.facts)
        ids = [e for e, _, _ in evidence]
        assert len(ids) == len(set(ids))
        extra = sum(1 for e in ids if e in generated.duplicated)
        files, table = run["files"][question.name], run["table"][question.name]
        if question.name in ("first-use", "identity"):  # LIMIT 1, DISTINCT
            assert files.rows == table.rows
        else:
            assert table.rows == len(ids)
            assert files.rows - table.rows == extra
        # And the evidence is what a plain scan of the files finds.
        params = question.params(generated.facts)
        if "key" in params:
            scanned = {r["eventID"] for r in delivered if (r.get("userIdentity") or {}).get("accessKeyId") == params["key"]}
            if question.name == "delete-user":
                scanned = {e for e in scanned if next(r for r in delivered if r["eventID"] == e)["eventName"] == "DeleteUser"}
            assert set(ids) == scanned


def _keytrail_rows(question: Any) -> list[dict[str, Any]]:
    """The rows keytrail's named query returns when it is right, built from the generator's records."""
    if question.query in ("key-activity", "key-first-use"):
        rows = [{"eventTime": r["eventTime"], "eventName": r["eventName"], "eventID": r["eventID"]} for r in _by_key(question.query_params(FACTS)["key"])]
        return rows[:1] if question.query == "key-first-use" else rows
    if question.query == "key-identity":
        arn = f"arn:aws:iam::{FACTS.account_id}:user/{LEAKED.user_name}"
        return [{"type": "IAMUser", "userName": LEAKED.user_name, "arn": arn, "accountId": FACTS.account_id}]
    if question.query == "keys-created-by":
        return [{"accessKeyId": k.access_key_id, "owner": k.user_name} for k in FACTS.created_keys]
    assert question.query == "user-deleted"
    [delete] = [r for r in _by_key(ACTIVE.access_key_id) if r["eventName"] == "DeleteUser"]
    return [{"eventID": delete["eventID"], "actor": ACTIVE.user_name, "credential": ACTIVE.access_key_id}]


def test_a_right_keytrail_answer_agrees_and_a_wrong_one_does_not(run: dict[str, Any]) -> None:
    for question in sq.QUESTIONS:
        rows = _keytrail_rows(question)
        right = sq.compare(question, rows, run["table"][question.name], run["files"][question.name], FACTS)
        assert right.agrees, question.name
        wrong = rows[:-1] if rows else [{"eventTime": "2026-01-07T00:00:00Z", "eventName": "ListUsers", "eventID": "x"}]
        assert not sq.compare(question, wrong, run["table"][question.name], run["files"][question.name], FACTS).agrees, question.name


def test_without_redelivery_both_counts_are_equal(tmp_path: Path) -> None:
    generated = sq.generate(tmp_path, 1_000, seed=5, duplicate_every=0)
    assert generated.duplicated == frozenset() and generated.records_written == 1_000
    con = sq.connect(2)
    files = sq.ask_files(con, [str(p) for p in generated.log_files], generated.facts)  # a list of files as a parameter
    sq.load_table(con, generated.glob)
    assert [(a.rows, a.answer) for a in files] == [(a.rows, a.answer) for a in sq.ask_table(con, generated.facts)]
