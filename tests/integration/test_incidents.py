"""The incidents query counts each event under every incident it carries, in one pass over the events, on both stores."""

from __future__ import annotations

from typing import Any

from keytrail.graph.backends import Backend
from keytrail.graph.runner import reset_store, run_query
from keytrail.graph.writer import GraphWriter


def _event(event_id: str, time: str, incident: str) -> dict[str, Any]:
    props = {"eventTime": time, "eventName": "Listed", "eventSource": "test.amazonaws.com"}
    return {
        "eventID": event_id,
        "props": props,
        "incident": incident,
        "action": "test:Listed",
        "eventSource": "test.amazonaws.com",
        "eventName": "Listed",
        "ip": None,
        "agent": None,
    }


def _load_run(writer: GraphWriter, incident: str, run_id: str) -> None:
    counts = {"read": 0, "loaded": 0, "duplicates": 0, "rejected": 0, "rejectedOrigins": 0}
    writer.run(
        "record_load_run",
        {"runId": run_id, "incident": incident, "startedAt": "2026-01-08T00:00:00Z", "inputs": [], "stoppedBy": None, "inputDigests": []} | counts,
    )


def test_each_incident_counts_its_events_and_span(backend: Backend) -> None:
    reset_store(backend)
    writer = GraphWriter(backend)
    writer.write_rows({"merge_events": [_event("i-1", "2026-01-07T01:00:00Z", "alpha"), _event("i-2", "2026-01-07T03:00:00Z", "alpha")]})
    writer.write_rows({"merge_events": [_event("i-3", "2026-01-07T02:00:00Z", "beta")]})
    # i-2 was loaded again under beta: it counts under both.
    writer.write_rows_in(
        lambda statement, params: backend.write(statement, params),
        {"add_incident_to_events": [{"eventID": "i-2", "incident": "beta"}]},
        order=("add_incident_to_events",),
    )
    for incident, run_id in (("alpha", "r1"), ("beta", "r2"), ("beta", "r3"), ("gamma", "r4")):
        _load_run(writer, incident, run_id)
    assert run_query(backend, "incidents") == [
        {"incident": "alpha", "events": 2, "firstEvent": "2026-01-07T01:00:00Z", "lastEvent": "2026-01-07T03:00:00Z", "loads": 1},
        {"incident": "beta", "events": 2, "firstEvent": "2026-01-07T02:00:00Z", "lastEvent": "2026-01-07T03:00:00Z", "loads": 2},
        # An incident whose load stored no event (all were stored already, or rejected).
        {"incident": "gamma", "events": 0, "firstEvent": None, "lastEvent": None, "loads": 1},
    ]
    reset_store(backend)
    assert run_query(backend, "incidents") == []
