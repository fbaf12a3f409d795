"""Bounded node keys (keytrail/graph/keys.py): what a store indexes is never too long to index, and stays distinct."""

from __future__ import annotations

import copy
import hashlib
import re

import pytest

from keytrail.graph.keys import KEPT_BYTES, KEY_BYTES, KEY_FIELDS, bounded
from keytrail.graph.queries import _load_all, schema_statements
from keytrail.graph.transform import WRITE_ORDER, event_rows
from keytrail.loaders.records import INDEXED_FIELD_BYTES, check_record
from keytrail.model.fingerprint import keep
from keytrail.sample import workshop_incident

# Node keys that come from nowhere a caller writes long text: the eventID is refused at the check when long
# (INDEXED_FIELDS), an Action's name is eventSource:eventName (both checked), a Tally's id is a digest, and a
# LoadedObject's uri is the path or S3 URI keytrail read.
NOT_FROM_LOG_TEXT = {"eventID", "action", "merge_tallies.id", "merge_loaded_objects.uri", "merge_tallies.incident"}


def _keys_of(name: str, body: str) -> set[str]:
    """The row fields a write query MERGEs or MATCHes a node on, through FOREACH variables too."""
    aliases = dict(re.findall(r"\((\w+) IN CASE WHEN row\.(\w+) IS NULL", body))
    found = set()
    for value in re.findall(r"\(\w*:\w+ \{\w+: ([\w.]+)\}\)", body):
        field = value.removeprefix("row.") if value.startswith("row.") else aliases.get(value)
        assert field is not None, (name, value)
        found.add(field)
    return found


def test_every_key_a_write_query_merges_on_is_bounded_or_cannot_be_long() -> None:
    write = {name: q for name, q in _load_all().items() if q.kind == "write" and name in WRITE_ORDER}
    assert set(KEY_FIELDS) <= set(write)
    for name, query in write.items():
        for field in _keys_of(name, query.body):
            if field in NOT_FROM_LOG_TEXT or f"{name}.{field}" in NOT_FROM_LOG_TEXT:
                continue
            assert field in KEY_FIELDS.get(name, ()), f"{name} merges a node on row.{field}, which keys.KEY_FIELDS does not bound"


def test_every_schema_index_is_covered() -> None:
    indexed = set()
    for statement in schema_statements("neo4j"):
        indexed |= set(re.findall(r"FOR \(n:(\w+)\) (?:REQUIRE|ON) \(?n\.(\w+)", statement))
    # Keys are covered by the test above; the other indexed properties are these, each bounded or checked.
    covered = {("Event", "eventTime"), ("Event", "eventName"), ("Event", "sharedEventID"), ("Principal", "name"), ("Resource", "name")}
    names = {("Principal", "name"): "name" in KEY_FIELDS["merge_principals"], ("Resource", "name"): "props.name" in KEY_FIELDS["merge_resources"]}
    assert all(names.values())
    keys = {("Event", "eventID"), ("AccessKey", "accessKeyId"), ("Principal", "id"), ("LoginProfile", "id"), ("Action", "name")}
    keys |= {("Resource", "id"), ("SourceIP", "address"), ("UserAgent", "value"), ("Account", "accountId"), ("Incident", "name")}
    keys |= {("LoadRun", "runId"), ("LoadedObject", "uri"), ("WriteLock", "name"), ("Tally", "id")}
    assert indexed == covered | keys


def test_short_text_is_kept_and_long_text_is_cut_distinctly_at_a_character() -> None:
    assert bounded("AKIAIOSFODNN7EXAMPLE") == "AKIAIOSFODNN7EXAMPLE"
    exactly = "a" * KEY_BYTES
    assert bounded(exactly) == exactly
    wide = "€" * (KEY_BYTES // 3)  # 3 bytes each: KEY_BYTES bytes in all
    assert bounded(wide) == wide
    for text in ("a" * (KEY_BYTES + 1), "€" * (KEY_BYTES // 3 + 1), "x" * 1_000_000):
        key = bounded(text)
        assert len(key.encode()) <= KEY_BYTES and key == bounded(text) and text.startswith(key.split("… (")[0])
        assert key.endswith(f"({len(text.encode()):,} bytes, sha256:{hashlib.sha256(text.encode()).hexdigest()})")
    one, other = "p" * 5_000 + "1", "p" * 5_000 + "2"
    assert bounded(one) != bounded(other)
    # A multi-byte character is never split: the kept start is whole characters.
    cut = bounded("é" * 4_000).split("… (")[0]
    assert cut == "é" * (KEPT_BYTES // 2)


def test_a_record_with_long_caller_text_makes_rows_with_bounded_keys_that_still_join() -> None:
    record = copy.deepcopy(workshop_incident().records[0])
    record["userAgent"] = "A" * 1_000_000
    record["sourceIPAddress"] = "B" * 9_000
    identity = record["userIdentity"]
    identity["arn"] = identity["arn"] + "x" * 6_000
    assert check_record(record) is None
    rows = event_rows(record, origin="t", index=0, incident="t", run_id="t", kept=keep(record))
    for query, fields in KEY_FIELDS.items():
        for row in rows[query]:
            for field in fields:
                value = (row.get("props") or {}).get("name") if field == "props.name" else row.get(field)
                assert value is None or not isinstance(value, str) or len(value.encode()) <= KEY_BYTES, (query, field)
    event = rows["merge_events"][0]
    assert event["agent"] == bounded(record["userAgent"]) and event["ip"] == bounded(record["sourceIPAddress"])
    # The Event keeps the text whole (not indexed), so reports and `event --raw` show it as the log has it.
    assert event["props"]["userAgent"] == record["userAgent"]
    made = rows["merge_made"][0]["principal"]
    assert made in {p["id"] for p in rows["merge_principals"]} and len(made.encode()) <= KEY_BYTES
    assert rows["merge_tallies"][0]["principal"] == made


@pytest.mark.parametrize("field", ["eventID", "eventSource", "eventName", "sharedEventID"])
def test_a_record_with_an_indexed_field_longer_than_cloudtrail_writes_is_refused(field: str) -> None:
    record = copy.deepcopy(workshop_incident().records[0])
    record[field] = "e" * INDEXED_FIELD_BYTES
    assert check_record(record) is None
    record[field] = "e" * (INDEXED_FIELD_BYTES + 1)
    reason = check_record(record)
    assert reason is not None and reason.startswith(f"field {field} is {INDEXED_FIELD_BYTES + 1:,} bytes long; keytrail indexes it and takes at most 1,024")
