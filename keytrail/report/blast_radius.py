"""The blast radius of one access key, assembled from named queries.

The walk: ``derived-credentials`` from the key (every credential it issued,
transitively and in time order); ``console-logins`` for login profiles those
credentials created or reset and the ConsoleLogins that followed;
``console-session-keys`` for the console sessions' temporary keys, which are walked
in turn from the login. It repeats until no new credential appears. Everything else
(details, timeline, principals created, upstream, pivots) is one query each over the
credentials found. Python only decides statuses, sleepers and containment from the
rows, and labels events with ATT&CK.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query
from keytrail.model.status import KeyStatus, status_at
from keytrail.report.attack import load_mapping
from keytrail.report.containment import containment_actions
from keytrail.report.doors import Door, door_actions, door_query, door_status
from keytrail.report.findings import label_events, parse_json_text
from keytrail.rules import policy

#: An agent carried by at most this many events, or by at most 1% of the store's events, is unusual.
RARE_AGENT_FLOOR = 25
RARE_AGENT_SHARE = 0.01
#: The end of the evidence is searched for to the second, at most this far past the last event of the blast radius.
MAX_SEARCH = timedelta(days=3660)
#: Routine use before an attacker's first use: at least this many calls of the key over at least this long.
ROUTINE_MIN_EVENTS = 5
ROUTINE_MIN_SPAN = timedelta(hours=24)


@dataclass(slots=True)
class _Origin:
    """How a credential entered the blast radius."""

    parent: str | None
    born_by: str | None
    born_at: str | None
    born_event: str | None
    since: str
    kind: str
    extra: dict[str, Any]


def _first(changes: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    found = sorted((c for c in changes or [] if c), key=lambda c: (c["time"], c["eventID"]))
    return found[0] if found else None


#: Properties of an OPENED edge that are not the door's detail.
_DOOR_FIELDS = ("door", "rule", "eventID", "eventTime", "admits", "external", "public", "sessionName", "rolePrefix")


def _sso_prefix(kind: str, target_name: str | None) -> str | None:
    """An Identity Center permission set's roles are ``AWSReservedSSO_<set name>_<suffix>`` in each account."""
    if kind in ("sso-permission-set", "sso-assignment"):
        # A set known only by its ARN (CreatePermissionSet not in the evidence): any Identity Center role, never any role.
        return f"AWSReservedSSO_{target_name}_" if target_name else "AWSReservedSSO_"
    return None


def _change(row: dict[str, Any]) -> dict[str, Any]:
    edge = row.get("edge") or {}
    return {k: row[k] for k in ("verb", "time", "eventID", "eventName")} | {"policyDocument": edge.get("policyDocument"), "policyArn": edge.get("policyArn")}


def _doors(backend: Backend, found: dict[str, _Origin], incident: str | None, known: dict[str, Door]) -> list[Door]:
    """Doors opened by these credentials that are not known yet."""
    keys = [{"id": k, "since": origin.since} for k, origin in sorted(found.items())]
    new = []
    for row in run_query(backend, "doors-opened", {"credentials": keys, "incident": incident}):
        door_id = f"{row['eventID']}:{row['target']}"
        if door_id in known:
            continue
        edge = row["door"]
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
            detail={k: v for k, v in edge.items() if k not in _DOOR_FIELDS and v is not None},
            changes=sorted((_change(c) for c in row["changes"] or [] if c), key=lambda c: (c["time"], c["eventID"])),
            sessions=[],
        )
        known[door_id] = door
        new.append(door)
    return new


#: Doors that let callers in without a session CloudTrail shows as a principal's key: a resource policy or a
#: function URL (invocations are data events), a trust anchor (its sessions come through a profile's roles,
#: the ``roles-anywhere`` door). They are reported and contained, not walked; every other kind is walked,
#: including any kind a rule adds later.
_UNWALKED_DOORS = frozenset({"resource-policy", "function-url", "trust-anchor"})


