"""The report's heuristics: leads a responder checks, each marked as one where the report shows it.

* the attacker's first use of a key that was in routine use before;
* why a routine call of the blast radius is worth a look;
* pivots ranked by what they share with the blast radius;
* instance credentials used outside their instance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from keytrail.report.model import AttackerFirstUse, Credential, InstanceCredentialsOutside, Pivot

#: Routine use before an attacker's first use: at least this many calls of the key over at least this long.
ROUTINE_MIN_EVENTS = 5
ROUTINE_MIN_SPAN = timedelta(hours=24)


def _parse(when: str) -> datetime:
    return datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def aws_address(address: str | None) -> bool:
    """AWS's own names in ``sourceIPAddress`` (``AWS Internal``, service hosts): nobody's address."""
    return not address or address == "AWS Internal" or address.endswith(".amazonaws.com")


def attacker_first_use(events: list[dict[str, Any]], issued_to: str | None = None) -> AttackerFirstUse | None:
    """Where the key's own use was routine for a while, the first call from a new address or user agent.

    ``issued_to`` names the AWS service a session key was issued to (``lambda.amazonaws.com`` for a function's
    role session, ``ec2.amazonaws.com`` for an instance's). Such a key's routine is the service's own calls
    from its first one on, with no minimum; the first call from both a new address and a new user agent is
    where it was used elsewhere (a function's calls may come from several workers, with one agent).

    ``events`` are the key's calls in time order (``eventTime``, ``sourceIPAddress``, ``userAgent``...). Routine
    use is at least :data:`ROUTINE_MIN_EVENTS` calls over at least :data:`ROUTINE_MIN_SPAN` (e.g. a CI job for
    days); the first later call from an address or a user agent that routine never used is reported as the
    attacker's first use, next to the key's first use. ``None`` when the evidence shows no such routine: then the
    key's first use is the only first use there is. AWS's own addresses are not an address of the owner's or the
    attacker's.
    """
    addresses: set[str] = set()
    agents: set[str] = set()
    start: datetime | None = None
    for count, event in enumerate(e for e in events if not aws_address(e.get("sourceIPAddress"))):
        when = _parse(event["eventTime"])
        start = start or when
        address, agent = event["sourceIPAddress"], event.get("userAgent") or ""
        new = [f"address {address}"] * (address not in addresses) + [f"user agent {agent}"] * (agent not in agents)
        service_routine = count >= 1 and len(new) == 2
        own_routine = count >= ROUTINE_MIN_EVENTS and when - start >= ROUTINE_MIN_SPAN and bool(new)
        elsewhere = service_routine if issued_to is not None else own_routine
        if elsewhere:
            routine = f"{count} calls since {_iso(start)}" + (f" by {issued_to}, to which AWS issued this session," if issued_to else "")
            return AttackerFirstUse(
                time=event["eventTime"],
                eventName=event["eventName"],
                eventID=event["eventID"],
                sourceIPAddress=address,
                userAgent=agent or None,
                routine_events=count,
                routine_since=_iso(start),
                routine_addresses=sorted(addresses),
                routine_agents=sorted(agents),
                reason=f"first call from {' and '.join(new)}, after {routine} from {len(addresses)} address(es) and {len(agents)} user agent(s)",
            )
        addresses.add(address)
        agents.add(agent)
    return None


def finding_reason(row: dict[str, Any], key: str, attacker: AttackerFirstUse | None) -> str | None:
    """Why a blast-radius call is the attacker's: the credential it was made with, or an address or agent the owner's routine never used."""
    if row["credential"] != key:
        return f"made with {row['credential']}, which the blast radius derived from the key"
    if attacker is None:
        return "made with the key, which shows no routine use before"
    new = [f"address {row['sourceIPAddress']}"] * (row.get("sourceIPAddress") not in attacker.routine_addresses)
    new += [f"user agent {row.get('userAgent')}"] * ((row.get("userAgent") or "") not in attacker.routine_agents)
    if new and not aws_address(row.get("sourceIPAddress")):
        return f"made with the key from {' and '.join(new)}, which its routine use never used (heuristic)"
    return None


def rank_pivots(pivots: list[Pivot]) -> list[Pivot]:
    """A party that shares both an address and a user agent with the blast radius ranks above one sharing only one."""
    shares: dict[tuple[str, str], set[str]] = {}
    for p in pivots:
        shares.setdefault((str(p.credential), str(p.principal)), set()).add(p.via)
    for p in pivots:
        p.shares = sorted(shares[(str(p.credential), str(p.principal))])
    return sorted(pivots, key=lambda p: (-len(p.shares), p.via, p.value, str(p.credential), str(p.principal)))


def instance_credentials_outside(credentials: list[Credential], events: list[dict[str, Any]]) -> list[InstanceCredentialsOutside]:
    """EC2 instance-role sessions (named after the instance) used outside the instance.

    Two signs, each said in ``reason`` (GuardDuty's InstanceCredentialExfiltration, found from the evidence alone):

    * the session called from an address another credential of the blast radius used: the attacker's;
    * after calls from the instance, the session called from both a new address and a new user agent
      (the instance's software calls with one agent from the instance's address; AWS's own addresses never count).

    ``events`` are the blast radius's event rows (``credential``, ``sourceIPAddress``, ``userAgent``, ...) in time order.
    """
    instance_keys = {c.id: str(c.session_name) for c in credentials if str(c.session_name or "").startswith("i-")}
    if not instance_keys:
        return []
    others = {e["sourceIPAddress"] for e in events if e["credential"] not in instance_keys and not aws_address(e.get("sourceIPAddress"))}
    found: dict[str, InstanceCredentialsOutside] = {}

    def add(key: str, event: dict[str, Any], reason: str) -> None:
        entry = found.setdefault(key, InstanceCredentialsOutside(key, instance_keys[key], [], [], []))
        if event["sourceIPAddress"] not in entry.addresses:
            entry.addresses.append(event["sourceIPAddress"])
        if event["eventID"] not in entry.events:
            entry.events.append(event["eventID"])
        if reason not in entry.reasons:
            entry.reasons.append(reason)

    for key in instance_keys:
        own = [e for e in events if e["credential"] == key and not aws_address(e.get("sourceIPAddress"))]
        addresses: set[str] = set()
        agents: set[str] = set()
        for event in own:
            address, agent = event["sourceIPAddress"], event.get("userAgent") or ""
            if address in others:
                add(key, event, "called from an address another credential of the blast radius used")
            elif addresses and address not in addresses and agent not in agents:
                add(key, event, f"called from a new address and user agent after {len(addresses)} address(es) of the instance's own calls")
            if key not in found:
                # Only calls before the first sign are the instance's own.
                addresses.add(address)
                agents.add(agent)
    return list(found.values())
