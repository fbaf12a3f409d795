"""Bulk load (``keytrail load --bulk``) against the online load, into one local Neo4j, step by step.

Usage:
    KEYTRAIL_NEO4J_HOME=<home of scripts/neo4j-local> \\
      python bench/bulk.py --neo4j bolt://127.0.0.1:<port> [--events 100000] [--logs DIR] [--no-online]

Records come from keytrail.sample.synthetic_records (seed 1, as bench/load.py), written as gzipped
CloudTrail S3 log files (into ``--logs DIR`` and kept, or reused when it holds them). The store is
emptied (``reset_store``), then:

* read + check + transform alone (no store), the floor of any load;
* the bulk load, each step apart: reading into rows and the CSV files of the events, the CSV files of
  the merged nodes and edges, stopping the server, ``neo4j-admin database import full``, starting it,
  and the online finishing steps (schema, key statuses, LoadRun);
* unless ``--no-online``: the store emptied again, and the same records loaded online.

The server named must be a ``scripts/neo4j-local`` one (the bulk load stops and starts it). Every
figure is wall time on whatever else the machine runs; nothing is asserted, this measures.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil
from resources import rss_of, workers_of  # bench/ is not a package

from keytrail.graph.backends import Neo4jBackend, Neo4jSettings
from keytrail.graph.bulk import BulkLoad, describe
from keytrail.graph.neo4j_local import credentials_for
from keytrail.graph.runner import reset_store
from keytrail.graph.transform import event_rows
from keytrail.ingest import Ingest, new_run_id
from keytrail.loaders.files import FileSource
from keytrail.loaders.records import SourceRecord, examine_record
from keytrail.model.fingerprint import keep
from keytrail.prepare import default_processes
from keytrail.sample.layout import write_s3_layout
from keytrail.sample.synthetic import synthetic_records


class PeakMemory:
    """The peak resident memory of this process, and of it with its worker processes, sampled every 0.1 s."""

    def __init__(self) -> None:
        self.alone = 0
        self.with_workers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.1):
            alone = rss_of([me])
            self.alone = max(self.alone, alone)
            self.with_workers = max(self.with_workers, alone + rss_of(workers_of(me)))

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        mib = 1024 * 1024
        return f"peak RSS: this process {self.alone / mib:,.0f} MiB, with its workers {self.with_workers / mib:,.0f} MiB"


def parse_only(root: Path) -> tuple[int, float]:
    """Read, check and transform every record without a store (bench/load.py's measure_parse)."""
    began = time.perf_counter()
    count = 0
    for item in FileSource([root]):
        if isinstance(item, SourceRecord):
            examined = examine_record(item.record)
            if examined.reason is None:
                event_rows(item.record, origin=item.origin, index=item.index, incident="bench", run_id="bench", kept=keep(item.record, examined.containers))
                count += 1
    return count, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--neo4j", default=os.environ.get("NEO4J_URI"), required=not os.environ.get("NEO4J_URI"))
    parser.add_argument("--logs", type=Path, help="keep (or reuse) the generated log files here")
    parser.add_argument("--no-online", action="store_true", help="only the bulk load")
    parser.add_argument("--no-parse", action="store_true", help="skip the read + transform step alone")
    parser.add_argument("--processes", type=int, default=default_processes(bulk=True), help="worker processes, as `load --processes` (default: the load's)")
    args = parser.parse_args()
    print(f"worker processes: {args.processes}")
    user, password = credentials_for(args.neo4j, os.environ.get("NEO4J_USERNAME"), os.environ.get("NEO4J_PASSWORD"))
    settings = Neo4jSettings(args.neo4j, user, password)
    with tempfile.TemporaryDirectory(prefix="keytrail-bench-bulk-") as tmp:
        root = args.logs or Path(tmp) / "logs"
        if not root.is_dir() or not any(root.iterdir()):
            began = time.perf_counter()
            files = write_s3_layout(synthetic_records(args.events, seed=1), root)
            print(f"wrote {args.events:,} records in {len(files):,} files in {time.perf_counter() - began:.1f} s")
        if not args.no_parse:
            count, seconds = parse_only(root)
            print(f"read + check + transform alone: {count:,} records in {seconds:.1f} s = {count / seconds:,.0f} records/s")

        backend = Neo4jBackend(settings)
        try:
            began = time.perf_counter()
            reset_store(backend)
            print(f"emptied the store in {time.perf_counter() - began:.1f} s")
            run_id = new_run_id()
            bulk = BulkLoad(backend, settings, run_id)
            ingest = Ingest(bulk.store, "bench", rejects_path=Path(tmp) / "bulk-rejects.jsonl", run_id=run_id, processes=args.processes)
            memory = PeakMemory()
            summary = bulk.load(ingest, FileSource([root]), [str(root)])
            peaks = memory.stop()
        finally:
            backend.close()
        bulk_seconds = summary.seconds
        print(f"\nbulk: {summary.loaded:,} events in {bulk_seconds:.1f} s = {summary.loaded / bulk_seconds:,.0f} events/s; {peaks}")
        for line in describe(bulk.times, summary.loaded):
            print(f"  {line}")

        if args.no_online:
            return
        backend = Neo4jBackend(settings)
        try:
            began = time.perf_counter()
            reset_store(backend)
            print(f"\nemptied the store in {time.perf_counter() - began:.1f} s")
            online_ingest = Ingest(backend, "bench", rejects_path=Path(tmp) / "online-rejects.jsonl", processes=args.processes)
            online = online_ingest.run(FileSource([root]), [str(root)])
        finally:
            backend.close()
        print(f"online: {online.loaded:,} events in {online.seconds:.1f} s = {online.loaded / online.seconds:,.0f} events/s")
        same = (online.read, online.loaded, online.duplicates, online.rejected) == (summary.read, summary.loaded, summary.duplicates, summary.rejected)
        print(f"\n{'':<8}{'events':>12}{'seconds':>10}{'events/s':>12}")
        print(f"{'bulk':<8}{summary.loaded:>12,}{bulk_seconds:>10.1f}{summary.loaded / bulk_seconds:>12,.0f}")
        print(f"{'online':<8}{online.loaded:>12,}{online.seconds:>10.1f}{online.loaded / online.seconds:>12,.0f}")
        print(f"summaries {'agree' if same else 'DIFFER'} (read, loaded, duplicates, rejected)")


if __name__ == "__main__":
    main()
