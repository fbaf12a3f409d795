"""What a read command costs as a whole process on a large store: cold, then warm.

Usage:
    python bench/commands.py [--events 50000] [--home DIR] [--logs DIR] [--neo4j URI] [--repeat 3]

Synthetic records (``keytrail.sample.synthetic_records``, fixed seed) are written as gzipped
S3 log files (into ``--logs DIR`` and kept, or reused when that folder already holds them) and
loaded by ``keytrail load`` into a fresh embedded store (or ``--home DIR``, loaded only if it
holds no events yet), or with ``--neo4j URI`` into that Neo4j (loaded only if it holds no
events). Then each read command runs as its own process, ``python -m keytrail ...``, exactly
as a user runs it:

* ``cold``: on the embedded store, no store server is running (``keytrail store stop`` first),
  so the command starts one and waits while it reads the whole snapshot file; on Neo4j, the
  command's first run;
* ``warm``: right after, ``--repeat`` more times; the median is printed. With a keytrail that
  keeps its server running between commands, these connect to it (``same server``: the
  recorded server's pid did not change).

Each figure is the wall time from starting the process to its exit. The script checks every
command exits 0. Nothing is asserted: this measures. To measure another checkout, run this
file with ``PYTHONPATH`` pointing at it (a keytrail without ``keytrail store`` measures cold
every time: its ``store stop`` fails and is ignored).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from keytrail.sample import ATTACKER_NET
from keytrail.sample.layout import write_s3_layout
from keytrail.sample.synthetic import synthetic_records

SEED = 3


def leaked_key(events: int) -> str:
    """The leaked key of the attack chain in the middle of the stream (the key that calls CreateAccessKey from the attacker's net)."""
    keys = [
        record["userIdentity"]["accessKeyId"]
        for record in synthetic_records(events, seed=SEED)
        if record["eventName"] == "CreateAccessKey" and str(record.get("sourceIPAddress", "")).startswith(ATTACKER_NET)
    ]
    if not keys:
        raise SystemExit("no attack chain in that many events; use --events 20000 or more")
    return str(keys[len(keys) // 2])


def keytrail(env: dict[str, str], *words: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "keytrail", *words], env=env, capture_output=True, text=True, timeout=3600)
    return time.perf_counter() - began, done


def checked(env: dict[str, str], *words: str) -> float:
    seconds, done = keytrail(env, *words)
    if done.returncode != 0:
        raise SystemExit(f"keytrail {' '.join(words)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def server_pid(home: Path) -> int | None:
    """The pid of the store's server as keytrail recorded it (None: no server kept, as with a keytrail that keeps none)."""
    try:
        return int(orjson.loads((home / "keytrail.server").read_bytes())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def stop_server(env: dict[str, str]) -> None:
    keytrail(env, "store", "stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--home", type=Path, default=None, help="the store's folder (default: a temporary one); loaded only if empty")
    parser.add_argument("--logs", type=Path, default=None, help="write the log files here and keep them; reused if it holds .json.gz files")
    parser.add_argument("--neo4j", default=None, help="Neo4j Bolt URI: measure that store instead (loaded only if it holds no events)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per command (the median is printed)")
    args = parser.parse_args()

    key = leaked_key(args.events)
    with tempfile.TemporaryDirectory(prefix="keytrail-commands-") as tmp:
        home = args.home or Path(tmp) / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
        env["KEYTRAIL_HOME"] = str(home)
        if args.neo4j:
            env["NEO4J_URI"] = args.neo4j
        env.pop("KEYTRAIL_STORE_IDLE_SECONDS", None)  # the default: what a user gets
        # An installed keytrail has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE would compile every module every time.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        try:
            _, done = keytrail(env, "stats", "--json")
            held = orjson.loads(done.stdout)["events"] if done.returncode == 0 else 0
            if held == 0:
                logs = args.logs or Path(tmp) / "logs"
                if logs.is_dir() and any(logs.rglob("*.json.gz")):
                    print(f"reusing the log files in {logs}")
                else:
                    began = time.perf_counter()
                    write_s3_layout(synthetic_records(args.events, seed=SEED), logs)
                    print(f"wrote {args.events:,} synthetic events as S3 log files in {time.perf_counter() - began:.0f} s")
                seconds = checked(env, "load", str(logs), "--incident", "bench", "--json")
                print(f"keytrail load: {seconds:.0f} s")
            else:
                print(f"reusing the {held:,} events in {home}")
            if args.neo4j:
                print(f"store: Neo4j at {args.neo4j}; key {key}")
            else:
                store = home / "keytrail.db"
                print(f"store: {home} (snapshot {store.stat().st_size / 1024 / 1024:,.0f} MiB); key {key}")
            commands = [
                ["stats"],
                ["query", "key-first-use", "--param", f"key={key}"],
                ["blast-radius", key],
                ["findings"],
            ]
            print(f"{'command':<34} {'cold s':>8} {'warm s (median of ' + str(args.repeat) + ')':>24} {'same server':>12}")
            for words in commands:
                if not args.neo4j:
                    stop_server(env)
                cold = checked(env, *words)
                first = server_pid(home)
                warm = [checked(env, *words) for _ in range(args.repeat)]
                same = "-" if first is None else "yes" if server_pid(home) == first else "no"
                shown = " ".join(words).replace(key, "KEY")
                print(f"{shown:<34} {cold:>8.2f} {statistics.median(warm):>24.2f} {same:>12}")
        finally:
            if not args.neo4j:
                stop_server(env)


if __name__ == "__main__":
    main()
