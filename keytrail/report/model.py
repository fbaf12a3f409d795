"""The blast-radius report as typed values: what ``build_blast_radius`` returns and every renderer reads.

Field names are the report's JSON names (docs/blast-radius.md); the names CloudTrail
gives a field (``eventID``, ``eventName``, ``sourceIPAddress``) are kept as CloudTrail
writes them. :func:`to_json` turns any of these into the JSON object, unchanged by the
renderer: the JSON is the report, the terminal and Markdown only present it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def to_json(value: Any) -> Any:
    """The JSON form of a report value: dataclasses become objects (a field may name its JSON key in ``metadata``)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.metadata.get("json", f.name): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


@dataclass(slots=True)
class Evidence:
    last_event: str | None
    store_events: int


@dataclass(slots=True)
class Identity:
    type: str | None
    name: str | None
    arn: str | None
    account: str | None
    evidence: str | None


@dataclass(slots=True)
class FirstUse:
    time: str
    eventName: str
    eventID: str
    sourceIPAddress: str | None
    succeeded: bool


@dataclass(slots=True)
class AttackerFirstUse:
    """The first call from an address or agent that the key's routine use never used (a heuristic)."""

    time: str
    eventName: str
    eventID: str
    sourceIPAddress: str
    userAgent: str | None
    routine_events: int
    routine_since: str
    routine_addresses: list[str]
    routine_agents: list[str]
    reason: str
    heuristic: bool = True


@dataclass(slots=True)
class Detection:
    """AWS's quarantine of an exposed key on a principal: the anchor of the timeline."""

    time: str
    eventID: str
    eventName: str
    principal: str
    policy: str


@dataclass(slots=True)
class Login:
    time: str
    eventID: str
    sourceIPAddress: str | None
    mfa: str | None


@dataclass(slots=True)
class Credential:
    """An access key or a console password of the blast radius, and how it came in."""

    id: str
    kind: str
    owner: str | None
    owner_type: str | None
    account: str | None
    session_of: str | None
    born_by: str | None
    born_at: str | None
    born_event: str | None
    parent: str | None
    events: int
    first_use: str | None
    last_use: str | None
    status: str
    status_at: str | None
    status_event: str | None
    expires: str | None
    session_name: str | None = None
    logins: list[Login] = field(default_factory=list)
    # How a key came in through a door, or across accounts (null otherwise).
    door: str | None = None
    door_kind: str | None = None
    door_event: str | None = None
    door_rule: str | None = None
    entered_event: str | None = None
    session: str | None = None
    sharedEventID: str | None = None
    twinEventID: str | None = None
    twinAccount: str | None = None


@dataclass(slots=True)
class PrincipalCreated:
    id: str
    name: str | None
    arn: str
    type: str | None
    account: str | None
    by: str
    at: str
    eventID: str
    deleted: bool
    deleted_at: str | None
    uses: int


@dataclass(slots=True)
class Upstream:
    credential: str | None
    principal: str | None
    principal_name: str | None
    principal_type: str | None
    born: str
    depth: int
    eventName: str
    eventID: str
    time: str
    account: str | None
    likely_compromised: bool


@dataclass(slots=True)
class Finding:
    """An event labelled with ATT&CK; a failed call is an attempt, not an effect."""

    eventID: str
    time: str
    eventName: str
    action: str
    credential: str | None
    principal: str | None
    target: str | None
    category: str
    tactics: list[str]
    technique: str
    technique_name: str
    succeeded: bool
    errorCode: str | None
    detail: str | None
    reason: str | None
    routine: bool
    sourceIPAddress: str | None
    account: str | None


@dataclass(frozen=True, slots=True)
class Signal:
    """What, beyond the names of its calls, says a credential is in an attacker's hands (``keytrail.report.signals``):
    its kind and what it rests on, as the records say it."""

    kind: str
    detail: str


@dataclass(slots=True)
class FindingGroup:
    """The findings of one credential (or of one principal's calls without a key), with its signals."""

    credential: str | None
    principal: str | None
    first: str
    last: str
    tactics: dict[str, int]
    failed: int
    findings: int
    signals: list[Signal] = field(default_factory=list)


