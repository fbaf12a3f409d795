"""A load: loader items → checked records → rows → the writer, with exact accounting.

Whatever the source, what was read equals what was loaded, plus duplicates (already
stored, or delivered twice), plus what was rejected; every rejected record is kept
with its origin, index and reason in a JSON-lines rejects file.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from keytrail.graph.backends import Backend, Run, default_home
from keytrail.graph.queries import get_query
from keytrail.graph.status import settle_key_statuses
from keytrail.graph.transform import reduce_batch, retagged
from keytrail.graph.writer import DEFAULT_BATCH_SIZE, GraphWriter
from keytrail.loaders.records import InputDigest, LoaderItem, Rejection, SkippedFile, SourceRecord, examine_record
from keytrail.model.fingerprint import Kept, keep, record_json
from keytrail.model.secrets import redact_tokens
from keytrail.prepare import Prepared, PreparePool, rows_of


@dataclass(slots=True)
class LoadSummary:
    """What one load read, stored, skipped and refused."""

    run_id: str
    incident: str
    store: str
    origins: int = 0
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    #: Records rejected because a record with their eventID and other content was read or stored first (counted in ``rejected``).
    conflicts: int = 0
    rejected_origins: int = 0
    skipped_origins: int = 0
    rejects_path: str | None = None
    #: The signal that stopped the load early, between two batches; None when it read everything.
    stopped_by: str | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    #: Why files were skipped (the first 50): digests, files that are not CloudTrail, links met twice, FIFOs.
    skipped: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """True when every record read is accounted for."""
        return self.read == self.loaded + self.duplicates + self.rejected

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return self.rejected == 0 and self.rejected_origins == 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["balanced"] = self.balanced
        return data


ProgressCallback = Callable[[LoadSummary, LoaderItem], None]
#: Told, after a write, which origins are now stored completely: every item read, written, none rejected.
OriginsLoadedCallback = Callable[[list[str]], None]


def default_rejects(run_id: str, home: Path | None = None) -> Path:
    """Where a load keeps what it rejected unless told: under keytrail's home (``--home``), never beside (or inside) the evidence."""
    return (home or default_home()) / "rejects" / f"keytrail-rejects-{run_id}.jsonl"


class _InFlight:
    """One write unit running on its own thread while the load reads on.

    The store does the work of a unit (a server process, or Neo4j), so the thread mostly waits
    on its socket and the reading thread keeps the interpreter. At most one unit is in flight:
    batches are stored in the order they were read. The thread is a daemon: a load stopped at
    once (a second signal) does not wait for it, and what it sent is not saved or is rolled back.
    """

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._outcome: tuple[bool, Any] = (False, None)
        #: What the reading thread needs of the unit's batch once it is stored.
        self.batch: _Handed | None = None

    def start(self, work: Callable[[], Any], batch: _Handed) -> None:
        self.batch = batch

        def run() -> None:
            try:
                self._outcome = (True, work())
            except BaseException as exc:  # re-raised on the reading thread, by result()
                self._outcome = (False, exc)

        self._thread = threading.Thread(target=run, name="keytrail-writer", daemon=True)
        self._thread.start()

    def result(self) -> Any:
        """The unit's answer, once it is stored; its exception, raised here, if it failed."""
        assert self._thread is not None
        self._thread.join()
        self._thread, self.batch = None, None
        ok, value = self._outcome
        self._outcome = (False, None)
        if not ok:
            raise value
        return value

    def abandon(self) -> None:
        """Forget a unit still running after an error elsewhere: its batch is not counted, and not saved."""
        self._thread = None
        self.batch = None


@dataclass(frozen=True, slots=True)
class _Handed:
    """A batch handed to the writer thread: its records, their kept forms, other contents met, its refusals, and the origins ended before it."""

    records: dict[str, SourceRecord]
    kept: dict[str, Kept]
    variants: dict[str, dict[str, SourceRecord]]
    refused: list[Rejection]
    ended: list[str]


class _Rejects:
    """The rejects file, opened only when something is rejected: owner-only, session tokens redacted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None

    def add(self, rejection: Rejection) -> None:
        if self._handle is None:
            # A rejected record is evidence like any other: readable by its owner only.
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._handle = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
            os.chmod(self.path, 0o600)
        # The record goes through record_json: orjson can crash on deep nesting, and a rejected record may be anything.
        head = orjson.dumps({"origin": rejection.origin, "index": rejection.index, "reason": rejection.reason})[:-1]
        record = record_json(redact_tokens(rejection.raw)).encode("utf-8", "surrogatepass")
        self._handle.write(head + b',"record":' + record + b"}\n")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


#: Records read before a load starts worker processes: below this, starting them costs more than they save.
PARALLEL_FROM = 20_000
#: Records handed to a worker process at a time.
CHUNK_RECORDS = 1_000


def new_run_id() -> str:
    """A sortable, unique id for one load: UTC time plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


