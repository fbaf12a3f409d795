"""Where a read command's time goes in the store: every statement it runs, by query name, slowest first.

Usage:
    python bench/statements.py blast-radius KEY      # on the embedded store in $KEYTRAIL_HOME
    python bench/statements.py stats --neo4j bolt://127.0.0.1:7687
    python bench/statements.py findings              # as `keytrail findings` builds it (counted in the store)
    python bench/statements.py findings --events     # every finding read and judged (`keytrail findings --events`)

It opens the store as a command does, builds the command's report in this process (no rendering),
and times each statement the backend runs, naming it by the ``.cypher`` file it came from. It prints
the slowest statements with the rows each returned, then the total time in the store and the total
time of the build. Compare with ``bench/commands.py``, which times the whole process, rendering
included. Nothing is asserted: this measures.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from keytrail.cli.settings import make_settings, open_store
from keytrail.graph.queries import _load_all
from keytrail.graph.runner import store_stats
from keytrail.report.blast_radius import build_blast_radius
from keytrail.report.findings import build_findings_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["blast-radius", "stats", "findings"])
    parser.add_argument("key", nargs="?", help="the access key (blast-radius)")
    parser.add_argument("--incident", "-i", default=None)
    parser.add_argument("--neo4j", default=os.environ.get("NEO4J_URI"), help="Neo4j Bolt URI (default: $NEO4J_URI; else the embedded store)")
    parser.add_argument("--events", action="store_true", help="findings: read every finding (keytrail findings --events)")
    parser.add_argument("--top", type=int, default=12, help="how many of the slowest statements to print")
    args = parser.parse_args()
    if args.command == "blast-radius" and not args.key:
        parser.error("blast-radius needs a KEY")

    names = {query.body: name for name, query in _load_all().items()}
    timed: list[tuple[float, str, int]] = []
    settings = make_settings(args.neo4j, None, None, os.environ.get("NEO4J_DATABASE", "neo4j"), None)
    with open_store(settings) as backend:
        read = backend.read

        def timed_read(statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            began = time.perf_counter()
            rows = read(statement, params)
            timed.append((time.perf_counter() - began, names.get(statement, "(unnamed) " + statement[:50]), len(rows)))
            return rows

        backend.read = timed_read  # type: ignore[method-assign]
        began = time.perf_counter()
        if args.command == "blast-radius":
            build_blast_radius(backend, args.key, args.incident)
        elif args.command == "stats":
            store_stats(backend)
        else:
            report = build_findings_report(backend, args.incident, events=args.events)
            print(f"{report.total:,} findings of {len(report.groups):,} credentials, {len(report.findings or []):,} listed")
        total = time.perf_counter() - began
    print(f"{'seconds':>8} {'rows':>9}  statement")
    for seconds, name, rows in sorted(timed, reverse=True)[: args.top]:
        print(f"{seconds:8.3f} {rows:9,}  {name}")
    print(f"{len(timed)} statements, {sum(t[0] for t in timed):.2f} s in the store, {total:.2f} s to build ({settings.store_description})")


if __name__ == "__main__":
    main()
