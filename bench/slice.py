"""Benchmark: what loading a leaked key's slice of an organisation trail's day costs, in two passes.

Generates one day of an organisation trail (default 5,000,000 events: see docs/cloud-sources.md, "Cutting a
key's slice with Athena", for the published figures and the assumption behind that number) with the AWS CIRT
workshop incident inside, written as the trail's bucket holds it (gzipped ``{"Records": [...]}`` files per
account, region and 5-minute window). Then, as a responder would with Athena:

1. pass 1: the slice of the leaked key (``keytrail load athena://… --key KEY``);
2. pass 2: the slice of what the store says the key reached (``keytrail load athena://… --follow KEY``: the
   keys it created or derived, the principals it created or reached), derived by the same code the command
   runs (``keytrail.cli.follow.derive_filters``) from the store pass 1 filled;
3. ``keytrail blast-radius KEY --json`` on the store both passes filled.

There is no Athena here. **DuckDB stands in for it**: each pass's slice is cut by DuckDB over the same files,
with the WHERE clause and the execution parameters that keytrail's Athena query builder
(``keytrail.loaders.athena.build_query``) produces for the table the CloudTrail documentation defines
(``timestamp`` partition projected as ``yyyy/MM/dd``), the partition value read from each file's folder. The
slice is written as JSON lines and loaded with ``keytrail load`` (a whole process, as a responder runs it);
Athena would hand the same records to ``keytrail load athena://…``. What Athena would bill for each pass is
printed from the bytes it would scan (the day's gzipped files, $5/TB): DuckDB's time is not Athena's.

    PYTHONPATH=. python bench/slice.py                        # 5,000,000 events
    PYTHONPATH=. python bench/slice.py --events 200000 --keep /tmp/slice

Nothing is asserted: this measures (tests/unit/test_slice.py runs it at a tiny scale and checks the slices).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sql_questions as sq  # bench/ is not a package

from keytrail.cli.follow import FollowFilters, derive_filters
from keytrail.graph.backends import open_backend
from keytrail.loaders.athena import AthenaQuery, build_query, cost_of, plan_partitions, shape_from_glue
from keytrail.loaders.base import TimeWindow

REPO = Path(__file__).resolve().parents[1]
DAY = TimeWindow(datetime(2026, 1, 7, tzinfo=UTC), datetime(2026, 1, 7, 23, 59, 59, tzinfo=UTC))
INCIDENT = "slice"

#: The columns of the table the CloudTrail documentation creates that the slice's predicate reads (Glue's shape).
IDENTITY_TYPE = (
    "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string,"
    "sessioncontext:struct<sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>>>"
)
TABLE = {
    "Table": {
        "Name": "cloudtrail_logs",
        "PartitionKeys": [{"Name": "timestamp", "Type": "string"}],
        "Parameters": {"projection.enabled": "true", "projection.timestamp.type": "date", "projection.timestamp.format": "yyyy/MM/dd"},
        "StorageDescriptor": {
            "Columns": [
                {"Name": "eventid", "Type": "string"},
                {"Name": "eventtime", "Type": "string"},
                {"Name": "eventsource", "Type": "string"},
                {"Name": "eventname", "Type": "string"},
                {"Name": "awsregion", "Type": "string"},
                {"Name": "recipientaccountid", "Type": "string"},
                {"Name": "useridentity", "Type": IDENTITY_TYPE},
            ]
        },
    }
}

#: The same table in DuckDB over the trail's files, ``cloudtrail_logs(files)``: one row per record as delivered, the
#: whole record kept as JSON text (``record``), the columns the predicate reads extracted from it, and ``timestamp``
#: from the file's day folder. The file glob is the macro's argument, a parameter: no SQL text is built from data.
TABLE_MACRO = """
CREATE OR REPLACE MACRO cloudtrail_logs(files) AS TABLE
SELECT record,
       json_extract_string(record, '$.eventID') AS eventid,
       json_extract_string(record, '$.eventTime') AS eventtime,
       json_extract_string(record, '$.eventSource') AS eventsource,
       json_extract_string(record, '$.eventName') AS eventname,
       json_extract_string(record, '$.awsRegion') AS awsregion,
       json_extract_string(record, '$.recipientAccountId') AS recipientaccountid,
       {'accesskeyid': json_extract_string(record, '$.userIdentity.accessKeyId'),
        'arn': json_extract_string(record, '$.userIdentity.arn'),
        'sessioncontext': {'sessionissuer': {'arn': json_extract_string(record, '$.userIdentity.sessionContext.sessionIssuer.arn')}}} AS useridentity,
       regexp_extract(filename, '/CloudTrail/[^/]+/([0-9]{4}/[0-9]{2}/[0-9]{2})/', 1) AS "timestamp"
FROM (
    SELECT unnest(from_json(json, '{"Records": ["JSON"]}').Records)::VARCHAR AS record, filename
    FROM read_json_objects(files, format = 'unstructured', maximum_object_size = 67108864, filename = true)
)
"""


def shape() -> Any:
    return shape_from_glue("trail", "cloudtrail_logs", TABLE)


def slice_query(keys: Sequence[str], principals: Sequence[str]) -> AthenaQuery:
    """The query ``keytrail load athena://trail.cloudtrail_logs --start/--end DAY --key … --principal …`` sends."""
    table = shape()
    return build_query(table, plan_partitions(table), DAY, keys=keys, principals=principals, margin_days=0)


def parameter_value(literal: str) -> str:
    """An Athena execution parameter (a single-quoted SQL literal) back to its value, for DuckDB's ``?``."""
    if not (literal.startswith("'") and literal.endswith("'")):
        raise ValueError(f"not a quoted literal: {literal!r}")
    return literal[1:-1].replace("''", "'")


