"""Signals: what, beyond the names of its calls, says that a credential is in an attacker's hands.

A finding says what a call could do; a signal says who is likely to be making the calls. ``findings`` ranks
credentials by their signals first (then by the most harmful tactic, then by their counts), because the
defenders' own clean-up makes harmful-sounding calls too: deleting keys, changing trails and bucket policies.
Each signal is a fact of the records, named with what it rests on, so that the responder can judge it:

* ``attack-tool``: a call with the user agent of an attack tool or an offensive distribution;
* ``new-address``: calls from a public address the principal had not used before, although it had made calls
  (from elsewhere) earlier in the records. Addresses of private networks (calls through a VPC endpoint) change
  with every instance and say little of who holds the key: they are never new;
* ``denied``: calls refused for lack of permission in three services or more: a key trying what it may do, where
  a misconfigured program fails on the same call again and again, a console page on one service's widgets, and a
  developer now and then on a call or two;
* ``self-admin``: an administrator policy the principal put on itself (or on the role or user it is a session of).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query
from keytrail.report.indicators import inside_a_network
from keytrail.report.model import Signal

#: Lower-case fragments of user agents that attack tools and offensive distributions write.
ATTACK_TOOL_AGENTS = ("kali", "parrot", "pentoo", "pacu", "stratus-red-team", "trufflehog", "cloudfox", "weirdaal", "s3 browser")


def attack_tool(agent: Any) -> str | None:
    """The attack-tool fragment a user agent contains, or ``None``."""
    text = str(agent or "").lower()
    return next((tool for tool in ATTACK_TOOL_AGENTS if tool in text), None)


#: ``errorCode`` values with which AWS refuses a call for lack of permission (IAM, STS, S3 and other query APIs:
#: AccessDenied; JSON APIs such as Lambda, KMS and Secrets Manager: AccessDeniedException; EC2, as CloudTrail
#: writes it: Client.UnauthorizedOperation; SNS: AuthorizationError). Other failures (a name taken, a missing
#: entity, throttling) say nothing of the caller's permissions.
DENIED_ERROR_CODES = ("AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation", "UnauthorizedOperation", "AuthorizationError")

#: In how many services calls must be refused before ``denied`` is a signal.
DENIED_SERVICES_AT_LEAST = 3


def public_address(value: str) -> bool:
    """Whether ``value`` is an IP address as written and outside private networks (:func:`inside_a_network`).

    Documentation ranges count as public: they never occur in real logs, and they stand in for public addresses
    in examples and in keytrail's samples.
    """
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return not inside_a_network(value)


#: The kinds of signal, in the order they are listed.
KINDS = ("attack-tool", "self-admin", "new-address", "denied")


def group_key(credential: str | None, principal: str | None) -> str:
    """The name of a findings group: its credential, or its principal for calls made without a key."""
    return credential or principal or "unknown"


def _signal_rows(backend: Backend, incident: str | None, tallies: bool) -> list[dict[str, Any]]:
    params = {"incident": incident, "denied": list(DENIED_ERROR_CODES), "tools": list(ATTACK_TOOL_AGENTS)}
    return run_query(backend, "signals-tallies" if tallies else "signals-events", params)


def build_signals(backend: Backend, incident: str | None, *, tallies: bool) -> dict[str, list[Signal]]:
    """Every group's signals (by :func:`group_key`), read from the Tally nodes when ``tallies`` else from the events."""
    return signals_of(_signal_rows(backend, incident, tallies), run_query(backend, "self-grants", {"incident": incident}))


def signals_of(rows: Iterable[dict[str, Any]], grants: Iterable[dict[str, Any]]) -> dict[str, list[Signal]]:
    """The signals of each group from rows of ``signals-events`` (or ``signals-tallies``) and ``self-grants``."""
    tools: dict[str, set[str]] = defaultdict(set)
    denied_calls: dict[str, int] = defaultdict(int)
    denied_actions: dict[str, set[str]] = defaultdict(set)
    # When each principal first used each address, and when it first made any call; and each group's addresses.
    first_use: dict[str, dict[str, str]] = defaultdict(dict)
    principal_first: dict[str, str] = {}
    addresses: dict[str, dict[str, str]] = defaultdict(dict)
    owner: dict[str, str | None] = {}
    for row in rows:
        key = group_key(row["credential"], row["principal"])
        principal, address, first = row["principal"], row["sourceIPAddress"], str(row["firstEvent"])
        # The group's principal: the first known one (a row may have none, in either store's order).
        if owner.get(key) is None:
            owner[key] = principal
        if row["userAgent"] and (tool := attack_tool(row["userAgent"])):
            tools[key].add(tool)
        if row["deniedAction"]:
            # int(): FalkorDB returns a sum as a float.
            denied_calls[key] += int(row["calls"])
            denied_actions[key].add(str(row["deniedAction"]))
        if principal is not None:
            principal_first[principal] = min(principal_first.get(principal, first), first)
        if address is None:
            continue
        if principal is not None:
            seen = first_use[principal]
            seen[address] = min(seen.get(address, first), first)
        group = addresses[key]
        group[address] = min(group.get(address, first), first)
    found: dict[str, list[Signal]] = defaultdict(list)
    for key in sorted(tools):
        found[key].append(Signal("attack-tool", "user agent of an attack tool: " + ", ".join(sorted(tools[key]))))
    for key, detail in _self_grants(grants).items():
        found[key].append(Signal("self-admin", detail))
    for key in sorted(addresses):
        principal = owner.get(key)
        if principal is None:
            continue
        before = principal_first[principal]
        # New: the principal made calls before, and none of them from this address.
        new = sorted(a for a in addresses[key] if first_use[principal][a] > before and public_address(a))
        if new:
            found[key].append(Signal("new-address", f"{', '.join(new)}: not used by {principal} before (its calls since {before} came from elsewhere)"))
    for key in sorted(denied_actions):
        actions = sorted(denied_actions[key])
        services = {a.partition(":")[0] for a in actions}
        if len(services) >= DENIED_SERVICES_AT_LEAST:
            shown = ", ".join(actions[:5]) + (f" and {len(actions) - 5} more" if len(actions) > 5 else "")
            detail = f"{denied_calls[key]} calls refused for lack of permission in {len(actions)} actions of {len(services)} services ({shown})"
            found[key].append(Signal("denied", detail))
    return {key: sorted(signals, key=lambda s: KINDS.index(s.kind)) for key, signals in found.items()}


def _self_grants(grants: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Per group, the administrator policies its principal put on itself, with their eventIDs."""
    events: dict[str, list[str]] = defaultdict(list)
    for row in grants:
        if row["principal"] is not None and row["target"] in (row["principal"], row["sessionOf"]):
            ids = events[group_key(row["credential"], row["principal"])]
            # A session of two roles or users would give its event twice.
            if str(row["eventID"]) not in ids:
                ids.append(str(row["eventID"]))
    return {
        key: f"put an administrator policy on {'itself' if len(ids) == 1 else 'itself ' + str(len(ids)) + ' times'} (eventID {', '.join(ids)})"
        for key, ids in events.items()
    }
