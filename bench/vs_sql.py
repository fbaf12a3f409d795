"""Benchmark: keytrail against SQL (DuckDB) on the AWS CIRT workshop's questions, whole commands, one run.

Generates N events (default 1,000,000) with the workshop incident inside, written as a trail's S3 bucket
holds them (gzipped ``{"Records": [...]}`` files per account, region and 5-minute window, digests beside
them), some records delivered twice as CloudTrail does. Then it times, on the same files:

1. DuckDB, per question: the workshop's eight Athena questions (../shared/seed/) in DuckDB's SQL, each
   reading the files, as the write-up asks them (no de-duplication).
2. DuckDB, table: the files read once into a table de-duplicated on eventID, then the same questions.
3. keytrail, on each store (embedded FalkorDB; Neo4j when --neo4j or NEO4J_URI is given): ``keytrail load``,
   then one ``keytrail query NAME --json`` process per question, then ``keytrail blast-radius KEY --json``,
   each a whole process as a responder runs it. The Neo4j run starts with ``keytrail reset --yes`` (not timed):
   point it at a server you can wipe.

It prints the times, the totals, the ratios against the targets (keytrail's total at most 1/5 of the
per-question SQL total, and no more than the DuckDB table's load plus answers), and, per question, whether
keytrail's answer agrees with DuckDB's de-duplicated one and how many rows the as-delivered SQL returned.
DuckDB runs in this process with 2 threads (--threads). Nothing is asserted: this measures.

    PYTHONPATH=. python bench/vs_sql.py                          # 1,000,000 events
    PYTHONPATH=. python bench/vs_sql.py --events 50000 --stores embedded
    PYTHONPATH=. python bench/vs_sql.py --events 200000 --neo4j bolt://127.0.0.1:7687 --keep /tmp/vs-sql-logs
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sql_questions as sq  # bench/ is not a package

REPO = Path(__file__).resolve().parents[1]
NEO4J_VARIABLES = ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE")


# --------------------------------------------------------------------------- the machine


def _cpuinfo_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (" (uncommitted changes)" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def _neo4j_server(uri: str) -> str:
    from keytrail.graph.backends import Neo4jBackend, Neo4jSettings
    from keytrail.graph.neo4j_local import credentials_for

    try:
        user, password = credentials_for(uri, os.environ.get("NEO4J_USERNAME"), os.environ.get("NEO4J_PASSWORD"))
        backend = Neo4jBackend(Neo4jSettings(uri, user, password, os.environ.get("NEO4J_DATABASE", "neo4j")))
        try:
            rows = backend.read("CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition", {})
        finally:
            backend.close()
        return ", ".join(f"{r['name']} {'/'.join(r['versions'])} {r['edition']}" for r in rows)
    except Exception as exc:  # a figure, not a failure: the run itself says whether Neo4j answers
        return f"unknown ({type(exc).__name__})"


def print_machine(threads: int, neo4j: str | None) -> None:
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"machine:  {cores} cores ({usable} usable), {_cpuinfo_model()}, {_ram()} RAM; {platform.system()} {platform.release()}; load average {load}")
    versions = [
        f"Python {platform.python_version()}",
        f"DuckDB {duckdb.__version__} ({threads} threads, in this process)",
        f"keytrail {_version('keytrail')} at {_commit()}",
        f"falkordblite {_version('falkordblite')} (FalkorDB client {_version('FalkorDB')})",
        f"neo4j driver {_version('neo4j')}",
    ]
    if neo4j:
        versions.append(f"Neo4j server {_neo4j_server(neo4j)}")
    print("versions: " + "; ".join(versions))


# --------------------------------------------------------------------------- keytrail as a responder runs it


@dataclass
class StoreRun:
    store: str
    description: str
    reset_seconds: float | None = None
    load_seconds: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)
    answers: list[tuple[sq.Question, float, list[dict[str, Any]]]] = field(default_factory=list)
    blast_seconds: float = 0.0
    blast: dict[str, Any] = field(default_factory=dict)

    @property
    def answers_seconds(self) -> float:
        return sum(seconds for _, seconds, _ in self.answers)

    @property
    def total(self) -> float:
        return self.load_seconds + self.answers_seconds + self.blast_seconds


def keytrail(args: list[str], env: dict[str, str], *, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    """Run ``keytrail ARGS`` as its own process; (seconds, stdout)."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "keytrail", *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode not in ok:
        raise SystemExit(f"keytrail {' '.join(args)} exited {done.returncode}:\n{done.stderr.strip()}")
    return seconds, done.stdout


