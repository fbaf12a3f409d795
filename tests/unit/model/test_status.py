"""An access key's status, decided in one place (keytrail/model/status.py)."""

from __future__ import annotations

from keytrail.model.status import KeyStatus, decided_status, status_at

END = "2026-01-08T00:00:00Z"


def change(verb: str, time: str, event_id: str) -> dict[str, str]:
    return {"verb": verb, "time": time, "eventID": event_id}


def test_a_deletion_decides_whatever_came_before_or_after() -> None:
    changes = [change("DELETED", "2026-01-07T02:00:00Z", "d2"), change("DEACTIVATED", "2026-01-07T01:00:00Z", "d1")]
    assert decided_status("long-term", "IAMUser", changes, []) == KeyStatus("deleted", "2026-01-07T02:00:00Z", "d2")


def test_the_latest_toggle_decides_between_active_and_inactive() -> None:
    off, on = change("DEACTIVATED", "2026-01-07T01:00:00Z", "a"), change("ACTIVATED", "2026-01-07T02:00:00Z", "b")
    # Listed in any order, the later change wins.
    assert decided_status("long-term", "IAMUser", [on, off], []).status == "active"
    assert decided_status("long-term", "IAMUser", [off], []) == KeyStatus("inactive", "2026-01-07T01:00:00Z", "a")


def test_deleting_the_principal_ends_its_keys_and_sessions() -> None:
    gone = [{"time": "2026-01-07T05:00:00Z", "eventID": "u"}]
    assert decided_status("long-term", "IAMUser", [], gone) == KeyStatus("deleted", "2026-01-07T05:00:00Z", "u")
    # A user's GetSessionToken or console keys have the user's permissions, which its deletion took away.
    assert decided_status("temporary", "IAMUser", [], gone) == KeyStatus("deleted", "2026-01-07T05:00:00Z", "u")
    # A role session's key ends with its role; the session principal itself is never "deleted".
    role_gone = [{"time": "2026-01-07T06:00:00Z", "eventID": "r"}]
    assert decided_status("temporary", "AssumedRole", [], [], role_gone) == KeyStatus("deleted", "2026-01-07T06:00:00Z", "r")
    assert decided_status("temporary", "AssumedRole", [], gone, []).status == "active"
    # Deleting the key that minted a session is not deleting the session's principal.
    assert decided_status("temporary", "AssumedRole", [], [], []).status == "active"


def test_expiry_depends_on_the_end_of_the_evidence_in_scope() -> None:
    active = KeyStatus("active")
    assert status_at(active, "temporary", "2026-01-09T02:00:00Z", END) == active
    assert status_at(active, "temporary", "2026-01-07T10:00:00Z", END) == KeyStatus("expired", "2026-01-07T10:00:00Z")
    assert status_at(active, "long-term", "2026-01-07T10:00:00Z", END) == active
    deleted = KeyStatus("deleted", "t", "e")
    assert status_at(deleted, "temporary", "2026-01-07T10:00:00Z", END) == deleted
