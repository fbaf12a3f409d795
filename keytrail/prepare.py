"""A record's check, kept text and rows, made in this process or in worker processes.

The work of one record does not depend on any other record: :func:`prepare` is pure, and a
load may hand chunks of records to :class:`PreparePool` while it reads on. Which events are
duplicates, which conflict, and what is written stay decided by :class:`~keytrail.ingest.Ingest`
in the main process, in the order the records were read, so a load with worker processes
stores exactly what a load without them stores.

Results come back as plain tuples, not :class:`~keytrail.model.fingerprint.Kept` objects:
unpickling a slotted dataclass per record cost the main process more than the record's own
work (measured: 73 us against 18 us a record for the same rows as tuples).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from keytrail.graph.transform import event_rows
from keytrail.loaders.records import examine_record
from keytrail.model.fingerprint import Kept, keep

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Prepared:
    """One record's outcome: why it is refused, or its kept text and its rows (or why no rows could be made)."""

    reason: str | None
    kept: Kept | None = None
    rows: Rows | None = None
    #: ``event_rows`` failed: the record is kept aside with this reason, never dropped.
    unreadable: str | None = None


def rows_of(record: dict[str, Any], origin: str, index: int, incident: str, run_id: str, kept: Kept) -> tuple[Rows | None, str | None]:
    """A checked record's rows, or why none could be made (the record is then kept aside, never dropped)."""
    try:
        return event_rows(record, origin=origin, index=index, incident=incident, run_id=run_id, kept=kept), None
    except Exception as exc:  # whatever the rules trip on: the reason goes to the rejects file
        return None, f"cannot interpret record: {exc!r}"


def prepare(record: dict[str, Any], origin: str, index: int, incident: str, run_id: str) -> Prepared:
    """The check, the kept text and fingerprint, and the rows of one record, as a load makes them."""
    examined = examine_record(record)
    if examined.reason is not None:
        return Prepared(examined.reason)
    kept = keep(record, examined.containers)
    rows, unreadable = rows_of(record, origin, index, incident, run_id, kept)
    return Prepared(None, kept, rows, unreadable)


_Wire = tuple[str | None, str | None, str | None, bool, Rows | None, str | None]


def _prepare_chunk(chunk: Sequence[tuple[dict[str, Any], str, int]], incident: str, run_id: str) -> list[_Wire]:
    out: list[_Wire] = []
    for record, origin, index in chunk:
        p = prepare(record, origin, index, incident, run_id)
        k = p.kept
        out.append((p.reason, k.text if k else None, k.sha256 if k else None, k.plain if k else False, p.rows, p.unreadable))
    return out


def _from_wire(wire: _Wire) -> Prepared:
    reason, text, sha256, plain, rows, unreadable = wire
    if text is None or sha256 is None:
        return Prepared(reason)
    return Prepared(reason, Kept(text, sha256, plain), rows, unreadable)


def default_processes(*, bulk: bool) -> int:
    """Worker processes for a load when not told: one per core for a bulk load on two cores or more, else none.

    Measured on 2 cores, 100,000 records (``bench/bulk.py`` and ``bench/load.py`` with ``--processes``): the
    bulk load's Python step took 16.3 s without workers, 17.5 s with one, 13.6 s with two; an online load
    into the embedded store took 26.4 s without, 28.3 s with one or two (it waits on the store's server).
    One worker does a record's work plus both ends' pickling, so it gains nothing over this process alone.
    """
    cores = os.cpu_count() or 1
    return cores if bulk and cores >= 2 else 0


class WorkerFailed(RuntimeError):
    """A worker process preparing records failed or stopped: the load stops, nothing it was handing over is counted."""


_LENGTH = struct.Struct("<Q")


