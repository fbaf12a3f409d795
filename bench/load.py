"""Load throughput: parse and transform rate, then events/s and rows/s per write query on each store.

Usage:
    python bench/load.py [--events 100000] [--batch-size 2000] [--neo4j bolt://127.0.0.1:7687]

Records come from keytrail.sample.synthetic_records (fixed seed), written once as
gzipped CloudTrail S3 log files, so the load path measured is the real one: file
walk, gunzip, JSON parse, record checks, transform, batched UNWIND writes. The
embedded store always runs; Neo4j runs when --neo4j (or NEO4J_URI) is given. The
Neo4j run starts by deleting keytrail's data from that store.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from keytrail.graph.backends import Backend, FalkorDBBackend, Neo4jBackend, Neo4jSettings
from keytrail.graph.neo4j_local import credentials_for
from keytrail.graph.runner import reset_store
from keytrail.graph.transform import event_rows
from keytrail.ingest import CHUNK_RECORDS, Ingest
from keytrail.loaders.files import FileSource
from keytrail.loaders.records import SourceRecord, examine_record
from keytrail.model.fingerprint import keep
from keytrail.prepare import PreparePool, default_processes
from keytrail.sample.layout import write_s3_layout
from keytrail.sample.synthetic import synthetic_records


def measure_parse(root: Path) -> tuple[int, float]:
    """Read, check and transform every record without a store."""
    began = time.perf_counter()
    count = 0
    for item in FileSource([root]):
        if not isinstance(item, SourceRecord):
            continue
        # The work Ingest does per record: the check, the kept text and fingerprint, the rows.
        examined = examine_record(item.record)
        if examined.reason is None:
            kept = keep(item.record, examined.containers)
            event_rows(item.record, origin=item.origin, index=item.index, incident="bench", run_id="bench", kept=kept)
            count += 1
    return count, time.perf_counter() - began


def measure_parse_in_workers(root: Path, processes: int) -> tuple[int, float]:
    """The same work with the check, kept text and rows in worker processes, as a load hands them over (chunks, in order)."""
    began = time.perf_counter()
    count = 0
    pool = PreparePool(processes, "bench", "bench")
    chunk: list[tuple[dict[str, Any], str, int]] = []

    def hand_over() -> int:
        taken = len(pool.oldest()) if pool.full else 0
        pool.submit(chunk)
        chunk.clear()
        return taken

    try:
        for item in FileSource([root]):
            if isinstance(item, SourceRecord):
                chunk.append((item.record, item.origin, item.index))
                if len(chunk) >= CHUNK_RECORDS:
                    count += hand_over()
        if chunk:
            count += hand_over()
        while pool.pending:
            count += len(pool.oldest())
    finally:
        pool.close()
    return count, time.perf_counter() - began


def measure_load(backend: Backend, root: Path, batch_size: int, processes: int) -> None:
    reset_store(backend)
    ingest = Ingest(backend, "bench", batch_size=batch_size, rejects_path=root.parent / "rejects.jsonl", processes=processes)
    cpu = time.process_time()
    summary = ingest.run(FileSource([root]), [str(root)])
    cpu = time.process_time() - cpu
    rate = summary.loaded / summary.seconds
    print(f"\n{backend.name}, {processes} worker processes: {summary.loaded:,} events in {summary.seconds:.1f} s = {rate:,.0f} events/s ({cpu:.1f} s CPU here)")
    stats = ingest.writer.stats
    for name in sorted(stats.rows, key=lambda n: -stats.seconds[n]):
        rows, seconds = stats.rows[name], stats.seconds[name]
        print(f"  {name:<34} {rows:>10,} rows {seconds:>8.1f} s {rows / max(seconds, 1e-9):>12,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--neo4j", default=os.environ.get("NEO4J_URI"))
    parser.add_argument("--processes", type=int, default=default_processes(bulk=False), help="worker processes, as `load --processes` (default: the load's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="keytrail-bench-") as tmp:
        root = Path(tmp) / "logs"
        began = time.perf_counter()
        files = write_s3_layout(synthetic_records(args.events, seed=1), root)
        print(f"wrote {args.events:,} records in {len(files):,} files in {time.perf_counter() - began:.1f} s")
        count, seconds = measure_parse(root)
        print(f"read + check + transform, one process: {count:,} records in {seconds:.1f} s = {count / seconds:,.0f} records/s")
        if args.processes:
            count, seconds = measure_parse_in_workers(root, args.processes)
            print(f"the same, check + transform in {args.processes} worker processes: {count:,} records in {seconds:.1f} s = {count / seconds:,.0f} records/s")
        embedded = FalkorDBBackend(Path(tmp) / "store")
        try:
            measure_load(embedded, root, args.batch_size, args.processes)
        finally:
            embedded.close()
        if args.neo4j:
            user, password = credentials_for(args.neo4j, os.environ.get("NEO4J_USERNAME"), os.environ.get("NEO4J_PASSWORD"))
            neo4j = Neo4jBackend(Neo4jSettings(args.neo4j, user, password))
            try:
                measure_load(neo4j, root, args.batch_size, args.processes)
            finally:
                neo4j.close()


if __name__ == "__main__":
    main()
