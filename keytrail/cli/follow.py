"""``keytrail load athena://… --follow KEY``: the filters of the next pass, read from what the last pass stored.

The first pass loads the leaked key's slice of the trail (``--key KEY``). From what that put in the
store, ``follow-filters.cypher`` finds the keys the key derived (access keys it created, STS keys
minted with it) and the principals it reached (users and roles it created, roles it assumed or whose
trust it opened, users whose keys or login profiles it created), and the keys of principals it created
or opened a door to; every new key is asked again until nothing new comes. The keys become ``--key``
filters, the principals' ARNs ``--principal`` filters of the next Athena query, so that only that slice
is read. What that pass loads may reach further: run ``--follow`` again until it adds nothing.

The loaders never see the store: this is the command's side (loaders import no database driver).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query
from keytrail.loaders.sources import KEY_RE, PRINCIPAL_ARN_RE

#: How many rounds of the query at most (each round adds at least one key, so this only bounds a pathological store).
MAX_ROUNDS = 100


@dataclass(slots=True)
class FollowFilters:
    """What the store says the next pass should fetch, and why.

    Attributes:
        key: The key followed.
        incident: The incident whose events were read.
        seen: Whether ``key`` signed any event of the incident (if not, the first pass is missing).
        keys: Every key found, the followed one first: ``{value, via, eventID, source}``.
        principals: Every principal found whose ARN can be a filter: ``{value, principalType, via, eventID, source}``.
        skipped: Principals found that are not IAM or STS ARNs (an AWS service, another account), and keys
            that are not AKIA/ASIA ids: no filter.
        rounds: How many times the query ran.
    """

    key: str
    incident: str | None
    seen: bool = False
    keys: list[dict[str, Any]] = field(default_factory=list)
    principals: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    rounds: int = 0

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(k["value"] for k in self.keys)

    @property
    def principal_arns(self) -> tuple[str, ...]:
        return tuple(p["value"] for p in self.principals)

    def as_dict(self) -> dict[str, Any]:
        """For ``load --json``'s ``follow``."""
        return {
            "key": self.key,
            "incident": self.incident,
            "seen": self.seen,
            "rounds": self.rounds,
            "keys": self.keys,
            "principals": self.principals,
            "skipped": self.skipped,
        }

    def lines(self) -> list[str]:
        """What was derived, one filter a line, for stderr."""
        out = [f"--follow {self.key}: {len(self.keys)} keys and {len(self.principals)} principals from the store ({self.rounds} rounds of follow-filters)"]
        for k in self.keys[1:]:
            out.append(f"  --key {k['value']}  ({k['via']} by {k['source']}, event {k['eventID']})")
        for p in self.principals:
            out.append(f"  --principal {p['value']}  ({p['principalType']}; {p['via']} by {p['source']}, event {p['eventID']})")
        for s in self.skipped:
            out.append(f"  no filter for {s['value']} ({s.get('principalType') or 'key'}: not an IAM or STS ARN, nor an AKIA/ASIA key id)")
        return out


def derive_filters(backend: Backend, key: str, incident: str | None) -> FollowFilters:
    """Run ``follow-filters`` from ``key``, then from every new key, until nothing new comes."""
    found = FollowFilters(key, incident, keys=[{"value": key, "via": "followed", "eventID": None, "source": None}])
    known_keys = {key}
    known_principals: set[str] = set()
    frontier = [key]
    while frontier and found.rounds < MAX_ROUNDS:
        found.rounds += 1
        rows = run_query(backend, "follow-filters", {"keys": frontier, "incident": incident})
        frontier = []
        # Sorted: both stores, and every run, list the filters in one order.
        for row in sorted(rows, key=lambda r: (r["kind"], str(r["value"]), str(r["eventID"]))):
            value = row["value"]
            if row["kind"] == "seen":
                found.seen = found.seen or value == key
            elif row["kind"] == "key" and value not in known_keys:
                known_keys.add(value)
                frontier.append(value)
                entry = {"value": value, "via": row["via"], "eventID": row["eventID"], "source": row["source"]}
                (found.keys if KEY_RE.match(str(value)) else found.skipped).append(entry)
            elif row["kind"] == "principal" and value not in known_principals:
                known_principals.add(value)
                entry = {"value": value, "principalType": row["principalType"], "via": row["via"], "eventID": row["eventID"], "source": row["source"]}
                (found.principals if PRINCIPAL_ARN_RE.match(str(value)) else found.skipped).append(entry)
    return found