class Ingest:
    """Loads loader items into a store under one incident name."""

    def __init__(
        self,
        backend: Backend,
        incident: str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        rejects_path: Path | None = None,
        progress: ProgressCallback | None = None,
        run_id: str | None = None,
        on_origins_loaded: OriginsLoadedCallback | None = None,
        processes: int = 0,
        parallel_from: int = PARALLEL_FROM,
    ) -> None:
        """``processes`` worker processes check records and make their rows once ``parallel_from`` records were read (0: none)."""
        self.writer = GraphWriter(backend, batch_size)
        self.backend = backend
        self.batch_size = batch_size
        self.run_id = run_id or new_run_id()
        self.summary = LoadSummary(self.run_id, incident, backend.name)
        self._rejects = _Rejects(rejects_path or default_rejects(self.run_id))
        self._progress = progress
        self._batch: dict[str, SourceRecord] = {}
        self._kept: dict[str, Kept] = {}
        #: Other contents read in this batch for an eventID already in it, by fingerprint.
        self._variants: dict[str, dict[str, SourceRecord]] = {}
        self._last_origin: str | None = None
        # Origins read to the end whose records may still sit in the unwritten batch, and
        # origins with a rejection (never reported as loaded: a later load reads them again).
        self._on_origins_loaded = on_origins_loaded
        self._ended: list[str] = []
        self._spoiled: set[str] = set()
        self._stop: str | None = None
        self._input_digests: list[str] = []
        self._in_flight = _InFlight()
        self._processes = processes
        self._parallel_from = parallel_from
        self._pool: PreparePool | None = None
        #: Items read but not yet taken: the chunk being filled, and the chunks handed to the pool, oldest first.
        self._filling: list[LoaderItem] = []
        self._filling_records: list[tuple[dict[str, Any], str, int]] = []
        self._handed: deque[list[LoaderItem]] = deque()
        #: The prepared rows of the batch's events, when worker processes made them.
        self._prepared: dict[str, Prepared] = {}

    def request_stop(self, reason: str) -> None:
        """Stop reading after the current record; what was read is then stored whole and saved."""
        self._stop = reason

    def run(self, items: Iterable[LoaderItem], inputs: list[str]) -> LoadSummary:
        """Read every item, write in batches, record the load, and make it durable."""
        began = time.perf_counter()
        started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.writer.ensure_schema()
        try:
            for item in items:
                self._read(item)
                if self._progress is not None:
                    self._progress(self.summary, item)
                if self._stop is not None:
                    break
            # What was read is taken whole, a stop or not.
            self._drain()
            # An origin the stop cut short is not stored completely: a later load reads it again.
            if self._last_origin is not None and self._stop is None:
                self._ended.append(self._last_origin)
            self.summary.stopped_by = self._stop
            self._flush()
            self._settle_in_flight()
            # Origins ended after the last batch was handed over (files of digests, or of records all refused).
            self._report_loaded_origins(self._ended)
            self._ended = []
            # Every key again, whatever this load touched: a deletion can arrive long after the key's creation.
            settle_key_statuses(self.backend, self.writer)
        finally:
            if self._pool is not None:
                self._pool.close()
            self._in_flight.abandon()
            self._rejects.close()
        self.summary.seconds = time.perf_counter() - began
        if self.summary.rejected or self.summary.rejected_origins:
            self.summary.rejects_path = str(self._rejects.path)
        self._record_run(inputs, started_at)
        self.backend.flush()
        return self.summary

    def _read(self, item: LoaderItem) -> None:
        """Take an item now, or queue it for the worker processes; the items are taken in the order read either way."""
        if self._pool is None:
            if not (self._processes and isinstance(item, SourceRecord) and self.summary.read >= self._parallel_from):
                self._take(item, None)
                return
            self._pool = PreparePool(self._processes, self.summary.incident, self.run_id)
        self._filling.append(item)
        if isinstance(item, SourceRecord):
            self._filling_records.append((item.record, item.origin, item.index))
            if len(self._filling_records) >= CHUNK_RECORDS:
                self._hand_over()

    def _hand_over(self) -> None:
        assert self._pool is not None
        # The oldest chunk's outcome is collected before the next chunk goes out, and taken after: the
        # worker works on the next chunk while this process takes the last one and reads on.
        oldest = (self._handed.popleft(), self._pool.oldest()) if self._pool.full else None
        self._pool.submit(self._filling_records)
        self._handed.append(self._filling)
        self._filling, self._filling_records = [], []
        if oldest is not None:
            self._take_chunk(*oldest)

    def _take_chunk(self, items: list[LoaderItem], outcome: list[Prepared]) -> None:
        prepared = iter(outcome)
        for item in items:
            self._take(item, next(prepared) if isinstance(item, SourceRecord) else None)

    def _drain(self) -> None:
        """Take every item still queued, in order."""
        if self._pool is None:
            return
        if self._filling_records:
            self._hand_over()
        elif self._filling:
            # Items after the last record handed over (a file's digest, a skipped file) need no worker:
            # they are taken after that chunk. A chunk went out before them, or they would hold a record.
            self._handed[-1].extend(self._filling)
            self._filling = []
        while self._handed:
            self._take_chunk(self._handed.popleft(), self._pool.oldest())

    def _take(self, item: LoaderItem, prepared: Prepared | None) -> None:
        """Count an item and put a record in the batch; ``prepared`` is the record's check, kept text and rows when a worker made them."""
        if item.origin != self._last_origin:
            if self._last_origin is not None:
                self._ended.append(self._last_origin)
            self._last_origin = item.origin
            self.summary.origins += 1
        if isinstance(item, InputDigest):
            self._input_digests.append(f"sha256:{item.sha256} {item.size} {item.origin}")
            return
        if isinstance(item, SkippedFile):
            self.summary.skipped_origins += 1
            if len(self.summary.skipped) < 50:
                self.summary.skipped.append(f"{item.origin}: {item.reason}")
            return
        if isinstance(item, Rejection):
            self._reject(item)
            return
        self.summary.read += 1
        if prepared is None:
            examined = examine_record(item.record)
            reason, containers = examined.reason, examined.containers
        else:
            reason, containers = prepared.reason, 0
        if reason is not None:
            self._reject(Rejection(item.origin, item.index, reason, item.record), counted=True)
            return
        event_id = item.record["eventID"]
        kept = prepared.kept if prepared is not None and prepared.kept is not None else keep(item.record, containers)
        digest = kept.sha256
        if event_id in self._batch:
            variants = self._variants.setdefault(event_id, {})
            if digest == self._kept[event_id].sha256 or digest in variants:
                self.summary.duplicates += 1
            else:
                # Which copy is kept is decided with the store (a stored one wins): see _flush.
                variants[digest] = item
            return
        self._batch[event_id] = item
        self._kept[event_id] = kept
        if prepared is not None:
            self._prepared[event_id] = prepared
        if len(self._batch) >= self.batch_size:
            self._flush()

    def _report_loaded_origins(self, ended: list[str]) -> None:
        if self._on_origins_loaded is None:
            self._spoiled.clear()
            return
        loaded = [origin for origin in ended if origin not in self._spoiled]
        self._spoiled.difference_update(ended)
        if loaded:
            self._on_origins_loaded(loaded)

    def _reject(self, rejection: Rejection, *, counted: bool = False) -> None:
        self._rejects.add(rejection)
        self._spoiled.add(rejection.origin)
        where = rejection.origin if rejection.index is None else f"{rejection.origin} record {rejection.index}"
        if len(self.summary.problems) < 50:
            self.summary.problems.append(f"{where}: {rejection.reason}")
        if rejection.counts_as_record:
            if not counted:
                self.summary.read += 1
            self.summary.rejected += 1
        else:
            self.summary.rejected_origins += 1

    def _flush(self) -> None:
        """Turn the batch into rows and hand it to the writer thread, once the batch before it is stored.

        The rows are made here, on this thread, while the store works on the batch before: a load
        takes about the longer of reading and storing, not their sum. Whether each event is stored
        already is still asked inside the batch's own unit, so rows made for a stored event are
        simply not sent.
        """
        if not self._batch:
            return
        batch, self._batch = self._batch, {}
        kept, self._kept = self._kept, {}
        variants, self._variants = self._variants, {}
        ended, self._ended = self._ended, []
        prepared, self._prepared = self._prepared, {}
        incident = self.summary.incident
        produced: dict[str, dict[str, list[dict[str, Any]]]] = {}
        refused: list[Rejection] = []
        for event_id, item in batch.items():
            made = prepared.get(event_id)
            if made is None:
                rows, unreadable = rows_of(item.record, item.origin, item.index, incident, self.run_id, kept[event_id])
            else:
                rows, unreadable = made.rows, made.unreadable
            if rows is None:
                refused.append(Rejection(item.origin, item.index, unreadable or "cannot interpret record", item.record))
            else:
                produced[event_id] = rows
        find_existing = get_query("find_existing_events").body

        def unit(run: Run) -> tuple[dict[str, list[str]], int, dict[str, str | None]]:
            # Which events are stored already is asked inside the batch's own unit: on a shared Neo4j
            # another load may have stored some a moment ago, and must not get them stored twice.
            found = run(find_existing, {"ids": list(batch)})
            # A stored event with other content is a conflict: the stored one stays, this one goes to the rejects file.
            stored = {row["eventID"]: row["recordSha256"] for row in found}
            conflicting = {eid: digest for eid, digest in stored.items() if digest not in (None, kept[eid].sha256)}
            existing = {row["eventID"]: list(row["incidents"] or []) for row in found if row["eventID"] not in conflicting}
            retag = [{"eventID": eid, "incident": incident} for eid, incidents in existing.items() if incident not in incidents]
            rows: dict[str, list[dict[str, Any]]] = {}
            loaded = 0
            for event_id, event in produced.items():
                if event_id in existing or event_id in conflicting:
                    continue
                for name, event_rows_ in event.items():
                    if event_rows_:
                        rows.setdefault(name, []).extend(event_rows_)
                loaded += 1
            # A stored event newly tagged with this incident counts in this incident's tallies (the same record: its
            # fingerprint matched), never again in the whole store's.
            rows.setdefault("merge_tallies", []).extend(retagged(t) for r in retag if r["eventID"] in produced for t in produced[r["eventID"]]["merge_tallies"])
            self.writer.write_rows_in(run, reduce_batch(rows))
            self.writer.write_rows_in(run, {"add_incident_to_events": retag}, order=("add_incident_to_events",))
            return existing, loaded, conflicting

        self._settle_in_flight()
        # The unit may run more than once (a transient failure on Neo4j): only its answer counts.
        self._in_flight.start(lambda: self.backend.write_unit(unit, holder=self.run_id), _Handed(batch, kept, variants, refused, ended))

    def _settle_in_flight(self) -> None:
        """Wait for the batch in flight to be stored, then count it, keep its conflicts aside and report the origins it completed."""
        handed = self._in_flight.batch
        if handed is None:
            return
        existing, loaded, conflicting = self._in_flight.result()
        batch, kept = handed.records, handed.kept
        self.summary.duplicates += len(existing)
        self.summary.loaded += loaded
        for rejection in handed.refused:
            self._reject(rejection, counted=True)
        for event_id in conflicting:
            self._conflict(batch[event_id], "the store")
        for event_id, others in handed.variants.items():
            first_digest = conflicting.get(event_id) or kept[event_id].sha256
            first = "the store" if event_id in conflicting or event_id in existing else f"{batch[event_id].origin} record {batch[event_id].index}"
            for digest, item in others.items():
                if digest == first_digest:
                    self.summary.duplicates += 1
                else:
                    self._conflict(item, first)
        self._report_loaded_origins(handed.ended)

    def _conflict(self, item: SourceRecord, first: str) -> None:
        """A record whose eventID was read or stored first with other content: kept aside, never merged or dropped."""
        self.summary.conflicts += 1
        reason = (
            f"conflicting duplicate: eventID {item.record['eventID']} was read first from {first} with different content; the first is kept, this one only here"
        )
        self._reject(Rejection(item.origin, item.index, reason, item.record), counted=True)

    def _record_run(self, inputs: list[str], started_at: str) -> None:
        s = self.summary
        self.writer.run(
            "record_load_run",
            {
                "runId": s.run_id,
                "incident": s.incident,
                "startedAt": started_at,
                "inputs": inputs[:100],
                "read": s.read,
                "loaded": s.loaded,
                "duplicates": s.duplicates,
                "rejected": s.rejected,
                "rejectedOrigins": s.rejected_origins,
                "stoppedBy": s.stopped_by,
                "inputDigests": self._input_digests,
            },
        )


