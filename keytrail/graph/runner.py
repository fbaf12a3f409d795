"""Running named queries, and the store-wide operations built from them (stats, reset)."""

from __future__ import annotations

import re
from typing import Any

from keytrail.graph.backends import Backend
from keytrail.graph.queries import get_query
from keytrail.graph.schema import NODE_KEYS
from keytrail.graph.transform import TALLY_KEY_VERSION


def run_query(backend: Backend, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run the named analysis query with checked parameters; rows in the header's column order."""
    query = get_query(name)
    given = params or {}
    query.check_params(given)
    rows = backend.read(query.body, given)
    if query.returns:
        rows = [{column: row.get(column) for column in query.returns} | row for row in rows]
    return rows


#: Records of the loads themselves and counts of the evidence, not evidence: a repeated load adds a LoadRun and nothing else.
BOOKKEEPING_LABELS = frozenset({"LoadRun", "Incident", "LoadedObject", "WriteLock", "Tally"})
BOOKKEEPING_TYPES = frozenset({"FOR_INCIDENT"})


def store_stats(backend: Backend) -> dict[str, Any]:
    """Counts of what the store holds.

    ``nodes`` and ``relationships`` count evidence only; the per-label and per-type
    counts include the bookkeeping (one LoadRun per load, one Incident per name).
    """
    # Only keytrail's own labels and types count (a shared Neo4j may hold other data), each from the store's counter.
    nodes = {label: count for label, count in _counts(backend, "stats-nodes", NODE_BRANCH).items() if count}
    relationships = {kind: count for kind, count in _counts(backend, "stats-relationships", RELATIONSHIP_BRANCH).items() if count}
    incidents = store_incidents(backend)
    return {
        "store": backend.name,
        "location": backend.location,
        "events": nodes.get("Event", 0),
        "nodes": sum(count for label, count in nodes.items() if label not in BOOKKEEPING_LABELS),
        "relationships": sum(count for kind, count in relationships.items() if kind not in BOOKKEEPING_TYPES),
        "loads": nodes.get("LoadRun", 0),
        "access_keys": nodes.get("AccessKey", 0),
        "principals": nodes.get("Principal", 0),
        "incidents": incidents,
        "labels": nodes,
        "relationship_types": relationships,
    }


def tallies_complete(backend: Backend) -> bool:
    """Whether the store's ``Tally`` nodes count every stored event once (``tallies-complete``).

    A store loaded by a keytrail that kept no tallies or counted them by other fields (``keyVersion``), or written to
    by something else, fails this check: what
    would count from tallies reads the events instead, so that no count is ever short.
    """
    rows = run_query(backend, "tallies-complete", {"keyVersion": TALLY_KEY_VERSION})
    # The embedded store answers no row at all until something is written to it: nothing stored, nothing uncounted.
    return not rows or (int(rows[0]["events"]) == int(rows[0]["tallied"]) and int(rows[0]["outdated"]) == 0)


def store_incidents(backend: Backend) -> list[dict[str, Any]]:
    """Each incident's events, time span and loads: from the tallies when they count every event, else one pass over the events."""
    if not tallies_complete(backend):
        return run_query(backend, "incidents")
    # FalkorDB returns a sum as a float.
    return [row | {"events": int(row["events"])} for row in run_query(backend, "incidents-tallied")]


#: The branches of stats-nodes and stats-relationships: a bare count of one label or type.
NODE_BRANCH = re.compile(r"MATCH \(n:(\w+)\) RETURN count\(n\) AS count")
RELATIONSHIP_BRANCH = re.compile(r"MATCH \(\)-\[r:(\w+)\]->\(\) RETURN count\(r\) AS count")


def count_branches(name: str, branch: re.Pattern[str]) -> dict[str, str]:
    """The branches of a ``UNION ALL`` of bare counts, by the label or type each counts."""
    found = {}
    for text in get_query(name).body.split("UNION ALL"):
        match = branch.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"query {name}: a branch is not a bare count of one label or type: {text.strip()!r}")
        found[match.group(1)] = text.strip()
    return found


def _counts(backend: Backend, name: str, branch: re.Pattern[str]) -> dict[str, int]:
    """Each branch run by itself: FalkorDB answers a bare count of one label or type from its counter, and not within a UNION."""
    counts = {}
    for kind, statement in count_branches(name, branch).items():
        rows = backend.read(statement, {})
        counts[kind] = int(rows[0]["count"]) if rows else 0
    return counts


#: Relationships, or nodes, deleted per transaction by reset_store.
RESET_SLICE = 10_000


def reset_store(backend: Backend, *, slice_size: int = RESET_SLICE) -> int:
    """Delete every node with one of keytrail's labels, and their relationships, in slices; return how many nodes.

    Each transaction deletes at most ``slice_size`` relationships, or ``slice_size`` nodes left
    without any: a node's relationships are never deleted all at once, so a hub (an Action a
    million events invoked) does not need a transaction the size of its degree.
    tests/integration/test_reset.py holds every transaction to the slice.
    """
    relationships = get_query("delete_keytrail_relationships")
    nodes = get_query("delete_keytrail_nodes")
    params = {"labels": sorted(NODE_KEYS), "limit": slice_size}
    total = 0
    while True:
        cut = _deleted(backend.write(relationships.body, params))
        if cut == slice_size:
            # A full slice: the nodes it looked at may have more relationships, so they stay for now.
            continue
        # Fewer than a slice: every relationship of the nodes looked at is gone, and they can go
        # (the node slice looks at the same nodes: the first slice_size of the same scan).
        deleted = _deleted(backend.write(nodes.body, params))
        total += deleted
        if cut == 0 and deleted == 0:
            break
    backend.flush()
    return total


def _deleted(rows: list[dict[str, Any]]) -> int:
    return int(rows[0]["deleted"]) if rows else 0