def _walk(backend: Backend, key: str, since: str, incident: str | None) -> tuple[dict[str, _Origin], list[dict[str, Any]], dict[str, Door]]:
    """Every access key of the blast radius (with how it came in), the console-login rows, and the doors opened.

    Repeats until nothing new appears: credentials derived from the keys found, console sessions of
    passwords they set, then the sessions that came through the doors they opened, whose own
    derived credentials and doors are followed in turn.
    """
    found: dict[str, _Origin] = {key: _Origin(None, None, None, None, since, "", {})}
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
                found[row["credential"]] = _Origin(
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
                found[session["credential"]] = _Origin(
                    login["profile"], "ConsoleLogin", login["loginTime"], login["loginEventID"], login["loginTime"], "temporary", {}
                )
                pending.append(session["credential"])
        if pending:
            continue
        fresh = {k: origin for k, origin in found.items() if k not in asked_doors}
        asked_doors |= set(fresh)
        new_doors = [d for d in _doors(backend, fresh, incident, doors) if d.kind not in _UNWALKED_DOORS]
        if not new_doors:
            break
        for row in run_query(backend, "door-sessions", {"doors": [door_query(d) for d in new_doors], "incident": incident}):
            door = doors[row["door"]]
            if row["credential"] not in door.sessions:
                door.sessions.append(row["credential"])
            if row["credential"] in found:
                continue
            entered = row["bornEventID"] if row["bornAt"] and row["bornAt"] >= door.time else None
            found[row["credential"]] = _Origin(
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


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def evidence_end(backend: Backend, known: str | None, incident: str | None) -> str | None:
    """The time of the last event of the evidence (of the incident, or of the store).

    ``known`` is a time at which an event exists (the blast radius's last event). A galloping
    search over ``evidence-reaches`` (an index range seek) finds the last second at or after
    which an event exists: a few dozen seeks instead of a scan of every event.
    """
    if known is None:
        return None

    def reaches(when: datetime) -> bool:
        return any(row["found"] for row in run_query(backend, "evidence-reaches", {"since": _iso(when), "incident": incident}))

    low = datetime.strptime(known, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    step = timedelta(seconds=1)
    high = low + step
    while reaches(high):
        low, step = high, step * 2
        if step > MAX_SEARCH:
            return None
        high = low + step
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        middle -= timedelta(microseconds=middle.microsecond)
        if reaches(middle):
            low = middle
        else:
            high = middle
    return _iso(low)


def _key_status(detail: dict[str, Any], end: str | None) -> KeyStatus:
    """The status a load stored on the key (``unknown`` if none), as at the end of the evidence in scope."""
    stored = KeyStatus(detail.get("status") or "unknown", detail.get("statusAt"), detail.get("statusEventID"))
    return status_at(stored, detail.get("kind"), detail.get("expiration"), end)


def _pivots(
    backend: Backend, keys: list[str], principals: list[str], shared: list[str], window: tuple[str, str], events: int, incident: str | None
) -> list[dict[str, Any]]:
    params = {"keys": keys, "principals": principals, "shared": shared, "from": window[0], "to": window[1], "incident": incident}
    max_uses = max(RARE_AGENT_FLOOR, int(events * RARE_AGENT_SHARE))
    rows = [("source-ip", r) for r in run_query(backend, "pivots-by-source-ip", params)]
    rows += [("user-agent", r) for r in run_query(backend, "pivots-by-user-agent", params | {"maxUses": max_uses})]
    out = []
    for via, row in rows:
        evidence = [dict(zip(("time", "eventID"), text.split(" ", 1), strict=True)) for text in dict.fromkeys((row["firstEvidence"], row["lastEvidence"]))]
        out.append(
            {
                "heuristic": True,
                "via": via,
                "value": row["value"],
                "credential": row["credential"],
                "principal": row["principal"],
                "principal_type": row["principalType"],
                "events": row["events"],
                "first_seen": row["firstSeen"],
                "last_seen": row["lastSeen"],
                "evidence": evidence,
            }
        )
    return _rank_pivots(out)


def _door_report(doors: dict[str, Door], credentials: list[dict[str, Any]], revoke_before: str | None) -> list[dict[str, Any]]:
    """Every door the blast radius opened: what it admits, who came through it, whether it is still open."""
    status_of = {c["id"]: c["status"] for c in credentials}
    out = []
    for door in sorted(doors.values(), key=lambda d: (d.time, d.event_id, d.target)):
        status, closed_by = door_status(door, status_of)
        out.append(
            {
                "kind": door.kind,
                "target": door.target_arn,
                "target_type": door.target_type,
                "opened_by": door.credential,
                "eventName": door.event_name,
                "eventID": door.event_id,
                "time": door.time,
                "rule": door.rule,
                "admits": door.admits,
                "external": door.external,
                "public": door.public,
                "session_name": door.session_name,
                "detail": door.detail,
                "sessions": sorted(door.sessions),
                "status": status,
                "closed_at": closed_by["time"] if closed_by else None,
                "closed_event": closed_by["eventID"] if closed_by else None,
                "actions": [{"action": a, "target": t, "detail": d} for a, t, d in door_actions(door, revoke_before)] if status == "open" else [],
            }
        )
    return out


def instance_credentials_outside(credentials: list[dict[str, Any]], timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """EC2 instance-role sessions (named after the instance) used from an address another credential of the blast radius used.

    The instance's own calls come from the instance; the attacker's from the addresses their other
    credentials use. The same address on both sides means the instance credentials left the instance
    (GuardDuty's InstanceCredentialExfiltration, found from the evidence alone).
    """
    instance_keys = {c["id"]: c for c in credentials if str(c.get("session_name") or "").startswith("i-")}
    if not instance_keys:
        return []
    others = {t["sourceIPAddress"] for t in timeline if t["credential"] not in instance_keys and t.get("sourceIPAddress")}
    found: dict[str, dict[str, Any]] = {}
    for event in timeline:
        if event["credential"] in instance_keys and event.get("sourceIPAddress") in others:
            entry = found.setdefault(
                event["credential"],
                {"credential": event["credential"], "instance": instance_keys[event["credential"]]["session_name"], "addresses": [], "events": []},
            )
            if event["sourceIPAddress"] not in entry["addresses"]:
                entry["addresses"].append(event["sourceIPAddress"])
            entry["events"].append(event["eventID"])
    return list(found.values())


def _parse(when: str) -> datetime:
    return datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _aws_address(address: str | None) -> bool:
    return not address or address == "AWS Internal" or address.endswith(".amazonaws.com")


def attacker_first_use(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Where the key's own use was routine for a while, the first call from a new address or user agent (a heuristic).

    ``events`` are the key's calls in time order (``eventTime``, ``sourceIPAddress``, ``userAgent``...). Routine
    use is at least :data:`ROUTINE_MIN_EVENTS` calls over at least :data:`ROUTINE_MIN_SPAN` (e.g. a CI job for
    days); the first later call from an address or a user agent that routine never used is reported as the
    attacker's first use, next to the key's first use. ``None`` when the evidence shows no such routine: then the
    key's first use is the only first use there is. AWS's own addresses (``AWS Internal``, service hosts) are not
    an address of the owner's or the attacker's.
    """
    addresses: set[str] = set()
    agents: set[str] = set()
    start: datetime | None = None
    for count, event in enumerate(e for e in events if not _aws_address(e.get("sourceIPAddress"))):
        when = _parse(event["eventTime"])
        start = start or when
        address, agent = event["sourceIPAddress"], event.get("userAgent") or ""
        if count >= ROUTINE_MIN_EVENTS and when - start >= ROUTINE_MIN_SPAN and (address not in addresses or agent not in agents):
            new = [f"address {address}"] * (address not in addresses) + [f"user agent {agent}"] * (agent not in agents)
            return {
                "heuristic": True,
                "time": event["eventTime"],
                "eventName": event["eventName"],
                "eventID": event["eventID"],
                "sourceIPAddress": address,
                "userAgent": agent or None,
                "routine_events": count,
                "routine_since": _iso(start),
                "reason": f"first call from {' and '.join(new)}, after {count} calls since {_iso(start)} from "
                f"{len(addresses)} address(es) and {len(agents)} user agent(s)",
                "routine_addresses": sorted(addresses),
                "routine_agents": sorted(agents),
            }
        addresses.add(address)
        agents.add(agent)
    return None


def _finding_reason(row: dict[str, Any], key: str, attacker_from: dict[str, Any] | None) -> str | None:
    """Why a blast-radius call is the attacker's: the credential it was made with, or an address or agent the owner's routine never used."""
    if row["credential"] != key:
        return f"made with {row['credential']}, which the blast radius derived from the key"
    if attacker_from is None:
        return "made with the key, which shows no routine use before"
    new = [f"address {row['sourceIPAddress']}"] * (row.get("sourceIPAddress") not in attacker_from["routine_addresses"])
    new += [f"user agent {row.get('userAgent')}"] * ((row.get("userAgent") or "") not in attacker_from["routine_agents"])
    if new and not _aws_address(row.get("sourceIPAddress")):
        return f"made with the key from {' and '.join(new)}, which its routine use never used (heuristic)"
    return None


def _rank_pivots(pivots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A party that shares both an address and a user agent with the blast radius ranks above one sharing only one."""
    shares: dict[tuple[str, str], set[str]] = {}
    for p in pivots:
        shares.setdefault((str(p["credential"]), str(p["principal"])), set()).add(p["via"])
    for p in pivots:
        p["shares"] = sorted(shares[(str(p["credential"]), str(p["principal"]))])
    return sorted(pivots, key=lambda p: (-len(p["shares"]), p["via"], p["value"], str(p["credential"]), str(p["principal"])))


def _quarantines(backend: Backend, principals: list[str], incident: str | None) -> list[dict[str, Any]]:
    """AWS's quarantine of an exposed key on these principals: the detection anchor of the timeline."""
    out = []
    for row in run_query(backend, "quarantines", {"principals": principals, "incident": incident}):
        name = policy.quarantine_policy(row["eventName"], parse_json_text(row["requestParameters"]))
        if name:
            out.append({"time": row["eventTime"], "eventID": row["eventID"], "eventName": row["eventName"], "principal": row["principalArn"], "policy": name})
    return out


def build_blast_radius(backend: Backend, key: str, incident: str | None = None) -> dict[str, Any]:
    """The blast radius of ``key`` as one JSON-ready object (fields documented in docs/blast-radius.md).

    Args:
        backend: The store.
        key: The access key id to start from (AKIA… or ASIA…).
        incident: Only events loaded under this incident; ``None`` for all.

    Returns:
        The report. ``found`` is False (and most sections empty) when the store has no such key.
    """
    # An empty embedded store answers no row at all, even to count().
    store_events = sum(int(row["events"]) for row in run_query(backend, "store-events"))
    identity_rows = run_query(backend, "key-identity", {"key": key})
    root_details = run_query(backend, "credential-details", {"credentials": [{"id": key, "since": ""}], "incident": incident})
    root_since = (root_details[0]["bornAt"] if root_details else None) or ""

    found, login_rows, doors = _walk(backend, key, root_since, incident)
    access = [{"id": k, "since": origin.since} for k, origin in sorted(found.items())]
    details = {row["credential"]: row for row in run_query(backend, "credential-details", {"credentials": access, "incident": incident})}
    events = run_query(backend, "credential-events", {"credentials": access, "incident": incident})
    end = evidence_end(backend, max((row["eventTime"] for row in events), default=None), incident)
    created = run_query(backend, "principals-created", {"credentials": access, "incident": incident})
    upstream_rows = run_query(backend, "key-upstream", {"key": key, "incident": incident})

    # -- credentials: the key first, then access keys and console passwords in the order they were born
    credentials: list[dict[str, Any]] = []
    for cred_id, origin in found.items():
        detail = details.get(cred_id, {})
        status = _key_status(detail, end)
        credentials.append(
            {
                "id": cred_id,
                "kind": detail.get("kind") or origin.kind or "other",
                "owner": detail.get("ownerArn"),
                "owner_type": detail.get("ownerType"),
                "account": detail.get("account"),
                "session_of": detail.get("ownerParent"),
                "born_by": origin.born_by if origin.parent else detail.get("bornBy"),
                "born_at": origin.born_at if origin.parent else detail.get("bornAt"),
                "born_event": origin.born_event if origin.parent else detail.get("bornEventID"),
                "parent": origin.parent,
                "events": detail.get("events", 0),
                "first_use": detail.get("firstUse"),
                "last_use": detail.get("lastUse"),
                "status": status.status,
                "status_at": status.at,
                "status_event": status.event_id,
                "expires": detail.get("expiration") if (detail.get("kind") or origin.kind) == "temporary" else None,
                "session_name": detail.get("ownerName") if detail.get("ownerType") == "AssumedRole" else None,
                **{k: v for k, v in origin.extra.items() if v is not None},
            }
        )
    profiles: dict[str, dict[str, Any]] = {}
    console_events: list[dict[str, Any]] = []
    for row in login_rows:
        profile = profiles.get(row["profile"])
        if profile is None or row["eventTime"] < profile["born_at"]:
            deleted = _first(row["deletions"]) or _first(row["userDeletions"])
            profile = profiles[row["profile"]] = {
                "id": row["profile"],
                "kind": "console-password",
                "owner": row["userArn"],
                "owner_type": "IAMUser",
                "account": row["account"],
                "session_of": None,
                "born_by": row["eventName"],
                "born_at": row["eventTime"],
                "born_event": row["eventID"],
                "parent": row["credential"],
                "events": 0,
                "first_use": None,
                "last_use": None,
                "status": "deleted" if deleted else "active",
                "status_at": deleted["time"] if deleted else None,
                "status_event": deleted["eventID"] if deleted else None,
                "expires": None,
                "logins": [],
            }
        if row["loginEventID"] and row["loginEventID"] not in {x["eventID"] for x in profile["logins"]}:
            detail = parse_json_text(row["loginDetail"])
            profile["logins"].append(
                {"time": row["loginTime"], "eventID": row["loginEventID"], "sourceIPAddress": row["loginSourceIPAddress"], "mfa": detail.get("MFAUsed")}
            )
            console_events.append(
                {
                    "eventTime": row["loginTime"],
                    "eventName": "ConsoleLogin",
                    "action": "signin:ConsoleLogin",
                    "credential": row["profile"],
                    "eventID": row["loginEventID"],
                    "succeeded": True,
                    "errorCode": None,
                    "target": row["user"],
                    "principal": row["user"],
                    "sourceIPAddress": row["loginSourceIPAddress"],
                    "account": row["account"],
                    "requestParameters": None,
                    "additionalEventData": row["loginDetail"],
                    "userAgent": None,
                }
            )
    for profile in profiles.values():
        profile["logins"].sort(key=lambda x: (x["time"], x["eventID"]))
        profile["events"] = len(profile["logins"])
        if profile["logins"]:
            profile["first_use"], profile["last_use"] = profile["logins"][0]["time"], profile["logins"][-1]["time"]
    credentials = credentials[:1] + sorted(credentials[1:] + list(profiles.values()), key=lambda c: (c["born_at"] or "", c["id"]))

    # -- timeline and findings
    timeline_rows = sorted(events + console_events, key=lambda r: (r["eventTime"], r["eventID"]))
    seen: set[str] = set()
    timeline = []
    for row in timeline_rows:
        if row["eventID"] in seen:
            continue
        seen.add(row["eventID"])
        timeline.append(
            {
                "time": row["eventTime"],
                "eventName": row["eventName"],
                "credential": row["credential"],
                "eventID": row["eventID"],
                "succeeded": row["succeeded"] is not False,
                "errorCode": row["errorCode"],
                "target": row["target"],
                "sourceIPAddress": row["sourceIPAddress"],
                "account": row["account"],
            }
        )
    root_events = [t for t in timeline if t["credential"] == key]
    first = root_events[0] if root_events else None
    attacker_from = attacker_first_use([r for r in events if r["credential"] == key])

    labelled = [r | {"reason": _finding_reason(r, key, attacker_from)} for r in timeline_rows if r["eventID"] in seen]
    findings = list({f["eventID"]: f for f in label_events(labelled, load_mapping())}.values())

    principals_created = []
    for row in created:
        deleted = _first(row["deletions"])
        principals_created.append(
            {
                "id": row["id"],
                "name": row["name"],
                "arn": row["arn"],
                "type": row["principalType"],
                "account": row["account"],
                "by": row["credential"],
                "at": row["eventTime"],
                "eventID": row["eventID"],
                "deleted": deleted is not None,
                "deleted_at": deleted["time"] if deleted else None,
                "uses": row["uses"],
            }
        )

    upstream = [
        {
            "credential": row["credential"],
            "principal": row["principal"],
            "principal_type": row["principalType"],
            "born": row["born"],
            "depth": row["depth"],
            "eventName": row["eventName"],
            "eventID": row["eventID"],
            "time": row["eventTime"],
            "account": row["account"],
            # Only the credential that made the key itself is likely compromised; deeper levels are provenance to review.
            "likely_compromised": row["depth"] == 0,
        }
        for row in upstream_rows
    ]

    sleepers = [
        {
            "kind": c["kind"],
            "id": c["id"],
            "owner": c["owner"],
            "born_by": c["born_by"],
            "born_at": c["born_at"],
            "eventID": c["born_event"],
            "status": c["status"],
        }
        for c in credentials[1:]
        if c["events"] == 0
    ]
    sleepers += [
        {
            "kind": p["type"],
            "id": p["arn"],
            "owner": p["arn"],
            "born_by": "CreateUser" if p["type"] == "IAMUser" else "CreateRole",
            "born_at": p["at"],
            "eventID": p["eventID"],
            "status": "deleted" if p["deleted"] else "active",
        }
        for p in principals_created
        if not p["uses"]
    ]

    # Attackers keep working after the key is deleted: the pivot window runs to the end of the evidence.
    window = (timeline[0]["time"], max(end or "", timeline[-1]["time"])) if timeline else None
    # Graph ids of every principal in the blast radius: their keyless calls (a ConsoleLogin) are not pivots.
    principal_ids = sorted(
        {d["owner"] for d in details.values() if d.get("owner")}
        | {row["user"] for row in login_rows}
        | {row["id"] for row in created}
        | {row["principal"] for row in events if row.get("principal")}
    )
    access_ids = sorted(found)
    # The other account's copy of a call (same sharedEventID) is the same call, never a pivot.
    shared = sorted({row["sharedEventID"] for row in events if row.get("sharedEventID")})
    pivots = _pivots(backend, access_ids, principal_ids, shared, window, store_events, incident) if window else []

    revoke_before = max([end or ""] + [c["born_at"] or "" for c in credentials]) or None
    door_report = _door_report(doors, credentials, revoke_before)
    acting = sorted({f["eventID"] for f in findings if f["succeeded"]})
    targets: dict[str, list[dict[str, Any]]] = {}
    for row in run_query(backend, "event-targets", {"events": acting, "incident": incident}) if acting else []:
        targets.setdefault(row["eventID"], []).append(row)
    containment = containment_actions(
        credentials=credentials,
        principals_created=principals_created,
        findings=findings,
        upstream=upstream,
        revoke_before=revoke_before,
        doors=door_report,
        targets=targets,
    )
    exfiltrated = instance_credentials_outside(credentials, timeline)

    identity = identity_rows[0] if identity_rows else {}
    return {
        "key": key,
        "found": bool(root_details),
        "in_scope": bool(root_details) and any(t["credential"] == key for t in timeline),
        "incident": incident,
        "evidence": {"last_event": end, "store_events": store_events},
        "identity": {
            "type": identity.get("type"),
            "name": identity.get("userName"),
            "arn": identity.get("arn"),
            "account": identity.get("accountId"),
            "evidence": identity.get("evidence"),
        },
        "first_use": {
            "time": first["time"],
            "eventName": first["eventName"],
            "eventID": first["eventID"],
            "sourceIPAddress": first["sourceIPAddress"],
            "succeeded": first["succeeded"],
        }
        if first
        else None,
        "attacker_first_use": attacker_from,
        "detection": _quarantines(backend, principal_ids, incident),
        "credentials": credentials,
        "principals_created": principals_created,
        "upstream": upstream,
        "findings": findings,
        "sleepers": sleepers,
        # A key without a decided status (a load stopped early) is not shown dead: it is listed as alive.
        "still_active": [c["id"] for c in credentials if c["status"] in ("active", "unknown")],
        "doors": door_report,
        "open_doors": list(dict.fromkeys(d["target"] for d in door_report if d["status"] == "open")),
        "instance_credentials_outside": exfiltrated,
        "pivots": pivots,
        "containment": containment,
        "timeline": timeline,
        "window": {"from": window[0], "to": window[1]} if window else None,
    }
