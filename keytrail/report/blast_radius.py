"""The blast radius of one access key, assembled from named queries, in named steps.

1. :func:`keytrail.report.walk.walk`: every credential that follows from the key, and the doors opened;
2. :func:`_credentials`: what the evidence says of each (owner, birth, status);
3. :func:`_timeline`: every event of every credential, and the console logins;
4. :func:`_findings`: the events labelled with ATT&CK, with the reasons routine calls need;
5. the principals created, the upstream, the sleepers, the doors' state;
6. :func:`_pivots`: who else came from the same place (a heuristic);
7. :func:`_containment`: what to do, per kind of action and target.

The graph walks are Cypher (``keytrail/cypher``); Python decides statuses (through
``keytrail/model/status``), sleepers and containment from the rows, and labels events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query, store_incidents
from keytrail.model.status import KeyStatus, decided_status, status_at
from keytrail.report.attack import load_mapping
from keytrail.report.containment import containment_actions
from keytrail.report.doors import Door, door_actions, door_status
from keytrail.report.findings import label_events, parse_json_text
from keytrail.report.geoip import GeoIP
from keytrail.report.heuristics import attacker_first_use, finding_reason, instance_credentials_outside, rank_pivots
from keytrail.report.indicators import AwsRanges, build_indicators
from keytrail.report.model import (
    AttackerFirstUse,
    BlastRadius,
    ContainmentAction,
    Credential,
    Detection,
    DoorAction,
    DoorEntry,
    Evidence,
    Finding,
    FirstUse,
    Identity,
    InstanceCredentialsOutside,
    Login,
    Pivot,
    PivotEvidence,
    PrincipalCreated,
    Sleeper,
    TimelineEvent,
    Upstream,
    Window,
)
from keytrail.report.walk import Origin, walk
from keytrail.rules import policy

#: An agent carried by at most this many events, or by at most 1% of the store's events, is unusual.
RARE_AGENT_FLOOR = 25
RARE_AGENT_SHARE = 0.01
#: The end of the evidence is searched for to the second, at most this far past the last event of the blast radius.
MAX_SEARCH = timedelta(days=3660)


def _first(changes: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    found = sorted((c for c in changes or [] if c), key=lambda c: (c["time"], c["eventID"]))
    return found[0] if found else None


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


@dataclass(slots=True)
class _Scope:
    """What every step asks with: the store, the key, the incident, and the credentials found."""

    backend: Backend
    key: str
    incident: str | None
    found: dict[str, Origin]

    @property
    def access(self) -> list[dict[str, str]]:
        return [{"id": k, "since": origin.since} for k, origin in sorted(self.found.items())]


# -- step 2: the credentials


def _key_credentials(scope: _Scope, details: dict[str, dict[str, Any]], end: str | None) -> list[Credential]:
    out = []
    for cred_id, origin in scope.found.items():
        detail = details.get(cred_id, {})
        status = _key_status(detail, end)
        kind = detail.get("kind") or origin.kind or "other"
        derived = origin.parent is not None
        extra = origin.extra
        out.append(
            Credential(
                id=cred_id,
                kind=kind,
                owner=detail.get("ownerArn"),
                owner_type=detail.get("ownerType"),
                account=detail.get("account"),
                session_of=detail.get("ownerParent"),
                born_by=origin.born_by if derived else detail.get("bornBy"),
                born_at=origin.born_at if derived else detail.get("bornAt"),
                born_event=origin.born_event if derived else detail.get("bornEventID"),
                parent=origin.parent,
                events=detail.get("events", 0),
                first_use=detail.get("firstUse"),
                last_use=detail.get("lastUse"),
                status=status.status,
                status_at=status.at,
                status_event=status.event_id,
                expires=detail.get("expiration") if kind == "temporary" else None,
                session_name=detail.get("ownerName") if detail.get("ownerType") == "AssumedRole" else None,
                door=extra.get("door"),
                door_kind=extra.get("door_kind"),
                door_event=extra.get("door_event"),
                door_rule=extra.get("door_rule"),
                entered_event=extra.get("entered_event"),
                session=extra.get("session"),
                sharedEventID=extra.get("sharedEventID"),
                twinEventID=extra.get("twinEventID"),
                twinAccount=extra.get("twinAccount"),
            )
        )
    return out


def _console_passwords(login_rows: list[dict[str, Any]]) -> tuple[list[Credential], list[dict[str, Any]]]:
    """The console passwords the blast radius set, with their logins, and the logins as timeline rows."""
    profiles: dict[str, Credential] = {}
    console_events: list[dict[str, Any]] = []
    for row in login_rows:
        profile = profiles.get(row["profile"])
        if profile is None or row["eventTime"] < str(profile.born_at):
            deleted = _first(row["deletions"]) or _first(row["userDeletions"])
            profile = profiles[row["profile"]] = Credential(
                id=row["profile"],
                kind="console-password",
                owner=row["userArn"],
                owner_type="IAMUser",
                account=row["account"],
                session_of=None,
                born_by=row["eventName"],
                born_at=row["eventTime"],
                born_event=row["eventID"],
                parent=row["credential"],
                events=0,
                first_use=None,
                last_use=None,
                status="deleted" if deleted else "active",
                status_at=deleted["time"] if deleted else None,
                status_event=deleted["eventID"] if deleted else None,
                expires=None,
            )
        if row["loginEventID"] and row["loginEventID"] not in {x.eventID for x in profile.logins}:
            detail = parse_json_text(row["loginDetail"])
            profile.logins.append(Login(row["loginTime"], row["loginEventID"], row["loginSourceIPAddress"], detail.get("MFAUsed")))
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
        profile.logins.sort(key=lambda x: (x.time, x.eventID))
        profile.events = len(profile.logins)
        if profile.logins:
            profile.first_use, profile.last_use = profile.logins[0].time, profile.logins[-1].time
    return list(profiles.values()), console_events


def _credentials(keys: list[Credential], passwords: list[Credential]) -> list[Credential]:
    """The key first, then access keys and console passwords in the order they were born."""
    return keys[:1] + sorted(keys[1:] + passwords, key=lambda c: (c.born_at or "", c.id))


# -- step 3: the timeline


def _timeline(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[TimelineEvent]]:
    """The event rows once each in time order, and the timeline made of them."""
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in sorted(rows, key=lambda r: (r["eventTime"], r["eventID"])):
        if row["eventID"] not in seen:
            seen.add(row["eventID"])
            ordered.append(row)
    timeline = [
        TimelineEvent(
            time=row["eventTime"],
            eventName=row["eventName"],
            credential=row["credential"],
            eventID=row["eventID"],
            succeeded=row["succeeded"] is not False,
            errorCode=row["errorCode"],
            target=row["target"],
            sourceIPAddress=row["sourceIPAddress"],
            account=row["account"],
            userAgent=row.get("userAgent"),
        )
        for row in ordered
    ]
    return ordered, timeline


# -- step 4: findings


def _findings(rows: list[dict[str, Any]], key: str, attacker: AttackerFirstUse | None) -> list[Finding]:
    """The timeline's events labelled with ATT&CK; each carries why it is the attacker's (routine calls need it)."""
    labelled = [row | {"reason": finding_reason(row, key, attacker)} for row in rows]
    return label_events(labelled, load_mapping())


def _exfiltrated(outside: list[InstanceCredentialsOutside], rows: list[dict[str, Any]]) -> list[Finding]:
    """A finding of its own for each instance's credentials used outside it: at the first call that shows it."""
    by_id = {row["eventID"]: row for row in rows}
    out = []
    for entry in outside:
        row = by_id[entry.events[0]]
        out.append(
            Finding(
                eventID=row["eventID"],
                time=row["eventTime"],
                eventName=row["eventName"],
                action=row["action"],
                credential=entry.credential,
                principal=row.get("principal"),
                target=entry.instance,
                category="credential-access",
                tactics=["credential-access"],
                technique="T1552.005",
                technique_name="Unsecured Credentials: Cloud Instance Metadata API",
                succeeded=row["succeeded"] is not False,
                errorCode=row["errorCode"],
                detail=f"credentials of instance {entry.instance} used outside it, from {', '.join(entry.addresses)}",
                reason="; ".join(entry.reasons),
                routine=False,
                sourceIPAddress=row["sourceIPAddress"],
                account=row["account"],
            )
        )
    return out


