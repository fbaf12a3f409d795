"""An access key's status: decided here, once, for the store and for every report.

Two parts. What the evidence did to the key (:func:`decided_status`) does not depend on
where one stands in time: deleted (``DeleteAccessKey``, or the IAM user or role whose key
it is deleted), inactive (the latest ``UpdateAccessKey`` set it
``Inactive``) or active. Each load stores it on the ``AccessKey`` node (``status``,
``statusAt``, ``statusEventID``), so Neo4j Browser shows what the report prints. Whether a
temporary key has *expired* depends on the moment one looks from, the end of the evidence
in scope: :func:`status_at` adds it for a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Statuses a key can have. ``unknown``: the store holds no decided status (a load stopped before the end).
STATUSES = ("active", "inactive", "deleted", "expired", "unknown")


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """A status, since when, and the eventID that shows it (``None`` for active, expired or unknown)."""

    status: str
    at: str | None = None
    event_id: str | None = None


def _sorted(changes: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return sorted((c for c in changes or [] if c), key=lambda c: (c["time"], c["eventID"]))


def decided_status(
    kind: str | None,
    owner_type: str | None,
    changes: list[dict[str, Any]] | None,
    owner_deletions: list[dict[str, Any]] | None,
    role_deletions: list[dict[str, Any]] | None = None,
) -> KeyStatus:
    """What the evidence did to a key, from its ``DELETED``/``DEACTIVATED``/``ACTIVATED`` changes and its principal's deletion.

    Deleting an access key does not end the temporary keys it minted. Deleting the principal does:
    AWS evaluates a key's permissions at every request, and an IAM user or role can only be deleted
    once its policies are gone. So a long-term or temporary key of a deleted IAM user, and a role
    session's key of a deleted role, are ``deleted`` at the principal's deletion.
    """
    ordered = _sorted(changes)
    deleted = [c for c in ordered if c["verb"] == "DELETED"]
    if deleted:
        return KeyStatus("deleted", deleted[0]["time"], deleted[0]["eventID"])
    gone = _sorted(owner_deletions) if owner_type == "IAMUser" else []
    gone += _sorted(role_deletions) if owner_type == "AssumedRole" else []
    if gone:
        first = min(gone, key=lambda c: (c["time"], c["eventID"]))
        return KeyStatus("deleted", first["time"], first["eventID"])
    toggles = [c for c in ordered if c["verb"] in ("DEACTIVATED", "ACTIVATED")]
    if toggles and toggles[-1]["verb"] == "DEACTIVATED":
        return KeyStatus("inactive", toggles[-1]["time"], toggles[-1]["eventID"])
    return KeyStatus("active")


def status_at(stored: KeyStatus, kind: str | None, expiration: str | None, end: str | None) -> KeyStatus:
    """The status at the end of the evidence ``end``: a temporary key still active past its expiration has expired."""
    if stored.status == "active" and kind == "temporary" and expiration and end and expiration <= end:
        return KeyStatus("expired", expiration)
    return stored
