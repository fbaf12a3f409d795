"""Write throughput alone: rows built once up front, then only the writes timed, per write query and per store.

Usage:
    python bench/writes.py [--events 100000] [--batch-size N] [--neo4j bolt://127.0.0.1:7687]
                           [--skip-embedded] [--reset] [--profile]

Records come from keytrail.sample.synthetic_records (fixed seed). Every record is checked and
turned into rows (keytrail.graph.transform.event_rows), and the rows of each batch are reduced
(reduce_batch) before any store is touched, so what is timed is what the writer does: per batch,
one unit of writing (Backend.write_unit: the write lock, find_existing_events, every write
query, the commit) as keytrail/ingest.py runs it, and then the key statuses a load settles at
its end. ``--reset`` also times ``reset_store`` of the loaded store; ``--profile`` prints Neo4j's
PROFILE of each write query with the middle batch (on a second, scratch copy of that batch, rolled back).

The embedded store always runs unless ``--skip-embedded``; Neo4j runs when --neo4j (or
NEO4J_URI) is given, and starts by deleting keytrail's data from that store.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from keytrail.graph.backends import Backend, FalkorDBBackend, Neo4jBackend, Neo4jSettings, Run
from keytrail.graph.neo4j_local import credentials_for
from keytrail.graph.queries import get_query
from keytrail.graph.runner import reset_store, store_stats
from keytrail.graph.status import settle_key_statuses
from keytrail.graph.transform import event_rows, reduce_batch
from keytrail.graph.writer import DEFAULT_BATCH_SIZE, GraphWriter
from keytrail.loaders.records import check_record
from keytrail.sample.synthetic import synthetic_records

Rows = dict[str, list[dict[str, Any]]]


def build_batches(events: int, batch_size: int) -> tuple[list[tuple[list[str], Rows]], float]:
    """Every batch's eventIDs and reduced rows, as a load would send them; and the seconds it took."""
    began = time.perf_counter()
    batches: list[tuple[list[str], Rows]] = []
    ids: list[str] = []
    rows: Rows = {}
    seen: set[str] = set()
    for index, record in enumerate(synthetic_records(events, seed=1)):
        if check_record(record) is not None or record["eventID"] in seen:
            continue
        seen.add(record["eventID"])
        for name, produced in event_rows(record, origin="bench", index=index, incident="bench", run_id="bench").items():
            rows.setdefault(name, []).extend(produced)
        ids.append(record["eventID"])
        if len(ids) == batch_size:
            batches.append((ids, reduce_batch(rows)))
            ids, rows = [], {}
    if ids:
        batches.append((ids, reduce_batch(rows)))
    return batches, time.perf_counter() - began


def server_pid(backend: Backend) -> int | None:
    """The store's server process on this machine, to count its CPU time: the embedded redis-server, or a neo4j-local server."""
    if isinstance(backend, FalkorDBBackend):
        return backend.server_pid
    pid_file = local_home() / "run" / "neo4j-local.pid"
    ports_file = local_home() / "run" / "neo4j-local.ports"
    try:
        if ports_file.read_text().split()[0] == str(urlsplit(backend.location).port):
            return int(pid_file.read_text().strip())
    except (OSError, IndexError, ValueError):
        pass
    return None


def local_home() -> Path:
    return Path(os.environ.get("KEYTRAIL_NEO4J_HOME") or Path(__file__).resolve().parents[1] / ".cache" / "neo4j" / "home")


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU time of a process so far (0 when it is not known)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_batches(backend: Backend, batches: list[tuple[list[str], Rows]], batch_size: int) -> None:
    """Write every batch as ingest.py does, then settle the key statuses; print the figures.

    Besides wall time, the CPU time of this process and of the store's server is printed: on a
    machine shared with other work, wall time measures the neighbours too.
    """
    began = time.perf_counter()
    reset_store(backend)
    print(f"\n{backend.name}: reset of the previous data {time.perf_counter() - began:.1f} s")
    writer = GraphWriter(backend, batch_size)
    writer.ensure_schema()
    find_existing = get_query("find_existing_events").body
    timings = {"find_existing_events": 0.0, "units": 0.0}

    def unit(run: Run, ids: list[str], rows: Rows) -> int:
        began = time.perf_counter()
        found = run(find_existing, {"ids": ids})
        timings["find_existing_events"] += time.perf_counter() - began
        assert not found, "the store was not empty"
        writer.write_rows_in(run, rows)
        return len(ids)

    events = 0
    watcher = TransactionMemory(backend) if isinstance(backend, Neo4jBackend) else None
    pid = server_pid(backend)
    server_began, client_began = cpu_seconds(pid), time.process_time()
    began = time.perf_counter()
    for ids, rows in batches:
        unit_began = time.perf_counter()
        events += backend.write_unit(lambda run, ids=ids, rows=rows: unit(run, ids, rows), holder="bench")
        timings["units"] += time.perf_counter() - unit_began
    written = time.perf_counter() - began
    peak = watcher.stop() if watcher is not None else 0
    began = time.perf_counter()
    keys = settle_key_statuses(backend, writer)
    settled = time.perf_counter() - began
    began = time.perf_counter()
    backend.flush()
    flushed = time.perf_counter() - began
    total = written + settled + flushed
    server, client = cpu_seconds(pid) - server_began, time.process_time() - client_began
    print(
        f"{backend.name}: {events:,} events written in {written:.1f} s = {events / written:,.0f} events/s;"
        f" key statuses ({keys:,} keys) {settled:.1f} s; flush {flushed:.1f} s;"
        f" all {total:.1f} s = {events / total:,.0f} events/s"
    )
    if watcher is not None:
        hits, faults = watcher.faults
        print(
            f"  largest transaction seen: {peak / 2**20:,.0f} MiB of heap; page faults {faults:,} of {hits + faults:,} page accesses"
            " (SHOW TRANSACTIONS, every 0.2 s)"
        )
    if pid is not None:
        print(f"  CPU: server {server:.1f} s, this process {client:.1f} s = {events / (server + client):,.0f} events per CPU second")
    stats = writer.stats
    queries = sum(stats.seconds.values()) + timings["find_existing_events"]
    for name in sorted(stats.rows, key=lambda n: -stats.seconds[n]):
        rows_written, seconds = stats.rows[name], stats.seconds[name]
        print(f"  {name:<34} {rows_written:>10,} rows {seconds:>8.1f} s {rows_written / max(seconds, 1e-9):>12,.0f} rows/s")
    print(f"  {'find_existing_events':<34} {events:>10,} ids  {timings['find_existing_events']:>8.1f} s")
    print(f"  {'write lock, commit, driver':<34} {'':>15} {timings['units'] - queries:>8.1f} s")
    summary = store_stats(backend)
    print(f"  store: {summary['events']:,} events, {summary['nodes']:,} nodes, {summary['relationships']:,} relationships")


