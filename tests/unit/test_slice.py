"""bench/slice.py at a tiny scale: keytrail's Athena predicate, run by DuckDB over generated trail files, keeps
exactly the records a plain reading of the files says the keys and principals made; and the two passes load
the leaked key's slice, then the slice of the keys it created and their users."""

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

REPO = Path(__file__).resolve().parents[2]


def _load_bench_module() -> ModuleType:
    path = REPO / "bench" / "slice.py"
    spec = importlib.util.spec_from_file_location("bench_slice", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load_bench_module()
EVENTS = 3_000


def read_records(paths: list[Path]) -> list[dict[str, Any]]:
    """Every record of the log files, read with nothing but gzip and json."""
    return [r for path in paths for r in json.loads(gzip.decompress(path.read_bytes()))["Records"]]


def made_by(record: dict[str, Any], keys: set[str], principals: set[str]) -> bool:
    identity = record.get("userIdentity") or {}
    issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
    return identity.get("accessKeyId") in keys or identity.get("arn") in principals or issuer in principals


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("slice")
    generated = bench.sq.generate(root / "bucket", EVENTS, seed=5, duplicate_every=0)
    records = read_records(list(generated.log_files))
    return {"root": root, "generated": generated, "records": records, "con": bench.connect(2)}


def _slice(day: dict[str, Any], keys: list[str], principals: list[str], name: str) -> Counter[str]:
    out = day["root"] / f"{name}.jsonl"
    _seconds, count = bench.cut(day["con"], day["generated"].glob, bench.slice_query(keys, principals), out)
    found = Counter(json.loads(line)["eventID"] for line in out.read_text().splitlines())
    assert sum(found.values()) == count
    return found


def test_the_predicate_keeps_what_the_keys_and_principals_made(day: dict[str, Any]) -> None:
    facts = day["generated"].facts
    records = day["records"]
    # A role whose sessions are in the background: its sessions come with it, by their issuer.
    issuers = Counter(((r.get("userIdentity") or {}).get("sessionContext") or {}).get("sessionIssuer", {}).get("arn") for r in records)
    role = next(arn for arn, _ in issuers.most_common() if arn)
    user = f"arn:aws:iam::{facts.account_id}:user/{facts.active_key.user_name}"
    cases = {
        "key": ([facts.leaked_key.access_key_id], []),
        "role": ([], [role]),
        "key-or-principals": ([facts.leaked_key.access_key_id, facts.dormant_key.access_key_id], [user, role]),
    }
    for name, (keys, principals) in cases.items():
        expected = Counter(r["eventID"] for r in records if made_by(r, set(keys), set(principals)))
        assert expected, name
        assert _slice(day, keys, principals, name) == expected, name


def test_the_duckdb_where_is_the_athena_querys_own(day: dict[str, Any]) -> None:
    query = bench.slice_query(["AKIAIOSFODNN7EXAMPLE"], ["arn:aws:iam::111122223333:role/deploy"])
    where, params = bench.duckdb_where(query)
    assert query.sql.endswith("\nWHERE " + where) and "AKIA" not in where
    assert params == [p[1:-1] for p in query.parameters] and "2026/01/07" in params


def test_two_passes_load_the_key_then_what_it_reached(tmp_path: Path) -> None:
    found = bench.run(EVENTS, tmp_path, seed=5)
    facts = bench.sq.workshop_incident().facts
    first, second = found["passes"]
    keys = {facts.leaked_key.access_key_id, facts.dormant_key.access_key_id, facts.active_key.access_key_id}
    users = {f"arn:aws:iam::{facts.account_id}:user/{k.user_name}" for k in facts.created_keys}
    assert set(second.keys) == keys and set(second.principals) == users
    records = [
        r
        for path in sorted((tmp_path / "bucket").rglob("*.json.gz"))
        if "Digest" not in str(path)
        for r in json.loads(gzip.decompress(path.read_bytes()))["Records"]
    ]
    by_key = {r["eventID"] for r in records if made_by(r, {facts.leaked_key.access_key_id}, set())}
    reached = {r["eventID"] for r in records if made_by(r, keys, users)}
    assert (first.records, first.loaded) == (len(by_key), len(by_key))
    assert (second.records, second.loaded, second.duplicates) == (len(reached), len(reached - by_key), len(by_key))
    assert found["day_records"] == len(records) > second.records
    assert facts.active_key.access_key_id in json.dumps(found["report"])
