"""Findings: events labelled with their ATT&CK tactics and technique, failed calls kept as attempts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query
from keytrail.report.attack import AttackMapping, load_mapping, tactic_rank
from keytrail.report.model import Finding, FindingGroup
from keytrail.rules import policy

ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"

#: Calls that applications and pipelines make all day long. Their name alone says nothing of an attacker: each
#: becomes a finding only with a reason beyond its name (see :func:`routine_reason`), and says the reason.
ROUTINE_ACTIONS = frozenset(
    {
        "s3:PutObject",
        "s3:GetObject",
        "s3:HeadObject",
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "secretsmanager:ListSecrets",
        "secretsmanager:DescribeSecret",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "lambda:Invoke",
    }
)

#: Lower-case fragments of user agents that attack tools and offensive distributions write (a finding's reason).
ATTACK_TOOL_AGENTS = ("kali", "parrot", "pentoo", "pacu", "stratus-red-team", "trufflehog", "cloudfox", "weirdaal", "s3 browser")


def attack_tool(agent: Any) -> str | None:
    """The attack-tool fragment a user agent contains, or ``None``."""
    text = str(agent or "").lower()
    return next((tool for tool in ATTACK_TOOL_AGENTS if tool in text), None)


def made_by_aws(row: dict[str, Any]) -> str | None:
    """Why a call is AWS acting for a principal rather than the principal itself, or ``None``.

    A service calling on a principal's behalf names itself in ``userIdentity.invokedBy``; forward-access
    sessions and AWS's internal calls carry the service's host name or ``AWS Internal`` as the source address.
    The principal's own call that set it off (e.g. ``CreateStack``) is the finding, not these.
    """
    if row.get("userType") == "AWSService":
        return "made by an AWS service"
    if row.get("invokedBy"):
        return f"made by {row['invokedBy']} on the caller's behalf"
    address = str(row.get("sourceIPAddress") or "")
    if address == "AWS Internal":
        return "made by AWS (source address AWS Internal)"
    if address.endswith(".amazonaws.com"):
        return f"made through {address} on the caller's behalf"
    return None


def parse_json_text(text: Any) -> dict[str, Any]:
    """A JSON object stored as text on an Event (requestParameters, additionalEventData); {} otherwise."""
    if not isinstance(text, str) or not text.startswith("{"):
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _admits(document: Any, account: str | None) -> str | None:
    """Who a trust or resource policy admits, with the outsiders and ``*`` called out."""
    admitted = policy.admitted_principals(policy.document(document))
    if not admitted:
        return None
    outside = policy.external_principals(admitted, account) if account else []
    note = "admits " + ", ".join(admitted)
    if policy.is_public(admitted):
        note += " (public: anyone)"
    elif outside:
        note += " (outside this account: " + ", ".join(outside) + ")"
    return note


def _run_instances(params: dict[str, Any]) -> str:
    items = (params.get("instancesSet") or {}).get("items") if isinstance(params.get("instancesSet"), dict) else None
    count = sum(int(i.get("maxCount") or i.get("minCount") or 1) for i in items or [] if isinstance(i, dict)) or None
    image = next((i.get("imageId") for i in items or [] if isinstance(i, dict) and i.get("imageId")), None)
    profile = params.get("iamInstanceProfile")
    profile_name = (profile.get("arn") or profile.get("name")) if isinstance(profile, dict) else None
    parts = [f"{count or '?'} × {params.get('instanceType') or 'unknown type'}"]
    parts += [f"image {image}"] if image else []
    parts += [f"instance profile {profile_name}"] if profile_name else ["no instance profile"]
    return ", ".join(parts)


def describe(event_name: str, request_parameters: Any, account: str | None = None, additional: Any = None) -> str | None:
    """A short, factual note on what a call asked for, where the request says more than its name.

    ``account`` is the account the call was made in (to call out principals outside it); ``additional``
    the record's ``additionalEventData`` (``MFAUsed`` of a ConsoleLogin).
    """
    if event_name == "ConsoleLogin":
        mfa = parse_json_text(additional).get("MFAUsed")
        return "without MFA" if mfa == "No" else ("with MFA" if mfa == "Yes" else None)
    params = parse_json_text(request_parameters)
    if not params:
        return None
    if event_name in ("UpdateAssumeRolePolicy", "CreateRole"):
        admits = _admits(params.get("policyDocument") or params.get("assumeRolePolicyDocument"), account)
        role = params.get("roleName")
        return f"trust policy of {role} {admits}" if admits else None
    if event_name in ("PutBucketPolicy", "PutResourcePolicy", "SetRepositoryPolicy", "PutKeyPolicy"):
        return _admits(params.get("bucketPolicy") or params.get("policy") or params.get("resourcePolicy") or params.get("policyText"), account)
    if event_name.startswith("AddPermission"):
        who = params.get("principal")
        if isinstance(who, str):
            public = " (public: anyone)" if who == "*" and not params.get("sourceAccount") and not params.get("sourceArn") else ""
            return f"lets {who} call {params.get('action') or 'the function'} on {params.get('functionName')}{public}"
    if event_name == "CreateAccountAssignment":
        return (
            f"permission set {params.get('permissionSetArn')} for {params.get('principalType') or 'principal'} "
            f"{params.get('principalId')} in account {params.get('targetId')}"
        )
    if event_name == "RunInstances":
        return _run_instances(params)
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
    """A finding for one event row (columns of credential-events or findings), or ``None``.

    ``None`` when the action is not mapped, when AWS made the call on a principal's behalf (:func:`made_by_aws`),
    when it is AWS's quarantine of an exposed key (the report's detection anchor), and when a routine action
    (:data:`ROUTINE_ACTIONS`) has no reason beyond its name (:func:`reason_for`).
    """
    label = mapping.label(row.get("action"))
    if label is None or made_by_aws(row) or policy.quarantine_policy(row["eventName"], parse_json_text(row.get("requestParameters"))):
        return None
    reason = reason_for(row)
    if row.get("action") in ROUTINE_ACTIONS and reason is None:
        return None
    return Finding(
        eventID=row["eventID"],
        time=row["eventTime"],
        eventName=row["eventName"],
        action=row["action"],
        credential=row.get("credential"),
        principal=row.get("principal"),
        target=row.get("target"),
        category=label.category,
        tactics=list(label.tactics),
        technique=label.technique,
        technique_name=label.technique_name,
        succeeded=row.get("succeeded") is not False,
        errorCode=row.get("errorCode"),
        detail=describe(row["eventName"], row.get("requestParameters"), row.get("account"), row.get("additionalEventData")),
        reason=reason,
        routine=row.get("action") in ROUTINE_ACTIONS,
        sourceIPAddress=row.get("sourceIPAddress"),
        account=row.get("account"),
    )


def reason_for(row: dict[str, Any]) -> str | None:
    """What, beyond its name, makes a call worth a look: a reason the caller gave in ``row["reason"]``, or an attack tool's agent."""
    tool = attack_tool(row.get("userAgent"))
    reasons = [r for r in (row.get("reason"), f"user agent of an attack tool ({tool})" if tool else None) if r]
    return "; ".join(reasons) or None