@dataclass(slots=True)
class FindingsReport:
    """``keytrail findings``: the findings of a store (or an incident), per credential, and the findings listed.

    ``findings`` is ``None`` when they were counted but not listed: more than :data:`LISTED_AT_MOST` and
    neither ``--events`` nor ``--credential`` asked for them.
    """

    incident: str | None
    category: str | None
    credential: str | None
    total: int
    failed: int
    groups: list[FindingGroup] = field(metadata={"json": "credentials"})
    findings: list[Finding] | None


#: ``keytrail findings`` lists the findings themselves up to this many unless asked (``--events``, ``--credential``).
LISTED_AT_MOST = 200


@dataclass(slots=True)
class Sleeper:
    kind: str | None
    id: str
    owner: str | None
    born_by: str | None
    born_at: str | None
    eventID: str | None
    status: str


@dataclass(slots=True)
class DoorAction:
    action: str
    target: str
    detail: str


@dataclass(slots=True)
class DoorEntry:
    """A door the blast radius opened: what it admits, who came through, whether it is still open."""

    kind: str
    target: str
    target_type: str | None
    opened_by: str
    eventName: str
    eventID: str
    time: str
    rule: str
    admits: list[str]
    external: list[str]
    public: bool
    session_name: str | None
    detail: dict[str, Any]
    sessions: list[str]
    status: str
    closed_at: str | None
    closed_event: str | None
    actions: list[DoorAction]


@dataclass(slots=True)
class InstanceCredentialsOutside:
    """An instance's role session used outside the instance, with the signs that show it."""

    credential: str
    instance: str
    addresses: list[str]
    events: list[str]
    reasons: list[str]


@dataclass(slots=True)
class PivotEvidence:
    time: str
    eventID: str


@dataclass(slots=True)
class Pivot:
    via: str
    value: str
    credential: str | None
    principal: str | None
    principal_type: str | None
    events: int
    first_seen: str
    last_seen: str
    evidence: list[PivotEvidence]
    shares: list[str] = field(default_factory=list)
    heuristic: bool = True


@dataclass(slots=True)
class ContainmentTarget:
    target: str
    detail: str
    eventID: str | None


@dataclass(slots=True)
class ContainmentAction:
    """One kind of action, with every target it applies to."""

    action: str
    summary: str
    targets: list[ContainmentTarget]


@dataclass(slots=True)
class TimelineEvent:
    time: str
    eventName: str
    credential: str | None
    eventID: str
    succeeded: bool
    errorCode: str | None
    target: str | None
    sourceIPAddress: str | None
    account: str | None
    userAgent: str | None = None


@dataclass(slots=True)
class Indicator:
    """One value a responder searches for elsewhere (other trails, proxies, EDR): an address, a user agent, a key, a principal.

    ``note`` says what is known of it without looking it up outside: a private or reserved address, an AWS
    service calling on the principal's behalf, an address in AWS's published ranges (when given), a key's status.
    """

    kind: str
    value: str
    events: int
    first_seen: str | None
    last_seen: str | None
    credentials: list[str]
    note: str | None
    country: str | None = None
    asn: str | None = None


@dataclass(slots=True)
class Window:
    start: str = field(metadata={"json": "from"})
    end: str = field(metadata={"json": "to"})


@dataclass(slots=True)
class BlastRadius:
    """Everything that follows from one key (fields documented in docs/blast-radius.md)."""

    key: str
    found: bool
    in_scope: bool
    incident: str | None
    evidence: Evidence
    identity: Identity
    first_use: FirstUse | None
    attacker_first_use: AttackerFirstUse | None
    detection: list[Detection]
    credentials: list[Credential]
    principals_created: list[PrincipalCreated]
    upstream: list[Upstream]
    findings: list[Finding]
    sleepers: list[Sleeper]
    still_active: list[str]
    doors: list[DoorEntry]
    open_doors: list[str]
    instance_credentials_outside: list[InstanceCredentialsOutside]
    pivots: list[Pivot]
    containment: list[ContainmentAction]
    timeline: list[TimelineEvent]
    window: Window | None
    indicators: list[Indicator] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as one JSON-ready object."""
        result: dict[str, Any] = to_json(self)
        return result
