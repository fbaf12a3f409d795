"""The write plan of effects: target label → verb → relationship type, and the query that writes it.

This table is the one statement of which effect edges exist. The rules emit verbs; the
transform refuses a verb the plan does not have for its label; a test checks that each
``merge_effects_on_*.cypher`` file has exactly one branch per verb of its label, and that
docs/graph-model.md lists the same table; the writer checks that every row landed.
"""

from __future__ import annotations

from typing import Final

#: Label of the target -> verb -> relationship type written (Event)-[:TYPE]->(target).
WRITE_PLAN: Final[dict[str, dict[str, str]]] = {
    "AccessKey": {verb: verb for verb in ("CREATED", "MINTED", "DELETED", "DEACTIVATED", "ACTIVATED")},
    "Principal": {
        verb: verb
        for verb in (
            "CREATED",
            "DELETED",
            "ASSUMED",
            "MODIFIED",
            "ATTACHED_POLICY",
            "DETACHED_POLICY",
            "PUT_POLICY",
            "DELETED_POLICY",
            "ADDED_TO_GROUP",
            "REMOVED_FROM_GROUP",
            "OPENED",
        )
    },
    "LoginProfile": {verb: verb for verb in ("CREATED", "UPDATED", "DELETED")},
    "Resource": {
        verb: verb
        for verb in (
            "CREATED",
            "DELETED",
            "MODIFIED",
            "STOPPED",
            "STARTED",
            "READ",
            "ATTACHED_POLICY",
            "DETACHED_POLICY",
            "PUT_POLICY",
            "DELETED_POLICY",
            "OPENED",
        )
    },
}

#: Label of the target -> the write query that merges effects on it.
EFFECT_QUERY: Final[dict[str, str]] = {
    "AccessKey": "merge_effects_on_access_keys",
    "Principal": "merge_effects_on_principals",
    "LoginProfile": "merge_effects_on_login_profiles",
    "Resource": "merge_effects_on_resources",
}


def relationship_type(label: str, verb: str) -> str:
    """The relationship an effect is written as.

    Raises:
        ValueError: when the plan has no such effect (a rule emitted a verb nobody writes).
    """
    try:
        return WRITE_PLAN[label][verb]
    except KeyError:
        raise ValueError(f"the write plan has no effect {verb!r} on {label!r}; add it to keytrail/graph/effects.py and its query") from None


def effect_types() -> frozenset[str]:
    """Every relationship type an effect can be written as."""
    return frozenset(t for verbs in WRITE_PLAN.values() for t in verbs.values())