def label_events(rows: Iterable[dict[str, Any]], mapping: AttackMapping | None = None) -> list[Finding]:
    """Findings for the mapped events among ``rows``, in time order."""
    table = mapping or load_mapping()
    found = [f for f in (make_finding(row, table) for row in rows) if f is not None]
    return sorted(found, key=lambda f: (f.time, f.eventID))


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
        found = [f for f in found if category in f.tactics]
    return found


def group_by_credential(found: Iterable[Finding]) -> list[FindingGroup]:
    """Findings per credential (or per principal for calls without a key), busiest in non-discovery tactics first."""
    groups: dict[str, FindingGroup] = {}
    for finding in found:
        who = finding.credential or finding.principal or "unknown"
        group = groups.setdefault(who, FindingGroup(finding.credential, finding.principal, finding.time, finding.time, {}, 0, 0))
        group.first = min(group.first, finding.time)
        group.last = max(group.last, finding.time)
        group.tactics[finding.category] = group.tactics.get(finding.category, 0) + 1
        group.failed += not finding.succeeded
    for group in groups.values():
        group.tactics = dict(sorted(group.tactics.items(), key=lambda item: tactic_rank(item[0])))
        group.findings = sum(group.tactics.values())
    return sorted(
        groups.values(),
        key=lambda g: (-sum(n for t, n in g.tactics.items() if t != "discovery"), -g.findings, str(g.credential or g.principal)),
    )
