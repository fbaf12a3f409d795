"""``keytrail incidents``: one summary per incident in the store, as typed values for the renderers and the JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query, store_incidents, tallies_complete


@dataclass(slots=True)
class IncidentSummary:
    """What one incident holds: its events and their span, where they were recorded, who made them, its loads."""

    name: str = field(metadata={"json": "incident"})
    events: int
    first_event: str | None
    last_event: str | None
    accounts: list[str]
    regions: list[str]
    access_keys: int
    principals: int
    loads: int


def build_incidents(backend: Backend) -> list[IncidentSummary]:
    """Every incident of the store, by name: from the Tally nodes when they count every event, else from the events."""
    tallied = tallies_complete(backend)
    scope = {row["incident"]: row for row in run_query(backend, "incidents-scope-tallied" if tallied else "incidents-scope")}
    found = []
    for row in store_incidents(backend):
        covered = scope.get(row["incident"], {})
        found.append(
            IncidentSummary(
                name=row["incident"],
                events=int(row["events"]),
                first_event=row["firstEvent"],
                last_event=row["lastEvent"],
                accounts=sorted(str(a) for a in covered.get("accounts") or []),
                regions=sorted(str(r) for r in covered.get("regions") or []),
                # int(): FalkorDB returns counts of a collect as floats in some versions.
                access_keys=int(covered.get("accessKeys") or 0),
                principals=int(covered.get("principals") or 0),
                loads=int(row["loads"]),
            )
        )
    return found