class ObjectManifest:
    """Which stored objects (S3 log files) the store holds completely, by URI and ETag, per incident.

    A source that reads objects asks :meth:`complete` what it can skip, and records
    with :meth:`record` what a load finished (see ``Ingest(on_origins_loaded=...)``).
    The records are ``LoadedObject`` nodes; a changed ETag (the object was replaced)
    starts the object's incident list afresh.
    """

    def __init__(self, backend: Backend, incident: str, run_id: str) -> None:
        self.writer = GraphWriter(backend)
        self.backend = backend
        self.incident = incident
        self.run_id = run_id

    def complete(self, uris: Sequence[str]) -> dict[str, str]:
        """For each URI loaded completely under this incident before, the ETag it had."""
        if not uris:
            return {}
        self.writer.ensure_schema()
        rows = self.backend.read(get_query("find_loaded_objects").body, {"uris": list(uris)})
        return {str(row["uri"]): str(row["etag"]) for row in rows if self.incident in (row["incidents"] or [])}

    def record(self, objects: Sequence[tuple[str, str, int]]) -> None:
        """Remember ``(uri, etag, size)`` objects whose every record is now stored."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows = [{"uri": uri, "etag": etag, "size": size, "incident": self.incident, "runId": self.run_id, "loadedAt": now} for uri, etag, size in objects]
        self.writer.write("merge_loaded_objects", rows)
