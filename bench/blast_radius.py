"""Benchmark: the blast-radius report on a large store, on both backends.

Builds a store of N synthetic events (``keytrail.sample.synthetic_records``, with an
attack chain every 10,000 records) on the embedded FalkorDB and on Neo4j, then times
``build_blast_radius`` for the leaked key of an attack chain in the middle of the
stream, and prints the figures. Nothing is asserted: this measures.

    python bench/blast_radius.py                       # 1,000,000 events, both backends
    python bench/blast_radius.py --events 100000 --backend falkordb
    NEO4J_URI=bolt://127.0.0.1:7687 python bench/blast_radius.py --backend neo4j

The Neo4j store is emptied of keytrail data first (``reset_store``): point it at a
server you can wipe. ``--reuse`` skips the load when the store already holds the
events (same --events and --seed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from keytrail.graph.backends import Backend, FalkorDBBackend, Neo4jBackend, Neo4jSettings
from keytrail.graph.neo4j_local import credentials_for
from keytrail.graph.runner import reset_store, run_query
from keytrail.ingest import Ingest
from keytrail.loaders.records import SourceRecord
from keytrail.report.blast_radius import build_blast_radius
from keytrail.report.model import BlastRadius
from keytrail.sample import ATTACKER_NET, synthetic_records

INCIDENT = "bench"


def chain_keys(n: int, seed: int) -> list[str]:
    """The leaked key of every embedded attack chain (the key that calls CreateAccessKey from the attacker's net)."""
    keys = []
    for record in synthetic_records(n, seed):
        if record["eventName"] == "CreateAccessKey" and str(record.get("sourceIPAddress", "")).startswith(ATTACKER_NET):
            keys.append(record["userIdentity"]["accessKeyId"])
    return keys


def items(n: int, seed: int) -> Iterator[SourceRecord]:
    for index, record in enumerate(synthetic_records(n, seed)):
        yield SourceRecord("synthetic", index, record)


def load(backend: Backend, n: int, seed: int, reuse: bool) -> float:
    """Load the store (or reuse it); seconds taken."""
    backend.apply_schema()
    if reuse and sum(int(row["events"]) for row in run_query(backend, "store-events")) == n:
        print(f"  reusing {n:,} events already loaded")
        return 0.0
    reset_store(backend)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        summary = Ingest(backend, INCIDENT, rejects_path=Path(scratch) / "rejects.jsonl").run(items(n, seed), ["synthetic"])
    seconds = time.perf_counter() - began
    print(f"  loaded {summary.loaded:,} events in {seconds:,.0f} s ({summary.loaded / seconds:,.0f} events/s)")
    return seconds


def time_report(backend: Backend, key: str, incident: str | None, repeat: int) -> tuple[list[float], BlastRadius]:
    report = build_blast_radius(backend, key, incident)  # warm caches and query plans
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        report = build_blast_radius(backend, key, incident)
        times.append(time.perf_counter() - began)
    return times, report


def bench(name: str, backend: Backend, args: argparse.Namespace, key: str) -> list[tuple[str, ...]]:
    print(f"{name}: {backend.location}")
    load_seconds = load(backend, args.events, args.seed, args.reuse)
    rows: list[tuple[str, ...]] = []
    for incident in (None, INCIDENT):
        times, report = time_report(backend, key, incident, args.repeat)
        rows.append(
            (
                name,
                f"{args.events:,}",
                "all" if incident is None else incident,
                f"{min(times) * 1000:,.0f}",
                f"{statistics.median(times) * 1000:,.0f}",
                f"{max(times) * 1000:,.0f}",
                str(len(report.credentials)),
                str(len(report.timeline)),
                str(len(report.findings)),
                f"{load_seconds:,.0f}",
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=("falkordb", "neo4j", "both"), default="both")
    parser.add_argument("--home", type=Path, default=None, help="FalkorDB folder (default: a temporary one)")
    parser.add_argument("--neo4j", default=os.environ.get("NEO4J_URI"), help="Neo4j Bolt URI (default: $NEO4J_URI)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep a store that already holds the events")
    args = parser.parse_args()

    keys = chain_keys(args.events, args.seed)
    if not keys:
        print("no attack chain in that many events; use --events 20000 or more", file=sys.stderr)
        return 2
    key = keys[len(keys) // 2]
    print(f"{args.events:,} synthetic events, {len(keys)} attack chains; report for {key} (chain {len(keys) // 2 + 1})")

    rows: list[tuple[str, ...]] = []
    if args.backend in ("falkordb", "both"):
        with tempfile.TemporaryDirectory() as scratch:
            store = FalkorDBBackend(args.home or Path(scratch))
            try:
                rows += bench("falkordb", store, args, key)
            finally:
                store.close()
    if args.backend in ("neo4j", "both"):
        if not args.neo4j:
            print("neo4j: skipped (no --neo4j and no NEO4J_URI)")
        else:
            user, password = credentials_for(args.neo4j, os.environ.get("NEO4J_USERNAME"), os.environ.get("NEO4J_PASSWORD"))
            settings = Neo4jSettings(args.neo4j, user, password, os.environ.get("NEO4J_DATABASE", "neo4j"))
            neo = Neo4jBackend(settings)
            try:
                rows += bench("neo4j", neo, args, key)
            finally:
                neo.close()

    header = ("backend", "events", "incident", "min ms", "median ms", "max ms", "credentials", "timeline", "findings", "load s")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
