"""What a load costs the machine: peak memory of keytrail and of the store, descriptors, temporary files.

Usage:
    python bench/resources.py [--events 50000 500000] [--neo4j bolt://127.0.0.1:7687] [--skip-embedded]
        [--logs DIR] [--bulk] [--processes N] [--after stats reset]

For each size, synthetic records (keytrail.sample.synthetic_records, fixed seed) are written as
gzipped S3 log files (into ``DIR/<events>`` with --logs, kept and reused), then ``keytrail load`` runs
as its own process into a fresh embedded store and, with --neo4j (or NEO4J_URI), into that Neo4j (its
keytrail data deleted first; ``--bulk`` loads it with ``load --bulk``). While it runs, this script
samples every 0.1 s the resident memory and open descriptors of the keytrail process, the memory of
keytrail with its worker processes (``--processes``), and those of the store's server (the embedded
redis-server, or the Neo4j java process listening on the Bolt port), and counts the entries keytrail
leaves in the temporary directory. Peaks are printed. ``--after`` then runs each command named
(``stats``, which lists the incidents, and ``reset``) on the loaded store as its own process and prints its time, exit
status and the store's peak memory meanwhile.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psutil

from keytrail.sample.layout import write_s3_layout
from keytrail.sample.synthetic import synthetic_records


@dataclass
class Peaks:
    rss: dict[str, int] = field(default_factory=dict)
    fds: dict[str, int] = field(default_factory=dict)

    def sample(self, role: str, process: psutil.Process) -> None:
        try:
            with process.oneshot():
                self.rss[role] = max(self.rss.get(role, 0), process.memory_info().rss)
                self.fds[role] = max(self.fds.get(role, 0), process.num_fds())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass


def workers_of(keytrail: psutil.Process) -> list[psutil.Process]:
    """keytrail's worker processes (``python -m keytrail.prepare``); the store's server is not one."""
    found = []
    try:
        children = keytrail.children(recursive=True)
    except psutil.Error:
        return []
    for child in children:
        try:
            if "keytrail.prepare" in child.cmdline():
                found.append(child)
        except psutil.Error:
            continue
    return found


def rss_of(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def _store_process(keytrail: psutil.Process, neo4j_port: int | None) -> psutil.Process | None:
    if neo4j_port is not None:
        for connection in psutil.net_connections("tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == neo4j_port and connection.pid:
                return psutil.Process(connection.pid)
        return None
    try:
        home = Path(keytrail.environ().get("KEYTRAIL_HOME", ""))
    except psutil.Error:
        return None
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == "redis-server" and Path(process.cwd()) == home:
                return process
        except psutil.Error:
            continue
    return None


def measure(root: Path, env: dict[str, str], neo4j_port: int | None, options: list[str]) -> tuple[Peaks, float, int]:
    scratch = Path(tempfile.mkdtemp(prefix="keytrail-tmp-"))
    env = dict(env, TMPDIR=str(scratch))
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "keytrail", "load", str(root), "--incident", "bench", "--json", *options], env=env, stdout=subprocess.DEVNULL
    )
    keytrail = psutil.Process(child.pid)
    peaks = Peaks()
    store: psutil.Process | None = None
    workers: list[psutil.Process] = []
    while child.poll() is None:
        peaks.sample("keytrail", keytrail)
        workers = workers or workers_of(keytrail)
        together = rss_of([keytrail, *workers])
        peaks.rss["with workers"] = max(peaks.rss.get("with workers", 0), together)
        store = store or _store_process(keytrail, neo4j_port)
        if store is not None:
            peaks.sample("store", store)
        time.sleep(0.1)
    if child.returncode != 0:
        raise SystemExit(f"keytrail load exited {child.returncode}")
    # The embedded store's server stays for the next command, its socket folder in TMPDIR: stopped, what is left is counted.
    if neo4j_port is None:
        subprocess.run([sys.executable, "-m", "keytrail", "store", "stop"], env=env, capture_output=True, check=True)
    left = sum(1 for _ in scratch.iterdir())
    return peaks, time.perf_counter() - began, left


def after(command: str, env: dict[str, str], neo4j_port: int | None) -> str:
    """Run one read or reset command on the loaded store; its time, exit status and the store's peak memory."""
    words = {"stats": ["stats", "--json"], "reset": ["reset", "--yes"]}[command]
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "keytrail", *words], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    keytrail = psutil.Process(child.pid)
    peaks = Peaks()
    store: psutil.Process | None = None
    while child.poll() is None:
        store = store or _store_process(keytrail, neo4j_port)
        if store is not None:
            peaks.sample("store", store)
        time.sleep(0.1)
    seconds = time.perf_counter() - began
    error = [line for line in (child.stderr.read() if child.stderr else "").splitlines() if any(c.isalnum() for c in line)]
    said = f", said: {error[-1]}" if child.returncode != 0 and error else ""
    return f"  {command:<10} {seconds:>8.1f} s  exit {child.returncode}  store peak RSS {peaks.rss.get('store', 0) / 1024 / 1024:,.0f} MiB{said}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[50_000, 500_000])
    parser.add_argument("--neo4j", default=os.environ.get("NEO4J_URI"))
    parser.add_argument("--skip-embedded", action="store_true", help="Measure Neo4j only.")
    parser.add_argument("--logs", type=Path, default=None, help="keep (or reuse) the log files of each size in DIR/<events>")
    parser.add_argument("--bulk", action="store_true", help="load Neo4j with `load --bulk` (it must be a scripts/neo4j-local server)")
    parser.add_argument("--processes", type=int, default=None, help="worker processes, as `load --processes` (default: the load's)")
    parser.add_argument("--after", nargs="*", default=[], choices=["stats", "reset"], help="commands timed on each loaded store, in order")
    args = parser.parse_args()
    options = ["--processes", str(args.processes)] if args.processes is not None else []
    print(f"machine: {os.cpu_count()} cores, load average at the start {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"{'events':>9} {'store':<9} {'seconds':>8} {'keytrail RSS':>13} {'+ workers':>10} {'store RSS':>10} "
        f"{'keytrail fds':>13} {'store fds':>10} {'temp left':>10}"
    )
    for events in args.events:
        with tempfile.TemporaryDirectory(prefix="keytrail-resources-") as tmp:
            root = args.logs / str(events) if args.logs else Path(tmp) / "logs"
            if not root.is_dir() or not any(root.iterdir()):
                write_s3_layout(synthetic_records(events, seed=3), root)
            base = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
            runs: list[tuple[str, dict[str, str], int | None]] = []
            if not args.skip_embedded:
                runs.append(("embedded", dict(base, KEYTRAIL_HOME=str(Path(tmp) / "home")), None))
            if args.neo4j:
                subprocess.run([sys.executable, "-m", "keytrail", "--neo4j", args.neo4j, "reset", "--yes"], check=True, capture_output=True)
                runs.append(("neo4j", dict(base, NEO4J_URI=args.neo4j, KEYTRAIL_HOME=str(Path(tmp) / "home")), urlparse(args.neo4j).port or 7687))
            for name, env, port in runs:
                bulk = ["--bulk"] if args.bulk and port is not None else []
                peaks, seconds, left = measure(root, env, port, options + bulk)
                mib = 1024 * 1024
                print(
                    f"{events:>9,} {name + (' bulk' if bulk else ''):<9} {seconds:>8.1f} {peaks.rss.get('keytrail', 0) / mib:>10.0f} MiB "
                    f"{peaks.rss.get('with workers', 0) / mib:>6.0f} MiB {peaks.rss.get('store', 0) / mib:>6.0f} MiB "
                    f"{peaks.fds.get('keytrail', 0):>13} {peaks.fds.get('store', 0):>10} {left:>10}",
                    flush=True,
                )
                for command in args.after:
                    print(after(command, env, port), flush=True)
                if args.after and port is None:
                    subprocess.run([sys.executable, "-m", "keytrail", "store", "stop"], env=env, capture_output=True, check=True)
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
