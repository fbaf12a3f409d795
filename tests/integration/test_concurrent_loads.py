"""Two loads at once into one Neo4j end exactly as the same loads one after the other.

Neo4j is the store offered for shared use. The workshop incident is split into two overlapping
parts (a third of the events in both), loaded under two incident names by two processes started
together, in small batches so that their transactions interleave; three rounds. The snapshot
must equal that of the two loads run one after the other (where each event was read from aside:
the load that stores an event first records its own file).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from keytrail.graph.backends import Neo4jBackend, Neo4jSettings
from keytrail.graph.runner import reset_store, store_stats
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_jsonl

from .snapshot import snapshot

ROUNDS = 3


def _load(settings: Neo4jSettings, path: Path, incident: str) -> subprocess.Popen[str]:
    env = dict(os.environ, NEO4J_URI=settings.uri, NEO4J_USERNAME=settings.username or "neo4j", NEO4J_PASSWORD=settings.password or "")
    command = [sys.executable, "-m", "keytrail", "load", str(path), "--incident", incident, "--batch-size", "5", "--json"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> None:
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err


def test_two_loads_at_once_equal_the_same_loads_one_after_the_other(neo4j_settings: Neo4jSettings, neo4j_backend: Neo4jBackend, tmp_path: Path) -> None:
    records = workshop_incident().records
    third = len(records) // 3
    shared = records[third : 2 * third]
    # Both files begin with the shared third, so that the two loads reach the same events at the same time.
    parts = {"case-a": shared + records[:third], "case-b": shared + records[2 * third :]}
    paths = {}
    for incident, part in parts.items():
        paths[incident] = tmp_path / f"{incident}.jsonl"
        write_jsonl(part, paths[incident])
    reset_store(neo4j_backend)
    for incident in parts:
        _finish(_load(neo4j_settings, paths[incident], incident))
    # Which load stored an event both read first is a race: where it was read from is left out.
    one_after_the_other = snapshot(neo4j_backend, provenance=False)
    assert store_stats(neo4j_backend)["events"] == len({r["eventID"] for r in records})
    for _ in range(ROUNDS):
        reset_store(neo4j_backend)
        running = [_load(neo4j_settings, paths[incident], incident) for incident in parts]
        for process in running:
            _finish(process)
        assert snapshot(neo4j_backend, provenance=False) == one_after_the_other