def _detection(scope: _Scope, principals: list[str]) -> list[Detection]:
    """AWS's quarantine of an exposed key on these principals: the detection anchor of the timeline."""
    out = []
    for row in run_query(scope.backend, "quarantines", {"principals": principals, "incident": scope.incident}):
        name = policy.quarantine_policy(row["eventName"], parse_json_text(row["requestParameters"]))
        if name:
            out.append(Detection(row["eventTime"], row["eventID"], row["eventName"], row["principalArn"], name))
    return out


# -- step 5: principals, upstream, sleepers, doors


def _principals_created(scope: _Scope) -> tuple[list[PrincipalCreated], list[dict[str, Any]]]:
    rows = run_query(scope.backend, "principals-created", {"credentials": scope.access, "incident": scope.incident})
    created = []
    for row in rows:
        deleted = _first(row["deletions"])
        created.append(
            PrincipalCreated(
                id=row["id"],
                name=row["name"],
                arn=row["arn"],
                type=row["principalType"],
                account=row["account"],
                by=row["credential"],
                at=row["eventTime"],
                eventID=row["eventID"],
                deleted=deleted is not None,
                deleted_at=deleted["time"] if deleted else None,
                uses=row["uses"],
            )
        )
    return created, rows


def _upstream(scope: _Scope) -> list[Upstream]:
    return [
        Upstream(
            credential=row["credential"],
            principal=row["principal"],
            principal_name=row["principalName"],
            principal_type=row["principalType"],
            born=row["born"],
            depth=row["depth"],
            eventName=row["eventName"],
            eventID=row["eventID"],
            time=row["eventTime"],
            account=row["account"],
            # Only the credential that made the key itself is likely compromised; deeper levels are provenance to review.
            # An AWS service that minted a session (EC2, Lambda) signed with no key of its own: no credential to compromise.
            likely_compromised=row["depth"] == 0 and row["credential"] is not None,
        )
        for row in run_query(scope.backend, "key-upstream", {"key": scope.key, "incident": scope.incident})
    ]


