"""The order records arrive in changes nothing the store says about them.

The workshop incident is loaded as generated, shuffled, in batches of 7 and of the default
size, and in two halves in either order; every snapshot (nodes and relationships with their
properties) must be the same. Where each event was read from (``source``, ``sourceIndex``)
names the file and position by design and differs between the layouts, so it is left out.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

from keytrail.graph.backends import Backend
from keytrail.graph.runner import reset_store
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_jsonl

from .snapshot import snapshot


def _load(backend: Backend, files: list[Path], batch_size: int, rejects: Path) -> dict[str, Counter[Any]]:
    reset_store(backend)
    for path in files:
        summary = Ingest(backend, "order", batch_size=batch_size, rejects_path=rejects).run(FileSource([path]), [str(path)])
        assert summary.balanced and summary.rejected == 0
    return snapshot(backend, provenance=False)


def test_the_same_incident_in_any_order_and_any_batches_gives_the_same_store(backend: Backend, tmp_path: Path) -> None:
    records = workshop_incident().records
    shuffled = random.Random(11).sample(records, len(records))
    half = len(shuffled) // 2
    files = {}
    for name, part in {"as-generated": records, "shuffled": shuffled, "first": shuffled[:half], "second": shuffled[half:]}.items():
        files[name] = tmp_path / f"{name}.jsonl"
        write_jsonl(part, files[name])
    rejects = tmp_path / "rejects.jsonl"
    reference = _load(backend, [files["as-generated"]], 2_000, rejects)
    assert sum(1 for label, _ in reference["nodes"] if label == "Event") == len({r["eventID"] for r in records})
    layouts = {
        "shuffled, batches of 7": ([files["shuffled"]], 7),
        "shuffled, default batches": ([files["shuffled"]], 2_000),
        "two halves": ([files["first"], files["second"]], 7),
        "two halves, the other order": ([files["second"], files["first"]], 7),
    }
    for layout, (paths, batch_size) in layouts.items():
        assert _load(backend, paths, batch_size, rejects) == reference, layout