def run_store(store: str, generated: sq.Generated, scratch: Path, neo4j: str | None) -> StoreRun:
    env = {k: v for k, v in os.environ.items() if k not in NEO4J_VARIABLES}
    env["KEYTRAIL_HOME"] = str(scratch / f"keytrail-home-{store}")  # the embedded store, or only the rejects file
    options: list[str] = []
    run = StoreRun(store, f"embedded FalkorDB in {env['KEYTRAIL_HOME']}")
    if store == "neo4j":
        assert neo4j is not None
        for name in ("NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
            if name in os.environ:
                env[name] = os.environ[name]
        options = ["--neo4j", neo4j]
        run.description = f"Neo4j at {neo4j}"
        run.reset_seconds, _ = keytrail([*options, "reset", "--yes"], env)
    print(f"  keytrail on {run.description}: load ...", flush=True)
    run.load_seconds, out = keytrail([*options, "load", str(generated.root), "--incident", "workshop", "--json"], env)
    run.summary = json.loads(out)
    for question in sq.QUESTIONS:
        seconds, out = keytrail([*options, *question.keytrail_args(generated.facts)], env)
        run.answers.append((question, seconds, json.loads(out)))
    run.blast_seconds, out = keytrail([*options, "blast-radius", generated.facts.leaked_key.access_key_id, "--json"], env)
    run.blast = json.loads(out)
    print(f"  keytrail on {run.description}: {run.total:,.1f} s", flush=True)
    return run


# --------------------------------------------------------------------------- printing


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int] | None = None) -> None:
    right = right if right is not None else set(range(1, len(header)))
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    print("  " + line(header))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print("  " + line(row))


def s(seconds: float) -> str:
    return f"{seconds:,.2f}" if seconds < 100 else f"{seconds:,.0f}"


def short(answer: sq.Answer, limit: int = 6) -> str:
    rows = [" | ".join("-" if v is None else v for v in row) for row in answer]
    text = "; ".join(rows[:limit]) + (f"; ... ({len(rows)} rows)" if len(rows) > limit else "")
    return text or "(no rows)"


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "missed"