def _sleepers(credentials: list[Credential], created: list[PrincipalCreated]) -> list[Sleeper]:
    """Credentials born in the blast radius that were never used; users and roles created and never used."""
    out = [Sleeper(c.kind, c.id, c.owner, c.born_by, c.born_at, c.born_event, c.status) for c in credentials[1:] if c.events == 0]
    out += [
        Sleeper(
            p.type,
            p.arn,
            p.arn,
            "CreateUser" if p.type == "IAMUser" else "CreateRole",
            p.at,
            p.eventID,
            "deleted" if p.deleted else "active",
        )
        for p in created
        if not p.uses
    ]
    return out


def _door_report(doors: dict[str, Door], credentials: list[Credential], revoke_before: str | None) -> list[DoorEntry]:
    """Every door the blast radius opened: what it admits, who came through it, whether it is still open."""
    status_of = {c.id: c.status for c in credentials}
    out = []
    for door in sorted(doors.values(), key=lambda d: (d.time, d.event_id, d.target)):
        status, closed_by = door_status(door, status_of)
        out.append(
            DoorEntry(
                kind=door.kind,
                target=door.target_arn,
                target_type=door.target_type,
                opened_by=door.credential,
                eventName=door.event_name,
                eventID=door.event_id,
                time=door.time,
                rule=door.rule,
                admits=door.admits,
                external=door.external,
                public=door.public,
                session_name=door.session_name,
                detail=door.detail,
                sessions=sorted(door.sessions),
                status=status,
                closed_at=closed_by["time"] if closed_by else None,
                closed_event=closed_by["eventID"] if closed_by else None,
                actions=[DoorAction(a, t, d) for a, t, d in door_actions(door, revoke_before)] if status == "open" else [],
            )
        )
    return out


