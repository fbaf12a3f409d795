"""``keytrail stats`` counts from the stores' counters: every label and type once, equal to a count of every node and relationship."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from keytrail.graph.backends import Backend, FalkorDBBackend
from keytrail.graph.queries import get_query
from keytrail.graph.runner import NODE_BRANCH, RELATIONSHIP_BRANCH, count_branches, store_incidents, store_stats
from keytrail.graph.schema import NODE_KEYS, RELATIONSHIP_TYPES
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.model.time import normalise_time
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_jsonl


def test_the_stats_queries_count_every_label_and_type_once() -> None:
    assert sorted(count_branches("stats-nodes", NODE_BRANCH)) == sorted(NODE_KEYS)
    assert sorted(count_branches("stats-relationships", RELATIONSHIP_BRANCH)) == sorted(RELATIONSHIP_TYPES)


def test_stats_equal_a_count_of_every_node_and_relationship(backend: Backend, tmp_path: Path) -> None:
    logs = tmp_path / "workshop.jsonl"
    write_jsonl(workshop_incident().records, logs)
    Ingest(backend, "w", rejects_path=tmp_path / "r.jsonl").run(FileSource([logs]), [str(logs)])
    sent: list[str] = []

    class Recording:
        name, location = backend.name, backend.location

        def read(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            sent.append(statement)
            return backend.read(statement, params)

    found = store_stats(cast(Backend, Recording()))
    nodes = {row["label"]: row["count"] for row in backend.read("MATCH (n) RETURN labels(n)[0] AS label, count(n) AS count", {})}
    relationships = {row["type"]: row["count"] for row in backend.read("MATCH ()-[r]->() RETURN type(r) AS type, count(r) AS count", {})}
    assert found["labels"] == {label: count for label, count in nodes.items() if label in NODE_KEYS}
    assert found["relationship_types"] == {kind: count for kind, count in relationships.items() if kind in RELATIONSHIP_TYPES}
    assert found["events"] == len(workshop_incident().records) and found["relationships"] > found["nodes"] > found["events"]
    if isinstance(backend, FalkorDBBackend):
        # FalkorDB answers each count from its counter: the plan reads no node and no relationship (the incidents,
        # with their first and last events, are read from the tallies, once those are known to count every event).
        others = {get_query(name).body for name in ("tallies-complete", "incidents-tallied")}
        assert others <= set(sent) and get_query("incidents").body not in sent
        counts = [statement for statement in sent if statement not in others]
        assert len(counts) == len(NODE_KEYS) + len(RELATIONSHIP_TYPES)
        for statement in counts:
            plan = str(backend._graph.explain(statement))
            assert "Scan" not in plan and "Traverse" not in plan, (statement, plan)


def test_stats_incidents_count_each_incidents_events_in_one_pass(backend: Backend, tmp_path: Path) -> None:
    """Events tagged with two incidents count under both; an incident with no event left counts 0."""
    records = workshop_incident().records
    parts = {"first": records[: len(records) // 2], "second": records[len(records) // 3 :], "empty": []}
    for incident, part in parts.items():
        logs = tmp_path / f"{incident}.jsonl"
        write_jsonl(part, logs)
        Ingest(backend, incident, rejects_path=tmp_path / "r.jsonl").run(FileSource([logs]), [str(logs)])
    found = {row["incident"]: row for row in store_incidents(backend)}
    for incident, part in parts.items():
        times = sorted(normalise_time(record["eventTime"])[0] for record in part)
        expected = {"incident": incident, "events": len(part), "firstEvent": times[0] if times else None, "lastEvent": times[-1] if times else None, "loads": 1}
        assert found[incident] == expected


def test_read_commands_on_an_embedded_store_nothing_was_written_to_answer_nothing(tmp_path: Path) -> None:
    """A responder's first ``stats`` or ``findings``, before any load: the embedded store answers no row at all, not a zero."""
    import json

    from typer.testing import CliRunner

    from keytrail.cli.main import app

    home = ["--home", str(tmp_path / "never-written")]
    embedded = {"NEO4J_URI": ""}  # the test run's NEO4J_URI would otherwise send the commands to its Neo4j
    try:
        stats = CliRunner().invoke(app, [*home, "stats", "--json"], env=embedded)
        assert stats.exit_code == 0, stats.output
        data = json.loads(stats.stdout)
        assert (data["events"], data["nodes"], data["relationships"], data["incidents"]) == (0, 0, 0, [])
        findings = CliRunner().invoke(app, [*home, "findings", "--json"], env=embedded)
        assert findings.exit_code == 0, findings.output
        assert json.loads(findings.stdout)["total"] == 0
    finally:
        CliRunner().invoke(app, [*home, "store", "stop"], env=embedded)