def report(
    generated: sq.Generated,
    files: list[sq.Asked],
    table_load: tuple[float, int],
    in_table: list[sq.Asked],
    runs: list[StoreRun],
    con: duckdb.DuckDBPyConnection,
    threads: int,
) -> None:
    files_total = sum(a.seconds for a in files)
    table_answers = sum(a.seconds for a in in_table)
    table_total = table_load[0] + table_answers

    print(f"\nSeconds per question (DuckDB: {threads} threads; keytrail: one `keytrail query NAME --json` process each)")
    header = ("question", "DuckDB, each reads the files", "DuckDB, of the table", *(f"keytrail {r.store}" for r in runs))
    rows = []
    for i, question in enumerate(sq.QUESTIONS):
        rows.append((f"Q{question.number} {question.name}", s(files[i].seconds), f"{in_table[i].seconds:.4f}", *(s(r.answers[i][1]) for r in runs)))
    table(header, rows)

    print("\nTotals, seconds")
    header = ("method", "load", "answers", "blast-radius", "total")
    rows = [
        ("DuckDB per question (each scans the files)", "-", s(files_total), "-", s(files_total)),
        (f"DuckDB table (read once, {table_load[1]:,} rows, de-duplicated)", s(table_load[0]), s(table_answers), "-", s(table_total)),
    ]
    for r in runs:
        rows.append((f"keytrail, {r.store} store", s(r.load_seconds), s(r.answers_seconds), s(r.blast_seconds), s(r.total)))
    table(header, rows)
    for r in runs:
        print(f"  keytrail {r.store}: {r.description}")
    for r in runs:
        if r.reset_seconds is not None:
            print(f"  (keytrail reset --yes on {r.description} before the run: {s(r.reset_seconds)} s, not counted)")

    if runs:
        print("\nTargets (keytrail's total = load + the eight answers + blast-radius)")
        header = ("store", "keytrail / SQL per question", "target", "", "keytrail / DuckDB table", "target", "")
        rows = []
        for r in runs:
            a = r.total / files_total if files_total else float("inf")
            b = r.total / table_total if table_total else float("inf")
            rows.append((r.store, f"{a:.2f}", "<= 0.20", verdict(a, 0.20), f"{b:.2f}", "<= 1.00", verdict(b, 1.00)))
        table(header, rows, right={1, 2, 4, 5})

    print("\nAnswers (keytrail's against DuckDB's de-duplicated ones; rows as delivered: the per-question SQL, re-deliveries counted)")
    header = ("question", "compared", "rows as delivered", "rows de-duplicated", *(f"{r.store} rows" for r in runs), *(f"{r.store} agrees" for r in runs))
    rows = []
    disagreements: list[tuple[StoreRun, sq.Comparison]] = []
    for i, question in enumerate(sq.QUESTIONS):
        comparisons = [sq.compare(question, r.answers[i][2], in_table[i], files[i], generated.facts) for r in runs]
        for r, c in zip(runs, comparisons, strict=True):
            if not c.agrees:
                disagreements.append((r, c))
        rows.append(
            (
                f"Q{question.number} {question.name}",
                question.compares,
                f"{files[i].rows:,}",
                f"{in_table[i].rows:,}",
                *(f"{c.keytrail_rows:,}" for c in comparisons),
                *("yes" if c.agrees else "NO" for c in comparisons),
            )
        )
    table(header, rows, right={2, 3, *range(4, 4 + len(runs))})
    same_as_delivered = [f"Q{a.question.number}" for a, b in zip(files, in_table, strict=True) if a.answer == b.answer]
    print(f"  as-delivered answer equal to the de-duplicated one: {', '.join(same_as_delivered) or 'none'} (LIMIT 1 and DISTINCT hide re-deliveries)")

    print("\nChecks")
    print(f"  DuckDB table rows = events generated: {table_load[1]:,} = {generated.events:,}: {'yes' if table_load[1] == generated.events else 'NO'}")
    for r in runs:
        m = r.summary
        written = (generated.records_written, generated.events, len(generated.duplicated), 0)
        balanced = (m.get("read"), m.get("loaded"), m.get("duplicates"), m.get("rejected")) == written
        print(
            f"  keytrail load on {r.store}: read {m.get('read', 0):,} = {m.get('loaded', 0):,} loaded + {m.get('duplicates', 0):,} duplicates"
            f" + {m.get('rejected', 0):,} rejected; as written: {'yes' if balanced else 'NO'}"
        )
        blast = r.blast
        print(
            f"  blast-radius on {r.store}: found {blast.get('found')}, {len(blast.get('credentials') or [])} credentials,"
            f" {len(blast.get('findings') or [])} findings, {len(blast.get('timeline') or [])} timeline entries"
        )

    for r, c in disagreements:
        print(f"\nDISAGREEMENT on {r.store}, Q{c.question.number} {c.question.name}: {c.question.asks}")
        print(f"  keytrail `{' '.join(c.question.keytrail_args(generated.facts))}`: {short(c.keytrail)}")
        print(f"    eventIDs: {', '.join(c.keytrail_event_ids) or '(none returned)'}")
        print(f"  DuckDB (de-duplicated): {short(c.deduplicated)}")
        print(f"    eventIDs: {', '.join(e for e, _, _ in sq.evidence(con, c.question, generated.facts)) or '(none)'}")
    if runs and not disagreements:
        print("\nEvery keytrail answer agrees with DuckDB's de-duplicated answer on every store.")