class TransactionMemory:
    """What Neo4j says of the open transactions, polled from a second session while the writes run: the largest
    heap estimate, and page hits and faults (each transaction's last reading; a rough share of the page cache misses)."""

    def __init__(self, backend: Neo4jBackend) -> None:
        self.peak = 0
        self.pages: dict[str, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._backend = backend
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        statement = "SHOW TRANSACTIONS YIELD transactionId AS id, estimatedUsedHeapMemory AS heap, pageHits AS hits, pageFaults AS faults"
        while not self._stop.wait(0.2):
            for row in self._backend.read(statement, {}):
                self.peak = max(self.peak, int(row["heap"] or 0))
                self.pages[row["id"]] = (int(row["hits"] or 0), int(row["faults"] or 0))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak

    @property
    def faults(self) -> tuple[int, int]:
        """Page hits and page faults of the transactions seen."""
        return sum(h for h, _ in self.pages.values()), sum(f for _, f in self.pages.values())


def time_reset(backend: Backend) -> None:
    began = time.perf_counter()
    deleted = reset_store(backend)
    print(f"{backend.name}: reset deleted {deleted:,} nodes in {time.perf_counter() - began:.1f} s")


def profile_neo4j(backend: Neo4jBackend, rows: Rows) -> None:
    """PROFILE of each write query with one real batch, in a transaction rolled back (the store keeps nothing of it)."""
    from keytrail.graph.transform import WRITE_ORDER

    driver = backend._driver
    with driver.session(database=backend._database) as session, session.begin_transaction() as tx:
        for name in WRITE_ORDER:
            if not rows.get(name):
                continue
            summary = tx.run("PROFILE " + get_query(name).body, {"rows": rows[name]}).consume()
            plan = summary.profile or {}
            print(f"\n-- {name}: {len(rows[name]):,} rows, {_db_hits(plan):,} db hits")
            _print_plan(plan, 1)
        tx.rollback()


def _db_hits(plan: dict[str, Any]) -> int:
    return int(plan.get("dbHits", 0)) + sum(_db_hits(child) for child in plan.get("children", []))


def _print_plan(plan: dict[str, Any], depth: int) -> None:
    args = plan.get("args", {})
    detail = str(args.get("Details", ""))[:110]
    print(f"{'  ' * depth}{plan.get('operatorType', '?'):<36} rows {plan.get('rows', 0):>8,} hits {plan.get('dbHits', 0):>9,}  {detail}")
    for child in plan.get("children", []):
        _print_plan(child, depth + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--neo4j", default=os.environ.get("NEO4J_URI"))
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--reset", action="store_true", help="time a reset of each loaded store at the end")
    parser.add_argument("--profile", action="store_true", help="print Neo4j's PROFILE of each write query with the middle batch")
    args = parser.parse_args()
    # Neo4j's warnings about property keys and types a store does not have yet (an empty store has none).
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    batches, seconds = build_batches(args.events, args.batch_size)
    built = sum(len(ids) for ids, _ in batches)
    print(f"built rows of {built:,} events in {len(batches):,} batches of {args.batch_size:,} in {seconds:.1f} s (not timed below)")
    with tempfile.TemporaryDirectory(prefix="keytrail-bench-") as tmp:
        if not args.skip_embedded:
            embedded = FalkorDBBackend(Path(tmp) / "store")
            try:
                write_batches(embedded, batches, args.batch_size)
                if args.reset:
                    time_reset(embedded)
            finally:
                embedded.close()
        if args.neo4j:
            user, password = credentials_for(args.neo4j, os.environ.get("NEO4J_USERNAME"), os.environ.get("NEO4J_PASSWORD"))
            neo4j = Neo4jBackend(Neo4jSettings(args.neo4j, user, password))
            try:
                write_batches(neo4j, batches, args.batch_size)
                if args.profile:
                    # A scratch copy of the middle batch, with new eventIDs, so that its events are new to the store.
                    profile_neo4j(neo4j, _renamed(batches[len(batches) // 2][1]))
                if args.reset:
                    time_reset(neo4j)
            finally:
                neo4j.close()


def _renamed(rows: Rows) -> Rows:
    """The batch with every eventID made new (what the Event queries key on), so that a profile writes new events."""

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ("profile-" + v if k == "eventID" and isinstance(v, str) else rename(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    return {name: [rename(row) for row in batch] for name, batch in rows.items()}


if __name__ == "__main__":
    main()
