"""``reset`` deletes keytrail's data in bounded slices, whatever a node's degree, and leaves other data alone.

A hub (an Action invoked by a million events) deleted with DETACH DELETE in one transaction ran
Neo4j out of memory; here a hub has more relationships than one slice, and every transaction of
the reset must stay within the slice, on both stores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from keytrail.graph.backends import Backend, Run
from keytrail.graph.runner import reset_store
from keytrail.graph.schema import NODE_KEYS
from keytrail.graph.writer import GraphWriter

T = TypeVar("T")

SLICE = 25
EVENTS = 3 * SLICE + 7
TIME = "2026-01-07T02:25:18Z"


class SliceWatcher:
    """A store that counts what each write statement deleted (nodes and relationships, of any label)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.name = backend.name
        self.location = backend.location
        self.deleted: list[tuple[int, int]] = []

    def _counts(self) -> tuple[int, int]:
        nodes = self.backend.read("MATCH (n) RETURN count(n) AS n", {})[0]["n"]
        relationships = self.backend.read("MATCH ()-[r]->() RETURN count(r) AS r", {})[0]["r"]
        return int(nodes), int(relationships)

    def read(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.backend.read(statement, params)

    def write(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        nodes, relationships = self._counts()
        rows = self.backend.write(statement, params)
        after_nodes, after_relationships = self._counts()
        self.deleted.append((nodes - after_nodes, relationships - after_relationships))
        return rows

    def write_unit(self, work: Callable[[Run], T], holder: str) -> T:
        return self.backend.write_unit(work, holder)

    def apply_schema(self) -> None:
        self.backend.apply_schema()

    def flush(self) -> None:
        self.backend.flush()

    def close(self) -> None:
        self.backend.close()


def _event(index: int) -> dict[str, Any]:
    return {
        "eventID": f"reset-{index:03d}",
        "props": {"eventTime": TIME, "eventName": "Hub", "eventSource": "test.amazonaws.com"},
        "incident": "reset-test",
        "action": "test:Hub",
        "eventSource": "test.amazonaws.com",
        "eventName": "Hub",
        "ip": "192.0.2.1",
        "agent": None,
    }


def test_reset_deletes_a_hub_in_slices_and_leaves_other_data(backend: Backend) -> None:
    GraphWriter(backend).write_rows({"merge_events": [_event(i) for i in range(EVENTS)]})
    # Other data in a shared store: a graph of its own, and one of its nodes pointing at keytrail's hub.
    backend.write("CREATE (:Unrelated {name: 'a'})-[:LINKS]->(:Unrelated {name: 'b'})", {})
    backend.write("MATCH (a:Action {name: 'test:Hub'}) CREATE (:Unrelated {name: 'c'})-[:POINTS_AT]->(a)", {})
    hub = backend.read("MATCH (a:Action {name: 'test:Hub'})--() RETURN count(*) AS degree", {})
    assert hub == [{"degree": EVENTS + 1}]
    try:
        watcher = SliceWatcher(backend)
        deleted = reset_store(watcher, slice_size=SLICE)
        # The events, their Action and SourceIP, the write lock: every keytrail node, and nothing else.
        assert deleted == EVENTS + 3
        assert all(nodes <= SLICE and relationships <= SLICE for nodes, relationships in watcher.deleted), watcher.deleted
        assert sum(relationships for _, relationships in watcher.deleted) == 2 * EVENTS + 1
        labels = sorted(NODE_KEYS)
        assert backend.read("MATCH (n) WHERE any(l IN labels(n) WHERE l IN $labels) RETURN count(n) AS n", {"labels": labels}) == [{"n": 0}]
        left = backend.read("MATCH (n:Unrelated) OPTIONAL MATCH (n)-[r]->() RETURN n.name AS name, type(r) AS type ORDER BY name", {})
        assert left == [{"name": "a", "type": "LINKS"}, {"name": "b", "type": None}, {"name": "c", "type": None}]
    finally:
        backend.write("MATCH (n:Unrelated) DETACH DELETE n", {})