# -- step 6: pivots


def _pivots(scope: _Scope, principals: list[str], shared: list[str], window: Window, store_events: int) -> list[Pivot]:
    params = {
        "keys": sorted(scope.found),
        "principals": principals,
        "shared": shared,
        "from": window.start,
        "to": window.end,
        "incident": scope.incident,
    }
    max_uses = max(RARE_AGENT_FLOOR, int(store_events * RARE_AGENT_SHARE))
    rows = [("source-ip", r) for r in run_query(scope.backend, "pivots-by-source-ip", params)]
    rows += [("user-agent", r) for r in run_query(scope.backend, "pivots-by-user-agent", params | {"maxUses": max_uses})]
    out = []
    for via, row in rows:
        evidence = [PivotEvidence(*text.split(" ", 1)) for text in dict.fromkeys((row["firstEvidence"], row["lastEvidence"]))]
        out.append(
            Pivot(
                via=via,
                value=row["value"],
                credential=row["credential"],
                principal=row["principal"],
                principal_type=row["principalType"],
                events=row["events"],
                first_seen=row["firstSeen"],
                last_seen=row["lastSeen"],
                evidence=evidence,
            )
        )
    return rank_pivots(out)


# -- step 7: containment


def _containment(
    scope: _Scope,
    ours: set[str],
    credentials: list[Credential],
    created: list[PrincipalCreated],
    findings: list[Finding],
    upstream: list[Upstream],
    doors: list[DoorEntry],
    revoke_before: str | None,
) -> list[ContainmentAction]:
    acting = sorted({f.eventID for f in findings if f.succeeded})
    targets: dict[str, list[dict[str, Any]]] = {}
    for row in run_query(scope.backend, "event-targets", {"events": acting, "incident": scope.incident}) if acting else []:
        targets.setdefault(row["eventID"], []).append(row)
    return containment_actions(
        credentials=credentials,
        principals_created=created,
        findings=findings,
        upstream=upstream,
        revoke_before=revoke_before,
        doors=doors,
        targets=targets,
        ours=ours,
    )


