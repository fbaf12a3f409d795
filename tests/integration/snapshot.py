"""A whole store as comparable data: every node and relationship with its properties.

Two stores hold the same evidence when their snapshots are equal. What only says which load
wrote it (the ``LoadRun`` stamps, the run id on each event, the time an incident or an object
was first loaded) differs between any two loads by design, and is left out.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from keytrail.graph.backends import Backend
from keytrail.graph.runner import reset_store
from keytrail.graph.schema import NODE_KEYS
from keytrail.ingest import Ingest, LoadSummary
from keytrail.loaders.files import FileSource

HERE = Path(__file__).parent
#: Labels and properties that record the load, not the evidence.
LOAD_LABELS = frozenset({"LoadRun", "WriteLock"})
LOAD_PROPERTIES = {"Event": {"loadRunId"}, "Incident": {"createdAt"}, "LoadedObject": {"runId", "loadedAt"}}


def _statement(name: str) -> str:
    return (HERE / f"{name}.cypher").read_text()


def _label(labels: list[str]) -> str:
    known = sorted(label for label in labels if label in NODE_KEYS)
    return known[0] if known else ",".join(sorted(labels))


def _node(labels: list[str], properties: dict[str, Any]) -> tuple[str, str]:
    label = _label(labels)
    kept = {k: v for k, v in properties.items() if k not in LOAD_PROPERTIES.get(label, set())}
    return label, orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode()


def _key(labels: list[str], properties: dict[str, Any]) -> str:
    label = _label(labels)
    return f"{label}:{properties.get(NODE_KEYS.get(label, ''))}"


#: Where an event was read from (file and position): the first load to store an event records its own.
PROVENANCE = frozenset({"source", "sourceIndex"})
#: Which incident's tally counts an event for the whole store: the load that stores it first. Without provenance
#: the snapshot keeps, instead of each tally's firstCount, their sum per call over the incidents.
_TALLY_CALL = ("credential", "principal", "action", "succeeded", "userAgent", "madeByAws")


def snapshot(backend: Backend, *, provenance: bool = True) -> dict[str, Counter[Any]]:
    """Nodes and relationships as multisets (a duplicated node or edge shows), load stamps left out.

    ``provenance=False`` leaves out where each event was read from too, and which incident's tally counts
    it for the whole store (kept as the sum per call instead): for stores filled from different files (one
    shuffled, split or loaded twice at once) that must otherwise agree.
    """
    nodes: Counter[Any] = Counter()
    store_counts: Counter[Any] = Counter()
    for row in backend.read(_statement("snapshot_nodes"), {}):
        if not LOAD_LABELS & set(row["labels"]):
            properties = row["properties"] if provenance else {k: v for k, v in row["properties"].items() if k not in PROVENANCE}
            if not provenance and "Tally" in row["labels"]:
                properties = dict(properties)
                store_counts[orjson.dumps([properties.get(f) for f in _TALLY_CALL]).decode()] += int(properties.pop("firstCount"))
            nodes[_node(row["labels"], properties)] += 1
    for call, count in store_counts.items():
        nodes[("Tally firstCount, summed over the incidents", f"{call} {count}")] += 1
    relationships: Counter[Any] = Counter()
    for row in backend.read(_statement("snapshot_relationships"), {}):
        if LOAD_LABELS & (set(row["fromLabels"]) | set(row["toLabels"])):
            continue
        properties = orjson.dumps(row["properties"], option=orjson.OPT_SORT_KEYS).decode()
        relationships[(_key(row["fromLabels"], row["from"]), row["type"], properties, _key(row["toLabels"], row["to"]))] += 1
    return {"nodes": nodes, "relationships": relationships}


#: What a load summary says about the load, not the records: left out when two loads of the same records are compared.
SUMMARY_STAMPS = ("run_id", "seconds", "rejects_path")


def accounting(summary: LoadSummary | dict[str, Any]) -> dict[str, Any]:
    """A load summary (or its JSON form) without its stamps."""
    data = summary.as_dict() if isinstance(summary, LoadSummary) else summary
    return {k: v for k, v in data.items() if k not in SUMMARY_STAMPS}


def load_afresh(backend: Backend, paths: list[Path], incident: str, rejects: Path, batch_size: int = 2_000, **options: Any) -> LoadSummary:
    """Empty the store of keytrail's data, then load ``paths`` into it (``options`` go to :class:`Ingest`); the summary must balance."""
    reset_store(backend)
    summary = Ingest(backend, incident, batch_size=batch_size, rejects_path=rejects, **options).run(FileSource(paths), [str(p) for p in paths])
    assert summary.balanced
    return summary
