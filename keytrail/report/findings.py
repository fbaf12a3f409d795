"""Findings: events labelled with their ATT&CK tactics and technique, failed calls kept as attempts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query
from keytrail.report.attack import AttackMapping, load_mapping, tactic_rank
from keytrail.rules import policy

Finding = dict[str, Any]

ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def parse_json_text(text: Any) -> dict[str, Any]:
    """A JSON object stored as text on an Event (requestParameters, additionalEventData); {} otherwise."""
    if not isinstance(text, str) or not text.startswith("{"):
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def describe(event_name: str, request_parameters: Any) -> str | None:
    """A short, factual note on what a call asked for, where the request says more than its name."""
    params = parse_json_text(request_parameters)
    if not params:
        return None
    if event_name.startswith(("Attach", "Detach")) and event_name.endswith("Policy"):
        arn = params.get("policyArn")
        who = params.get("userName") or params.get("roleName") or params.get("groupName")
        if isinstance(arn, str):
            note = f"{arn} on {who}" if who else arn
            return note + (" (full administrator)" if arn == ADMIN_POLICY else "")
    if event_name in ("PutUserPolicy", "PutRolePolicy", "PutGroupPolicy"):
        who = params.get("userName") or params.get("roleName") or params.get("groupName")
        note = f"inline policy {params.get('policyName')} on {who}"
        return note + (' allowing "*" on "*" (full administrator)' if policy.grants_everything(policy.document(params.get("policyDocument"))) else "")
    if event_name.startswith("AssumeRole") and params.get("roleArn"):
        return f"role {params['roleArn']}"
    if event_name in ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "StartLogging"):
        trail = params.get("name") or params.get("trailName")
        return f"trail {trail}" if trail else None
    if event_name in ("CreateUser", "DeleteUser", "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile", "CreateAccessKey") and params.get(
        "userName"
    ):
        return f"user {params['userName']}"
    if event_name in ("ModifySnapshotAttribute", "ModifyImageAttribute", "ModifyDBSnapshotAttribute"):
        return "sharing changed: " + orjson.dumps(params, option=orjson.OPT_SORT_KEYS).decode()[:200]
    return None


def make_finding(row: dict[str, Any], mapping: AttackMapping) -> Finding | None:
    """A finding for one event row (columns of credential-events or findings), or ``None`` when it is not mapped."""
    label = mapping.label(row.get("action"))
    if label is None:
        return None
    succeeded = row.get("succeeded") is not False
    return {
        "eventID": row["eventID"],
        "time": row["eventTime"],
        "eventName": row["eventName"],
        "action": row["action"],
        "credential": row.get("credential"),
        "principal": row.get("principal"),
        "target": row.get("target"),
        "category": label.category,
        "tactics": list(label.tactics),
        "technique": label.technique,
        "technique_name": label.technique_name,
        "succeeded": succeeded,
        "errorCode": row.get("errorCode"),
        "detail": describe(row["eventName"], row.get("requestParameters")),
        "sourceIPAddress": row.get("sourceIPAddress"),
    }


def label_events(rows: Iterable[dict[str, Any]], mapping: AttackMapping | None = None) -> list[Finding]:
    """Findings for the mapped events among ``rows``, in time order."""
    table = mapping or load_mapping()
    found = [f for f in (make_finding(row, table) for row in rows) if f is not None]
    return sorted(found, key=lambda f: (f["time"], f["eventID"]))


def build_findings(backend: Backend, incident: str | None = None, category: str | None = None) -> list[Finding]:
    """Findings across the store (or one incident): every mapped call, AWS services' own calls excluded.

    Args:
        backend: The store.
        incident: Only events loaded under this incident; ``None`` for all.
        category: Keep findings that carry this tactic (primary or not); ``None`` for all.

    Returns:
        Finding objects in time order.
    """
    mapping = load_mapping()
    rows = run_query(backend, "findings", {"actions": mapping.actions, "incident": incident})
    found = label_events(rows, mapping)
    if category:
        found = [f for f in found if category in f["tactics"]]
    return found


def group_by_credential(found: Iterable[Finding]) -> list[dict[str, Any]]:
    """Findings per credential (or per principal for calls without a key), busiest in non-discovery tactics first."""
    groups: dict[str, dict[str, Any]] = {}
    for finding in found:
        who = finding["credential"] or finding["principal"] or "unknown"
        group = groups.setdefault(
            who,
            {
                "credential": finding["credential"],
                "principal": finding["principal"],
                "first": finding["time"],
                "last": finding["time"],
                "tactics": {},
                "failed": 0,
            },
        )
        group["first"] = min(group["first"], finding["time"])
        group["last"] = max(group["last"], finding["time"])
        group["tactics"][finding["category"]] = group["tactics"].get(finding["category"], 0) + 1
        if not finding["succeeded"]:
            group["failed"] += 1
    for group in groups.values():
        group["tactics"] = dict(sorted(group["tactics"].items(), key=lambda item: tactic_rank(item[0])))
        group["findings"] = sum(group["tactics"].values())
    return sorted(
        groups.values(),
        key=lambda g: (-sum(n for t, n in g["tactics"].items() if t != "discovery"), -g["findings"], str(g["credential"] or g["principal"])),
    )
