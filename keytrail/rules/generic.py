"""The effect of a call that no rule claims: a verb from its name on the resources it names."""

from __future__ import annotations

from keytrail.model.identity import last_segment
from keytrail.rules.base import Call, Node, read_only
from keytrail.rules.registry import REGISTRY

_VERB_PREFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Create", "Run", "Import", "Allocate", "Register", "Upload", "Copy", "Restore"), "CREATED"),
    # Remove*/Revoke*/Disassociate* take something away from a resource that stays: MODIFIED, not DELETED.
    (("Delete", "Terminate", "Deregister", "ScheduleKeyDeletion"), "DELETED"),
    (("Stop", "Disable", "Leave"), "STOPPED"),
    (("Start", "Enable", "Resume"), "STARTED"),
    (("Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Search", "Select", "Decrypt", "Download", "Filter"), "READ"),
)

#: Every verb :func:`generic_verb` can give.
GENERIC_VERBS = frozenset({verb for _, verb in _VERB_PREFIXES} | {"READ", "MODIFIED"})


def generic_verb(event_name: str, is_read_only: bool | None) -> str:
    """The verb of a call by its name: CreateX created, DeleteX deleted, and so on."""
    for prefixes, verb in _VERB_PREFIXES:
        if event_name.startswith(prefixes):
            return verb
    return "READ" if is_read_only else "MODIFIED"


def listed_resources(call: Call) -> list[Node]:
    """The record's own ``resources`` list, less the KMS keys that many calls name on the caller's behalf."""
    found = []
    for item in call.record.get("resources") or []:
        arn = item.get("ARN") or item.get("arn")
        if isinstance(arn, str) and arn and item.get("type") != "AWS::KMS::Key":
            found.append({"id": arn, "arn": arn, "type": item.get("type"), "name": last_segment(arn), "accountId": item.get("accountId")})
    return [{k: v for k, v in node.items() if v is not None} for node in found]


def targets(call: Call) -> list[Node]:
    """Every resource the call names: the service's finder first, else the record's ``resources``."""
    finder = REGISTRY.finders.get(call.service)
    found = finder(call) if finder is not None else []
    if not found:
        found = listed_resources(call)
    unique: dict[str, Node] = {}
    for node in found:
        unique.setdefault(node["id"], node)
    return list(unique.values())


def generic(call: Call, verb: str | None = None) -> list[Node]:
    """Add the generic effect on every target; returns the targets."""
    chosen = verb or generic_verb(call.record["eventName"], read_only(call.record))
    found = targets(call)
    for node in found:
        call.on_resource(chosen, node, rule=f"generic.{call.service}.{chosen.lower()}")
    return found
