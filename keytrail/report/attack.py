"""ATT&CK labels for CloudTrail actions, from ``keytrail/data/attack_mapping.json``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import orjson

#: ATT&CK tactics in kill-chain order, for sorting and for grouping output.
TACTIC_ORDER: tuple[str, ...] = (
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "exfiltration",
    "impact",
)


@dataclass(frozen=True, slots=True)
class AttackLabel:
    """What the mapping says of one action: tactics (primary first) and one technique."""

    tactics: tuple[str, ...]
    technique: str
    technique_name: str

    @property
    def category(self) -> str:
        """The primary tactic."""
        return self.tactics[0]


class AttackMapping:
    """Event-to-technique table keyed by ``service:EventName`` (Event.action in the graph)."""

    def __init__(self, data: dict[str, Any]) -> None:
        #: The ATT&CK Enterprise release the techniques follow (``"18.1"``).
        self.attack_release = str(data["attack_version"])
        self._labels = {
            key: AttackLabel(tuple(entry["tactics"]), str(entry["technique"]), str(entry["technique_name"])) for key, entry in data["events"].items()
        }

    def label(self, action: str | None) -> AttackLabel | None:
        """The label of an action such as ``iam:CreateAccessKey``, or ``None`` when it is not mapped."""
        return self._labels.get(action) if action else None

    @property
    def attack_version(self) -> str:
        """The ATT&CK major version, as the Navigator's layers name it (``"18"``)."""
        return self.attack_release.split(".")[0]

    @property
    def actions(self) -> list[str]:
        """Every mapped action, sorted."""
        return sorted(self._labels)


@cache
def load_mapping() -> AttackMapping:
    """The mapping shipped with keytrail (read once)."""
    text = (resources.files("keytrail") / "data" / "attack_mapping.json").read_bytes()
    return AttackMapping(orjson.loads(text))


def tactic_rank(tactic: str) -> int:
    """Position of a tactic in :data:`TACTIC_ORDER` (unknown ones last)."""
    return TACTIC_ORDER.index(tactic) if tactic in TACTIC_ORDER else len(TACTIC_ORDER)


#: The order of harm: what did the most harm first, discovery last (the report's summary and ``findings``' ranking).
SEVERITY = (
    "impact",
    "exfiltration",
    "defense-evasion",
    "credential-access",
    "privilege-escalation",
    "persistence",
    "lateral-movement",
    "execution",
    "initial-access",
    "collection",
    "discovery",
)


def severity_rank(tactic: str) -> int:
    """Position of a tactic in :data:`SEVERITY` (unknown ones last)."""
    return SEVERITY.index(tactic) if tactic in SEVERITY else len(SEVERITY)