def print_data(generated: sq.Generated, root: Path, every: int) -> None:
    synthetic = generated.events - generated.workshop_events
    twice = (
        f"{len(generated.duplicated):,} of them delivered twice (1 record in {every}; {len(generated.chosen)} attacker's calls held back to be among them)"
        if every > 0
        else "none delivered twice"
    )
    print(f"data:     {generated.events:,} events ({synthetic:,} synthetic + {generated.workshop_events} of the workshop, all on 2026-01-07), {twice}")
    print(
        f"          {generated.records_written:,} records in {len(generated.log_files):,} log files ({generated.gzip_bytes / 1e6:,.1f} MB gzipped)"
        f" + {generated.digest_files:,} digests under {root}; written in {generated.seconds:,.1f} s"
    )
    f = generated.facts
    leaked = f"{f.leaked_key.access_key_id} ({f.leaked_key.user_name})"
    print(f"          leaked key {leaked}; it created {f.dormant_key.access_key_id} and {f.active_key.access_key_id}")


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="distinct events, the workshop's included (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic background")
    parser.add_argument("--duplicate-every", type=int, default=100, help="deliver every k-th record twice (plus three of the attacker's); 0: none")
    parser.add_argument("--keep", type=Path, default=None, help="write the log files into this (new or empty) folder and keep them")
    parser.add_argument("--stores", default=None, help="comma-separated: embedded,neo4j (default: both when a Neo4j URI is known, else embedded)")
    parser.add_argument("--skip-neo4j", action="store_true", help="only the embedded store")
    parser.add_argument("--neo4j", default=os.environ.get("NEO4J_URI"), help="Neo4j Bolt URI (default: $NEO4J_URI); its keytrail data is deleted first")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    args = parser.parse_args()

    stores = [x.strip() for x in args.stores.split(",") if x.strip()] if args.stores else ["embedded", *(["neo4j"] if args.neo4j else [])]
    if args.skip_neo4j:
        stores = [x for x in stores if x != "neo4j"]
    unknown = [x for x in stores if x not in ("embedded", "neo4j")]
    if unknown:
        parser.error(f"unknown store {', '.join(unknown)}; choose from embedded, neo4j")
    if "neo4j" in stores and not args.neo4j:
        parser.error("--stores neo4j needs --neo4j URI or NEO4J_URI")
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: not empty (the files of another run would be read too)")

    print(f"keytrail vs SQL: the AWS CIRT workshop's questions on {args.events:,} events (seed {args.seed})")
    print_machine(args.threads, args.neo4j if "neo4j" in stores else None)
    scratch = Path(tempfile.mkdtemp(prefix="keytrail-vs-sql-"))
    try:
        root = args.keep if args.keep is not None else scratch / "bucket"
        generated = sq.generate(root, args.events, args.seed, args.duplicate_every)
        print_data(generated, root, args.duplicate_every)

        print("\nRunning", flush=True)
        con = sq.connect(args.threads)
        print("  DuckDB per question ...", flush=True)
        files = sq.ask_files(con, generated.glob, generated.facts)
        print("  DuckDB table ...", flush=True)
        table_load = sq.load_table(con, generated.glob)
        in_table = sq.ask_table(con, generated.facts)
        runs = [run_store(store, generated, scratch, args.neo4j) for store in stores]
        report(generated, files, table_load, in_table, runs, con, args.threads)
        print(f"\nload average at the end: {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