def duckdb_where(query: AthenaQuery) -> tuple[str, list[str]]:
    """The WHERE clause of keytrail's Athena query as it is, and its parameters as DuckDB takes them."""
    head, found, where = query.sql.partition("\nWHERE ")
    if not found or "?" in head:
        raise ValueError("the Athena query has no WHERE clause, or placeholders outside it")
    return where, [parameter_value(p) for p in query.parameters]


def cut(con: duckdb.DuckDBPyConnection, files: str, query: AthenaQuery, out: Path) -> tuple[float, int]:
    """Write the records of ``files`` that the query keeps to ``out`` (JSON lines); seconds taken and records written."""
    where, params = duckdb_where(query)
    began = time.perf_counter()
    rows = con.execute(f"SELECT record FROM cloudtrail_logs(?) WHERE {where}", [files, *params]).fetchall()
    with out.open("w") as handle:
        for (record,) in rows:
            handle.write(record + "\n")
    return time.perf_counter() - began, len(rows)


def connect(threads: int) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``threads`` threads and the ``cloudtrail_logs(files)`` macro."""
    con = duckdb.connect(config={"threads": threads})
    con.execute(TABLE_MACRO)
    return con


@dataclass
class Pass:
    name: str
    keys: tuple[str, ...]
    principals: tuple[str, ...]
    cut_seconds: float = 0.0
    records: int = 0
    load_seconds: float = 0.0
    loaded: int = 0
    duplicates: int = 0


def keytrail(env: dict[str, str], *words: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "keytrail", *words], env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"keytrail {' '.join(words)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, done


def run(events: int, work: Path, *, seed: int = 1, threads: int = 2) -> dict[str, Any]:
    """Generate, cut and load both passes, and answer the blast radius; every figure, as a dict."""
    bucket, home = work / "bucket", work / "home"
    generated = sq.generate(bucket, events, seed=seed, duplicate_every=0)
    key = generated.facts.leaked_key.access_key_id
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), NEO4J_URI="")
    con = connect(threads)
    began = time.perf_counter()
    day_records = int(con.execute("SELECT count(*) FROM cloudtrail_logs(?)", [generated.glob]).fetchone()[0])  # type: ignore[index]
    scan_seconds = time.perf_counter() - began

    passes = [Pass("pass 1 (--key)", (key,), ())]
    followed: FollowFilters | None = None
    for number in (1, 2):
        if number == 2:
            backend = open_backend(None, home)
            try:
                followed = derive_filters(backend, key, INCIDENT)
            finally:
                backend.close()
            passes.append(Pass("pass 2 (--follow)", followed.key_ids, followed.principal_arns))
        current = passes[-1]
        out = work / f"pass{number}.jsonl"
        current.cut_seconds, current.records = cut(con, generated.glob, slice_query(current.keys, current.principals), out)
        seconds, done = keytrail(env, "--home", str(home), "load", str(out), "--incident", INCIDENT, "--json")
        summary = json.loads(done.stdout)
        current.load_seconds, current.loaded, current.duplicates = seconds, summary["loaded"], summary["duplicates"]
    blast_seconds, done = keytrail(env, "--home", str(home), "blast-radius", key, "--incident", INCIDENT, "--json")
    report = json.loads(done.stdout)
    return {
        "events": events,
        "day_records": day_records,
        "gzip_bytes": generated.gzip_bytes,
        "files": len(generated.log_files),
        "generate_seconds": generated.seconds,
        "scan_seconds": scan_seconds,
        "key": key,
        "passes": passes,
        "followed": followed,
        "blast_seconds": blast_seconds,
        "blast_credentials": len(report.get("credentials") or []),
        "report": report,
    }


def print_figures(found: dict[str, Any], threads: int) -> None:
    day, gz = found["day_records"], found["gzip_bytes"]
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"machine:  {os.cpu_count()} cores, load average {load} at the end (other work shares them); DuckDB {duckdb.__version__}")
    files = f"{found['files']:,} gzipped files, {gz / 1e6:,.1f} MB"
    print(f"day:      {found['events']:,} events generated ({day:,} records in {files}) in {found['generate_seconds']:.1f} s")
    print(f"          DuckDB ({threads} threads) reads the whole day once in {found['scan_seconds']:.1f} s (count(*): every byte Athena would scan)")
    print("Athena stand-in: DuckDB over the same files, with the WHERE clause and parameters of keytrail's Athena query (not Athena: its time differs)")
    print(f"Athena would scan the day's {gz / 1e6:,.1f} MB per pass: about ${cost_of(gz):.4f} a pass at $5/TB")
    followed = found["followed"]
    if followed is not None:
        print(f"pass 2 filters, from the store pass 1 filled: --key {' --key '.join(followed.key_ids)}")
        print(f"               --principal {' --principal '.join(followed.principal_arns) or '(none)'}")
    total = 0.0
    for p in found["passes"]:
        share = p.records / day if day else 0.0
        total += p.cut_seconds + p.load_seconds
        print(
            f"{p.name:18} {len(p.keys)} keys, {len(p.principals)} principals: slice {p.records:,} records = {share:.4%} of the day; "
            f"cut {p.cut_seconds:.1f} s; keytrail load {p.load_seconds:.1f} s ({p.loaded:,} new events, {p.duplicates:,} already stored)"
        )
    print(f"blast-radius --json: {found['blast_seconds']:.1f} s ({found['blast_credentials']} credentials in the report)")
    print(f"both passes, cut + load, then the report: {total + found['blast_seconds']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5_000_000, help="events in the day (default 5,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    parser.add_argument("--keep", type=Path, help="work here and keep the files (default: a temporary directory, removed)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="keytrail-slice-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print_figures(run(args.events, work, seed=args.seed, threads=args.threads), args.threads)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
