"""A key's status is decided from the whole store by every load and stored on the key; the report prints it.

Within an incident, only the incident's events decide (the answer the incident gives alone in a store).

On both stores. Expected statuses come from the workshop records themselves.
"""

from __future__ import annotations

from typing import Any

import pytest

from keytrail.graph.backends import Backend
from keytrail.ingest import Ingest
from keytrail.loaders.records import SourceRecord
from keytrail.report.blast_radius import build_blast_radius
from keytrail.sample import workshop_incident

pytestmark = pytest.mark.usefixtures("backend")

INCIDENT = workshop_incident()
LEAKED = INCIDENT.facts.leaked_key.access_key_id
#: The calls that end keys: loaded first, in a load of their own, before anything they refer to exists.
ENDINGS = ("DeleteAccessKey", "UpdateAccessKey", "DeleteUser")


def _load(backend: Backend, incident: str, records: list[dict[str, Any]], rejects: Any) -> None:
    items = [SourceRecord(f"sample:{incident}", i, r) for i, r in enumerate(records)]
    summary = Ingest(backend, incident, rejects_path=rejects).run(items, [f"sample:{incident}"])
    assert summary.ok and summary.balanced


def _stored(backend: Backend) -> dict[str, dict[str, Any]]:
    rows = backend.read("MATCH (k:AccessKey) RETURN k.accessKeyId AS key, k.status AS status, k.statusEventID AS event, k.expiration AS expiration", {})
    return {r["key"]: r for r in rows}


def test_endings_loaded_before_the_keys_still_decide(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> None:
    rejects = tmp_path_factory.mktemp("rejects") / "r.jsonl"
    endings = [r for r in INCIDENT.records if r["eventName"] in ENDINGS and not r.get("errorCode")]
    _load(backend, "endings", endings, rejects)
    _load(backend, "workshop", [r for r in INCIDENT.records if r not in endings], rejects)
    stored = _stored(backend)
    deleted = {(r["requestParameters"] or {}).get("accessKeyId"): r["eventID"] for r in endings if r["eventName"] == "DeleteAccessKey"}
    assert deleted, "the workshop deletes a key"
    for key, event_id in deleted.items():
        assert (stored[key]["status"], stored[key]["event"]) == ("deleted", event_id)
    # Every other key the records name has a decided status too.
    assert all(row["status"] in ("active", "inactive", "deleted") for row in stored.values())


def test_the_report_prints_the_stored_status(backend: Backend) -> None:
    stored = _stored(backend)
    statuses = set()
    report = build_blast_radius(backend, LEAKED, None).to_json()
    for credential in report["credentials"]:
        if credential["kind"] == "console-password":
            continue
        row = stored[credential["id"]]
        statuses.add(credential["status"])
        if credential["status"] == "expired":
            assert row["status"] == "active" and row["expiration"] == credential["status_at"]
        else:
            assert (row["status"], row["event"]) == (credential["status"], credential["status_event"])
    assert {"deleted", "active"} <= statuses


def test_within_an_incident_only_its_events_decide_a_status(backend: Backend) -> None:
    """Every ending was loaded under "endings": within "workshop", as in a store holding it alone, no key has ended."""
    stored = _stored(backend)
    report = build_blast_radius(backend, LEAKED, "workshop").to_json()
    keys = [c for c in report["credentials"] if c["kind"] != "console-password"]
    assert any(stored[c["id"]]["status"] == "deleted" for c in keys), "the whole store has deleted keys of this radius"
    for credential in keys:
        assert credential["status"] in ("active", "expired") and credential["status_event"] is None, credential