def build_blast_radius(
    backend: Backend, key: str, incident: str | None = None, *, aws_ranges: AwsRanges | None = None, geoip: GeoIP | None = None
) -> BlastRadius:
    """The blast radius of ``key`` (fields documented in docs/blast-radius.md; ``.to_json()`` for the JSON).

    Args:
        backend: The store.
        key: The access key id to start from (AKIA… or ASIA…).
        incident: Only events loaded under this incident; ``None`` for all.
        aws_ranges: AWS's published ranges, to name the AWS owner of an indicator's address.
        geoip: MaxMind databases, for each indicator address's country and ASN.

    Returns:
        The report. ``found`` is False (and most sections empty) when the store has no such key.
    """
    # The events the answer draws on: the store's, or the incident's (the share that makes a user agent rare).
    if incident is None:
        # An empty embedded store answers no row at all, even to count().
        store_events = sum(int(row["events"]) for row in run_query(backend, "store-events"))
    else:
        store_events = next((int(row["events"]) for row in store_incidents(backend) if row["incident"] == incident), 0)
    identity_rows = run_query(backend, "key-identity", {"key": key, "incident": incident})
    root_details = run_query(backend, "credential-details", {"credentials": [{"id": key, "since": ""}], "incident": incident})
    root_since = (root_details[0]["bornAt"] if root_details else None) or ""

    # 1. the walk
    found, login_rows, doors = walk(backend, key, root_since, incident)
    scope = _Scope(backend, key, incident, found)
    details = {row["credential"]: row for row in run_query(backend, "credential-details", {"credentials": scope.access, "incident": incident})}
    if incident is not None:
        # A load stores each key's status as the whole store decides it; within an incident, only its events decide.
        for facts in run_query(backend, "key-status-facts", {"keys": sorted(details), "incident": incident}):
            decided = decided_status(facts["kind"], facts["ownerType"], facts["changes"], facts["ownerDeletions"], facts["roleDeletions"])
            details[facts["credential"]] |= {"status": decided.status, "statusAt": decided.at, "statusEventID": decided.event_id}
    events = run_query(backend, "credential-events", {"credentials": scope.access, "incident": incident})
    end = evidence_end(backend, max((row["eventTime"] for row in events), default=None), incident)

    # 2. credentials; 3. timeline
    passwords, console_events = _console_passwords(login_rows)
    credentials = _credentials(_key_credentials(scope, details, end), passwords)
    rows, timeline = _timeline(events + console_events)
    root_events = [t for t in timeline if t.credential == key]
    first = root_events[0] if root_events else None

    # 4. findings, with the owner's routine told apart from the attacker's calls
    upstream = _upstream(scope)
    # A session AWS minted for a service (a function's, an instance's): the service's own calls are its routine.
    issued_to = next((u.principal_name for u in upstream if u.depth == 0 and u.principal_type == "AWSService"), None)
    attacker = attacker_first_use([r for r in events if r["credential"] == key], issued_to)
    outside = instance_credentials_outside(credentials, rows)
    findings = _findings(rows, key, attacker) + _exfiltrated(outside, rows)
    findings.sort(key=lambda f: (f.time, f.eventID, f.category))

    # 5. principals created, sleepers, doors
    created, created_rows = _principals_created(scope)
    sleepers = _sleepers(credentials, created)
    revoke_before = max([end or ""] + [c.born_at or "" for c in credentials]) or None
    door_report = _door_report(doors, credentials, revoke_before)

    # Graph ids of every principal in the blast radius: their keyless calls (a ConsoleLogin) are not pivots.
    principal_ids = sorted(
        {d["owner"] for d in details.values() if d.get("owner")}
        | {row["user"] for row in login_rows}
        | {row["id"] for row in created_rows}
        | {row["principal"] for row in events if row.get("principal")}
    )
    # 6. pivots. Attackers keep working after the key is deleted: the window runs to the end of the evidence.
    window = Window(timeline[0].time, max(end or "", timeline[-1].time)) if timeline else None
    # The other account's copy of a call (same sharedEventID) is the same call, never a pivot.
    shared = sorted({row["sharedEventID"] for row in events if row.get("sharedEventID")})
    pivots = _pivots(scope, principal_ids, shared, window, store_events) if window else []

    # 7. containment
    containment = _containment(scope, {t.eventID for t in timeline}, credentials, created, findings, upstream, door_report, revoke_before)

    identity = identity_rows[0] if identity_rows else {}
    return BlastRadius(
        key=key,
        found=bool(root_details),
        in_scope=bool(root_details) and first is not None,
        incident=incident,
        evidence=Evidence(end, store_events),
        identity=Identity(identity.get("type"), identity.get("userName"), identity.get("arn"), identity.get("accountId"), identity.get("evidence")),
        first_use=FirstUse(first.time, first.eventName, first.eventID, first.sourceIPAddress, first.succeeded) if first else None,
        attacker_first_use=attacker,
        detection=_detection(scope, principal_ids),
        credentials=credentials,
        principals_created=created,
        upstream=upstream,
        findings=findings,
        sleepers=sleepers,
        # A key without a decided status (a load stopped early) is not shown dead: it is listed as alive.
        still_active=[c.id for c in credentials if c.status in ("active", "unknown")],
        doors=door_report,
        open_doors=list(dict.fromkeys(d.target for d in door_report if d.status == "open")),
        instance_credentials_outside=outside,
        pivots=pivots,
        containment=containment,
        timeline=timeline,
        window=window,
        indicators=build_indicators(rows, credentials, created, aws_ranges, geoip),
    )