def _send(stream: IO[bytes], payload: object) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    size = _LENGTH.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class _Worker:
    """One worker process: chunks in on its stdin, outcomes out on its stdout, one chunk at a time."""

    def __init__(self, incident: str, run_id: str) -> None:
        # Its own interpreter, started by command: not a fork of this process (it has threads, the
        # writer's and the Neo4j driver's, whose locks a fork would copy), and not multiprocessing's
        # spawn, which runs the caller's main module again in the child.
        package_root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
        self.process = subprocess.Popen([sys.executable, "-m", "keytrail.prepare"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.busy = False
        assert self.process.stdin is not None
        # The names go down the pipe, not on the command line: an incident name is any text.
        _send(self.process.stdin, (incident, run_id))

    def send(self, chunk: list[tuple[dict[str, Any], str, int]]) -> None:
        assert self.process.stdin is not None and not self.busy
        try:
            _send(self.process.stdin, chunk)
        except (BrokenPipeError, OSError) as exc:
            raise WorkerFailed(self._failure()) from exc
        self.busy = True

    def receive(self) -> list[_Wire]:
        assert self.process.stdout is not None and self.busy
        self.busy = False
        try:
            kind, value = _receive(self.process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            raise WorkerFailed(self._failure()) from exc
        if kind != "ok":
            raise WorkerFailed(f"a worker process preparing records failed: {value}")
        result: list[_Wire] = value
        return result

    def _failure(self) -> str:
        # The pipe can break a moment before the process is reaped: wait a little, or a dead worker reads as running.
        try:
            code: int | None = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        how = "is still running" if code is None else f"exited with status {code}" if code >= 0 else f"was killed by signal {-code}"
        pid = self.process.pid
        return f"a worker process preparing records (pid {pid}) stopped answering: it {how}; load again with --processes 0 to prepare in this process"

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class PreparePool:
    """Worker processes that prepare chunks of records, handed back in the order they were given.

    Chunks go to the processes in turn, and each holds at most one: at most ``processes``
    chunks are out at a time, so memory does not grow with the input, and neither side can
    block the other on a full pipe (a chunk is sent only to a process waiting for one).
    """

    def __init__(self, processes: int, incident: str, run_id: str) -> None:
        if processes < 1:
            raise ValueError("a pool needs at least one process")
        self._workers: list[_Worker] = []
        try:
            for _ in range(processes):
                self._workers.append(_Worker(incident, run_id))
        except BaseException:
            self.close()
            raise
        self._next = 0
        self._out: deque[_Worker] = deque()

    @property
    def full(self) -> bool:
        """True when every process holds a chunk: take the oldest before handing over another."""
        return len(self._out) >= len(self._workers)

    @property
    def pending(self) -> int:
        """Chunks handed over whose outcome was not taken yet."""
        return len(self._out)

    def submit(self, chunk: Sequence[tuple[dict[str, Any], str, int]]) -> None:
        """Hand a chunk to the next process (which must be free: see :attr:`full`)."""
        worker = self._workers[self._next]
        self._next = (self._next + 1) % len(self._workers)
        worker.send(list(chunk))
        self._out.append(worker)

    def oldest(self) -> list[Prepared]:
        """The outcome of the oldest chunk still out, waiting for it; a worker's failure is raised here (:class:`WorkerFailed`)."""
        return [_from_wire(w) for w in self._out.popleft().receive()]

    def close(self) -> None:
        """Stop the processes; chunks still out are dropped (their records are not counted as loaded)."""
        self._out.clear()
        for worker in self._workers:
            worker.close()


def _serve() -> int:
    """A worker process's loop: the names, then each chunk read from stdin, its outcome written to stdout, until stdin ends."""
    # A terminal's Ctrl-C reaches the whole process group: the main process decides how a load
    # stops (finish what was read, or stop at once) and then closes this process's stdin.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    try:
        incident, run_id = _receive(source)
    except EOFError:
        return 0
    while True:
        try:
            chunk = _receive(source)
        except EOFError:
            return 0
        try:
            outcome: tuple[str, object] = ("ok", _prepare_chunk(chunk, incident, run_id))
        except Exception as exc:  # told to the main process, which stops the load with it
            outcome = ("error", repr(exc))
        try:
            _send(sink, outcome)
        except BrokenPipeError:
            return 0


if __name__ == "__main__":
    raise SystemExit(_serve())
