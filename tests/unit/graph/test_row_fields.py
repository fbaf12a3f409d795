"""The rows keytrail sends to each write query carry exactly the fields the query's header declares.

The sample incidents (workshop, session token, cross account, every door incident) and the
record of tests/unit/rules/test_registry.py for every rule are loaded through the real
:class:`~keytrail.ingest.Ingest` (transform, ``reduce_batch``, writer) into a store double
that keeps each statement's parameters; then loaded again under a second incident, so that
the loader tags stored events, and the bookkeeping the loader writes itself (loaded objects,
the load run, a reset) is run against the same double. What is checked is what a real store
would have been sent. A field written ``name?`` in a header may be absent from a row (the
transform drops nulls); every other field must be in every row, no row may carry a field the
header does not declare, and each optional field must appear in some row.
"""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from keytrail.graph.backends import Run
from keytrail.graph.queries import MapField, Query, QueryParameterError, _load_all, get_query, map_fields, row_fields
from keytrail.graph.runner import reset_store
from keytrail.graph.transform import WRITE_ORDER
from keytrail.ingest import Ingest, ObjectManifest
from keytrail.loaders.records import SourceRecord
from keytrail.rules import REGISTRY
from keytrail.sample import cross_account_incident, session_token_incident, workshop_incident
from keytrail.sample.doors import DOOR_INCIDENTS

WRITE_QUERIES = sorted((q for q in _load_all().values() if q.kind == "write"), key=lambda q: q.name)
ROW_QUERIES = [q for q in WRITE_QUERIES if any(p.name == "rows" for p in q.params)]
BY_BODY = {q.body: q for q in _load_all().values()}
#: Write queries the loader feeds with rows it builds itself (keytrail/ingest.py), not the transform.
LOADER_ROW_QUERIES = ("add_incident_to_events", "merge_loaded_objects", "set_key_status")
#: Write queries that take named parameters, not ``$rows``.
PARAMETER_QUERIES = ("record_load_run", "find_existing_events", "find_loaded_objects", "delete_keytrail_relationships", "delete_keytrail_nodes")

Row = dict[str, Any]


T = TypeVar("T")


