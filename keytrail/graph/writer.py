"""The one writer: every write to the graph goes through :class:`GraphWriter`.

Rows are written with named, parameterised ``UNWIND`` queries in batches, one
transaction per batch (cartography's ``client/core/tx.py`` habit). Schema comes
first; node rows before the relationships between them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from keytrail.graph.backends import Backend, Run
from keytrail.graph.queries import get_query
from keytrail.graph.transform import WRITE_ORDER

log = logging.getLogger(__name__)


class WriteIncomplete(RuntimeError):
    """A write query reported fewer landed rows than it was sent: something read would be lost."""


def check_landed(query_name: str, rows: Sequence[dict[str, Any]], result: list[dict[str, Any]]) -> None:
    """Compare the rows a write query says landed with the rows it was sent.

    Every write query that takes ``$rows`` returns ``landed`` (its header says so). A row
    whose nodes were not found, or whose verb no branch of the statement writes, lands
    nothing; that is a defect of keytrail, and the load stops with the first such row.
    """
    landed = sum(int(r.get("landed") or 0) for r in result)
    if landed != len(rows):
        sample = orjson.dumps(rows[0], default=str).decode()[:300] if rows else ""
        raise WriteIncomplete(f"write query {query_name}: {len(rows) - landed} of {len(rows)} rows wrote nothing they should have (a row: {sample})")


#: Rows per transaction. Relationship merges onto hub nodes (an Action called a million
#: times) are the costly ones; this size keeps each transaction well under a second.
DEFAULT_BATCH_SIZE = 2_000


@dataclass(slots=True)
class WriteStats:
    """Rows written per query, and time spent, for ``bench/``."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, rows: int, seconds: float) -> None:
        self.rows[name] = self.rows.get(name, 0) + rows
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


class GraphWriter:
    """Batched, parameterised writes through a :class:`Backend`."""

    def __init__(self, backend: Backend, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.backend = backend
        self.batch_size = batch_size
        self.stats = WriteStats()
        self._schema_ready = False

    def ensure_schema(self) -> None:
        """Create constraints and indexes before the first write."""
        if not self._schema_ready:
            self.backend.apply_schema()
            self._schema_ready = True

    def write(self, query_name: str, rows: Sequence[dict[str, Any]]) -> None:
        """Run a write query over ``rows`` in batches of ``batch_size``."""
        if not rows:
            return
        self.ensure_schema()
        query = get_query(query_name)
        for start in range(0, len(rows), self.batch_size):
            chunk = list(rows[start : start + self.batch_size])
            began = time.perf_counter()
            result = self.backend.write(query.body, {"rows": chunk})
            self.stats.add(query_name, len(chunk), time.perf_counter() - began)
            if "landed" in query.returns:
                check_landed(query_name, chunk, result)

    def write_rows(self, rows_by_query: dict[str, list[dict[str, Any]]]) -> None:
        """Write one batch of transformed events: every query in dependency order, as one unit."""
        self.ensure_schema()
        self.backend.write_unit(lambda run: self.write_rows_in(run, rows_by_query), holder="writer")

    def write_rows_in(self, run: Run, rows_by_query: dict[str, list[dict[str, Any]]], order: Sequence[str] = WRITE_ORDER) -> None:
        """Write rows inside a unit of writing (``Backend.write_unit``), queries in ``order``, checking what landed.

        On Neo4j the unit is one transaction: events are stored together with all their edges
        or not at all, so a load that dies mid-way is completed by running it again (stored
        events are skipped as duplicates, and they are complete).
        """
        for name in order:
            rows = rows_by_query.get(name, [])
            if not rows:
                continue
            query = get_query(name)
            for start in range(0, len(rows), self.batch_size):
                chunk = list(rows[start : start + self.batch_size])
                began = time.perf_counter()
                result = run(query.body, {"rows": chunk})
                self.stats.add(name, len(chunk), time.perf_counter() - began)
                if "landed" in query.returns:
                    check_landed(name, chunk, result)

    def existing_events(self, event_ids: Sequence[str]) -> dict[str, list[str]]:
        """Which of these eventIDs are stored already, with the incidents they carry."""
        if not event_ids:
            return {}
        self.ensure_schema()
        query = get_query("find_existing_events")
        rows = self.backend.read(query.body, {"ids": list(event_ids)})
        return {row["eventID"]: list(row["incidents"] or []) for row in rows}

    def run(self, query_name: str, params: dict[str, Any]) -> None:
        """Run one named write query with explicit parameters (bookkeeping writes)."""
        self.ensure_schema()
        query = get_query(query_name)
        query.check_params(params)
        self.backend.write(query.body, params)
