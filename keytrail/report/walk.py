"""The walk of a blast radius: every credential that follows from a key, and the doors it opened.

``derived-credentials`` from the key (every credential it issued, transitively and in
time order); ``console-logins`` for login profiles those credentials created or reset
and the ConsoleLogins that followed; ``console-session-keys`` for the console sessions'
temporary keys, walked in turn from the login; then ``doors-opened`` and
``door-sessions`` for the sessions that came through the doors, walked in turn. It
repeats until no new credential appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query
from keytrail.report.doors import Door, door_query
from keytrail.report.findings import parse_json_text
from keytrail.rules import policy
from keytrail.rules.doors import identity_center, walked


@dataclass(slots=True)
class Origin:
    """How a credential entered the blast radius."""

    parent: str | None
    born_by: str | None
    born_at: str | None
    born_event: str | None
    since: str
    kind: str
    extra: dict[str, Any]


#: Properties of an OPENED edge that are not the door's detail.
_DOOR_FIELDS = ("door", "rule", "eventID", "eventTime", "admits", "external", "public", "sessionName", "rolePrefix")


def _sso_prefix(kind: str, target_name: str | None) -> str | None:
    """An Identity Center permission set's roles are ``AWSReservedSSO_<set name>_<suffix>`` in each account."""
    if identity_center(kind):
        # A set known only by its ARN (CreatePermissionSet not in the evidence): any Identity Center role, never any role.
        return f"AWSReservedSSO_{target_name}_" if target_name else "AWSReservedSSO_"
    return None


def _change(row: dict[str, Any]) -> dict[str, Any]:
    edge = row.get("edge") or {}
    request = parse_json_text(row.get("requestParameters"))
    return {k: row[k] for k in ("verb", "time", "eventID", "eventName")} | {
        "policyDocument": edge.get("policyDocument"),
        "policyArn": edge.get("policyArn"),
        "statementId": request.get("statementId"),
    }


def _added(edge: dict[str, Any], before: list[Any] | None) -> dict[str, Any]:
    """For a trust-policy door, the principals its policy admits that the one before it did not (when that is in the evidence)."""
    earlier = [b for b in before or [] if b]
    if edge.get("door") != "trust-policy" or not earlier:
        return {}
    previous = set(policy.admitted_principals(policy.document(earlier[-1])))
    return {"added": [p for p in edge.get("admits") or [] if p not in previous]}


def _doors(backend: Backend, found: dict[str, Origin], incident: str | None, known: dict[str, Door]) -> list[Door]:
    """Doors opened by these credentials that are not known yet."""
    keys = [{"id": k, "since": origin.since} for k, origin in sorted(found.items())]
    new = []
    for row in run_query(backend, "doors-opened", {"credentials": keys, "incident": incident}):
        door_id = f"{row['eventID']}:{row['target']}"
        if door_id in known:
            continue
        edge = row["door"]
        added = _added(edge, row["before"])
        if added.get("added") == []:
            # A trust policy that admits nobody its previous version did not (a restore) opens nothing.
            continue
        door = Door(
            id=door_id,
            kind=edge["door"],
            credential=row["credential"],
            event_id=row["eventID"],
            time=row["eventTime"],
            event_name=row["eventName"],
            rule=edge["rule"],
            target=row["target"],
            target_arn=row["targetArn"],
            target_type=row["targetType"],
            account=row["account"],
            admits=list(edge.get("admits") or []),
            external=list(edge.get("external") or []),
            public=bool(edge.get("public")),
            session_name=edge.get("sessionName"),
            role_prefix=edge.get("rolePrefix") or _sso_prefix(edge["door"], row["targetName"]),
            # Sorted: the stores return an edge's properties in different orders.
            detail={k: v for k, v in sorted(edge.items()) if k not in _DOOR_FIELDS and v is not None} | added,
            changes=sorted((_change(c) for c in row["changes"] or [] if c), key=lambda c: (c["time"], c["eventID"])),
            sessions=[],
        )
        known[door_id] = door
        new.append(door)
    return new


def walk(backend: Backend, key: str, since: str, incident: str | None) -> tuple[dict[str, Origin], list[dict[str, Any]], dict[str, Door]]:
    """Every access key of the blast radius (with how it came in), the console-login rows, and the doors opened.

    Repeats until nothing new appears: credentials derived from the keys found, console sessions of
    passwords they set, then the sessions that came through the doors they opened, whose own
    derived credentials and doors are followed in turn.
    """
    found: dict[str, Origin] = {key: Origin(None, None, None, None, since, "", {})}
    pending = [key]
    logins: list[dict[str, Any]] = []
    attributed: set[str] = set()
    doors: dict[str, Door] = {}
    asked_doors: set[str] = set()
    while pending:
        while pending:
            root = pending.pop(0)
            for row in run_query(backend, "derived-credentials", {"key": root, "since": found[root].since, "incident": incident}):
                if row["credential"] in found or row["parent"] not in found:
                    continue
                found[row["credential"]] = Origin(
                    row["parent"],
                    row["via"],
                    row["eventTime"],
                    row["eventID"],
                    row["eventTime"],
                    row["kind"] or "",
                    {"sharedEventID": row["sharedEventID"], "twinEventID": row["twinEventID"], "twinAccount": row["twinAccount"]},
                )
        keys = [{"id": k, "since": origin.since} for k, origin in sorted(found.items())]
        logins = run_query(backend, "console-logins", {"credentials": keys, "incident": incident})
        login_times: dict[str, list[dict[str, Any]]] = {}
        for row in logins:
            if row["loginEventID"] and row["loginEventID"] not in {x["loginEventID"] for x in login_times.get(row["user"], [])}:
                login_times.setdefault(row["user"], []).append(row)
        asked = [{"user": user, "since": row["loginTime"]} for user, rows in sorted(login_times.items()) for row in rows]
        if asked:
            for session in run_query(backend, "console-session-keys", {"logins": asked, "incident": incident}):
                if session["credential"] in found or session["credential"] in attributed:
                    continue
                # A console key belongs to the latest login of its user at or before its first console call.
                before = [r for r in login_times[session["user"]] if r["loginTime"] <= session["firstUse"]]
                if not before:
                    continue
                login = max(before, key=lambda r: (r["loginTime"], r["loginEventID"]))
                attributed.add(session["credential"])
                found[session["credential"]] = Origin(
                    login["profile"], "ConsoleLogin", login["loginTime"], login["loginEventID"], login["loginTime"], "temporary", {}
                )
                pending.append(session["credential"])
        if pending:
            continue
        fresh = {k: origin for k, origin in found.items() if k not in asked_doors}
        asked_doors |= set(fresh)
        new_doors = [d for d in _doors(backend, fresh, incident, doors) if walked(d.kind)]
        if not new_doors:
            break
        for row in run_query(backend, "door-sessions", {"doors": [door_query(d) for d in new_doors], "incident": incident}):
            door = doors[row["door"]]
            if row["credential"] not in door.sessions:
                door.sessions.append(row["credential"])
            if row["credential"] in found:
                continue
            entered = row["bornEventID"] if row["bornAt"] and row["bornAt"] >= door.time else None
            found[row["credential"]] = Origin(
                door.credential,
                f"door:{door.kind}",
                row["bornAt"] or row["firstUse"],
                entered,
                door.time,
                row["kind"] or "",
                {
                    "door": door.id,
                    "door_event": door.event_id,
                    "door_kind": door.kind,
                    "door_rule": door.rule,
                    "entered_event": entered,
                    "session": row["principalArn"],
                },
            )
            pending.append(row["credential"])
    return found, logins, doors