class RecordingBackend:
    """A store double: answers as a store would, and keeps every statement's parameters by query name."""

    name = "recording"
    location = "memory"

    def __init__(self) -> None:
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.events: dict[str, list[str]] = {}
        self.keys: set[str] = set()

    def _run(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        query = BY_BODY[statement]  # every statement keytrail sends is a named query
        query.check_params(params)
        self.sent[query.name].append(params)
        if query.name == "merge_events":
            self.events.update((row["eventID"], [row["incident"]]) for row in params["rows"])
        elif query.name == "add_incident_to_events":
            for row in params["rows"]:
                self.events[row["eventID"]].append(row["incident"])
        elif query.name == "merge_access_keys":
            self.keys.update(row["accessKeyId"] for row in params["rows"])
        elif query.name == "access-keys-page":
            return [{"accessKeyId": k} for k in sorted(k for k in self.keys if k > params["after"])[: params["limit"]]]
        elif query.name == "key-status-facts":
            return [{"credential": k, "kind": None, "ownerType": None, "changes": [], "ownerDeletions": [], "roleDeletions": []} for k in params["keys"]]
        elif query.name == "find_existing_events":
            return [{"eventID": i, "incidents": list(self.events[i]), "recordSha256": None} for i in params["ids"] if i in self.events]
        elif query.name in ("delete_keytrail_relationships", "delete_keytrail_nodes"):
            return [{"deleted": 0}]
        if "landed" in query.returns:
            return [{"landed": len(params["rows"])}]
        return []

    def read(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._run(statement, params)

    def write(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._run(statement, params)

    def write_unit(self, work: Callable[[Run], T], holder: str) -> T:
        return work(self._run)

    def apply_schema(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _registry_records() -> list[Row]:
    """The record of tests/unit/rules/test_registry.py (it names everything rules read), for every rule."""
    path = Path(__file__).resolve().parents[1] / "rules" / "test_registry.py"
    spec = importlib.util.spec_from_file_location("_keytrail_registry_records", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records: list[Row] = [module._record(service, name) for service, name in [*REGISTRY.events(), *module.GENERIC]]
    records.append(module._record("iam", "UpdateAccessKey", status="Active") | {"eventID": "iam-UpdateAccessKey-Active"})
    return records


def _sources() -> dict[str, list[Row]]:
    """Records by origin: every sample incident (each with its own seed), and the registry's records."""
    incidents = [workshop_incident(), session_token_incident(), cross_account_incident()]
    incidents += [make(seed) for seed, (_, make) in enumerate(DOOR_INCIDENTS, start=21)]
    sources = {f"{incident.name}.json": incident.records for incident in incidents}
    sources["registry.json"] = _registry_records()
    return sources


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Every statement's parameters, by query name, of two loads, the loader's bookkeeping and a reset."""
    sources = _sources()
    items = [SourceRecord(origin, index, record) for origin, records in sources.items() for index, record in enumerate(records)]
    assert len({item.record["eventID"] for item in items}) == len(items), "eventIDs must be unique, or records are dropped as duplicates"
    rejects = tmp_path_factory.mktemp("rejects")
    backend = RecordingBackend()
    first = Ingest(backend, "first", batch_size=500, rejects_path=rejects / "first.jsonl", run_id="run-1").run(items, list(sources))
    assert first.ok and first.loaded == len(items), first.problems
    # The same records again under another incident: the loader tags the stored events with it.
    again = [item for item in items if item.origin == "workshop.json"]
    second = Ingest(backend, "second", rejects_path=rejects / "second.jsonl", run_id="run-2").run(again, ["workshop.json"])
    assert second.ok and second.duplicates == len(again) and second.loaded == 0
    manifest = ObjectManifest(backend, "first", "run-1")
    uri = "s3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/07/x.json.gz"
    assert manifest.complete([uri]) == {}
    manifest.record([(uri, '"etag"', 1234)])
    assert reset_store(backend) == 0
    return dict(backend.sent)


def _rows(sent: dict[str, list[dict[str, Any]]], name: str) -> list[Row]:
    return [row for params in sent.get(name, []) for row in params["rows"]]


def _check(where: str, rows: Sequence[Row], fields: Sequence[MapField]) -> None:
    """Every row has each required field and no undeclared one; every optional field is in some row; nested maps likewise."""
    declared = {f.name for f in fields}
    required = {f.name for f in fields if not f.optional}
    assert rows, f"{where}: no rows to check"
    for row in rows:
        keys = set(row)
        assert keys <= declared and required <= keys, (
            f"{where}: row keys {sorted(keys)} differ from the header's fields {sorted(declared)}"
            f" (undeclared: {sorted(keys - declared)}, missing: {sorted(required - keys)}); row: {row!r:.300}"
        )
    seen = set().union(*(set(row) for row in rows))
    assert seen == declared, f"{where}: the header declares {sorted(declared - seen)}, which no row has"
    for field in fields:
        nested = map_fields(field.type)
        if nested is None:
            continue
        values = [row[field.name] for row in rows if field.name in row]
        assert all(isinstance(value, dict) for value in values), f"{where}.{field.name}: declared a map"
        _check(f"{where}.{field.name}", [value for value in values if value], nested)


def test_every_rows_query_declares_its_fields_as_a_list_of_maps() -> None:
    assert {q.name for q in ROW_QUERIES} == set(WRITE_ORDER) | set(LOADER_ROW_QUERIES)
    for query in ROW_QUERIES:
        fields = row_fields(query)
        names = [f.name for f in fields]
        assert names and len(names) == len(set(names)), query.name


def test_the_row_fields_a_header_declares_are_what_its_statement_reads() -> None:
    for query in ROW_QUERIES:
        read = set(re.findall(r"\brow\.([A-Za-z_][A-Za-z0-9_]*)", query.body))
        assert read == {f.name for f in row_fields(query)}, query.name


def test_every_rows_query_received_rows(sent: dict[str, list[dict[str, Any]]]) -> None:
    empty = [q.name for q in ROW_QUERIES if not _rows(sent, q.name)]
    assert not empty, f"no rows were sent to {empty}: the records no longer exercise them"
    for name in WRITE_ORDER:
        assert _rows(sent, name), name


@pytest.mark.parametrize("query", ROW_QUERIES, ids=lambda q: q.name)
def test_rows_carry_exactly_the_fields_the_header_declares(sent: dict[str, list[dict[str, Any]]], query: Query) -> None:
    _check(query.name, _rows(sent, query.name), row_fields(query))


@pytest.mark.parametrize("name", PARAMETER_QUERIES)
def test_bookkeeping_parameters_are_the_declared_ones(sent: dict[str, list[dict[str, Any]]], name: str) -> None:
    query = get_query(name)
    assert sent.get(name), f"{name} was never run"
    for params in sent[name]:
        assert set(params) == {p.name for p in query.params}, name


def test_row_fields_parses_the_header_forms() -> None:
    fields = map_fields("list<map{a: string, b?: list<string>, c: map{x?, y: int}, d: A|B}> — one per thing")
    assert fields is not None
    assert [(f.name, f.type, f.optional) for f in fields] == [
        ("a", "string", False),
        ("b", "list<string>", True),
        ("c", "map{x?, y: int}", False),
        ("d", "A|B", False),
    ]
    assert map_fields("map") is None and map_fields("list<string>") is None
    with pytest.raises(ValueError, match="unclosed"):
        map_fields("list<map{a: string")
    with pytest.raises(ValueError, match="list<map"):
        row_fields(get_query("delete_keytrail_nodes"), "labels")
    with pytest.raises(QueryParameterError):
        row_fields(get_query("delete_keytrail_nodes"))
