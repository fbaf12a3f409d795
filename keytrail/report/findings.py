"""Findings: events labelled with their ATT&CK tactics and technique, failed calls kept as attempts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query, tallies_complete
from keytrail.model import identity
from keytrail.report.attack import SEVERITY, AttackLabel, AttackMapping, load_mapping, severity_rank, tactic_rank
from keytrail.report.model import LISTED_AT_MOST, Finding, FindingGroup, FindingsReport, Signal
from keytrail.report.signals import ATTACK_TOOL_AGENTS, attack_tool, build_signals, group_key
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


def made_by_aws(row: dict[str, Any]) -> str | None:
    """:func:`keytrail.model.identity.made_by_aws` of an event row (``userType``, ``invokedBy``, ``sourceIPAddress``)."""
    return identity.made_by_aws(row.get("userType"), row.get("invokedBy"), row.get("sourceIPAddress"))


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


def _scope_actions(mapping: AttackMapping, category: str | None) -> list[str]:
    """The mapped actions, or those with ``category`` among their tactics."""
    return [a for a in mapping.actions if category is None or category in (mapping.label(a) or _NO_LABEL).tactics]


_NO_LABEL = AttackLabel((), "", "")


def build_findings(backend: Backend, incident: str | None = None, category: str | None = None, credential: str | None = None) -> list[Finding]:
    """Findings across the store (or one incident): every mapped call, AWS services' own calls excluded.

    Args:
        backend: The store.
        incident: Only events loaded under this incident; ``None`` for all.
        category: Keep findings that carry this tactic (primary or not); ``None`` for all.
        credential: Only the findings of this access key, or of this principal's calls made without a key
            (a group of :func:`group_by_credential`); ``None`` for all.

    Returns:
        Finding objects in time order.
    """
    mapping = load_mapping()
    params = {"actions": _scope_actions(mapping, category), "incident": incident}
    if credential is None:
        rows = run_query(backend, "findings", params)
    else:
        # A group is named by its access key, or by its principal when its calls were made without one.
        query = "credential-findings" if identity.valid_key(credential) else "principal-findings"
        rows = run_query(backend, query, params | {"credential": credential})
    return label_events(rows, mapping)


def summarise_findings(backend: Backend, incident: str | None = None, category: str | None = None, *, tallies: bool | None = None) -> list[FindingGroup]:
    """The groups of :func:`group_by_credential` over :func:`build_findings`, counted in the store.

    The calls of most actions are counted in the store by the rules of :func:`make_finding`: from the
    ``Tally`` nodes when they count every event (:func:`keytrail.graph.runner.tallies_complete`; ``tallies``
    forces the choice), else by ``findings-summary`` over every Event. Only the calls whose request decides
    (:func:`keytrail.rules.policy.puts_a_policy`: AWS's quarantine of an exposed key is not a finding) are
    read one by one and judged here.
    """
    mapping = load_mapping()
    actions = _scope_actions(mapping, category)
    judged = [a for a in actions if policy.puts_a_policy(a.partition(":")[2])]
    counted = [a for a in actions if not policy.puts_a_policy(a.partition(":")[2])]
    tally = _Tally()
    tallies = tallies if tallies is not None else tallies_complete(backend)
    if tallies:
        categories = {a: label.category for a in counted if (label := mapping.label(a)) is not None}
        for by_agent in (False, True):
            # A routine action is a finding only with a reason; in `findings` that can only be an attack tool's agent.
            actions = [a for a in counted if (a in ROUTINE_ACTIONS) is by_agent]
            params = {"actions": actions, "categories": categories, "incident": incident, "byAgent": by_agent}
            for row in run_query(backend, "findings-tallies", params):
                if not by_agent or attack_tool(row["userAgent"]):
                    tally.add(
                        row["credential"], row["principal"], row["category"], row["findings"], row["succeeded"] is False, row["firstEvent"], row["lastEvent"]
                    )
    else:
        params = {"actions": counted, "incident": incident, "routine": sorted(ROUTINE_ACTIONS & set(counted)), "tools": list(ATTACK_TOOL_AGENTS)}
        for row in run_query(backend, "findings-summary", params):
            label = mapping.label(row["action"])
            if label is not None:
                tally.add_count(row, label.category)
    if judged:
        for finding in label_events(run_query(backend, "findings", {"actions": judged, "incident": incident}), mapping):
            tally.add(finding.credential, finding.principal, finding.category, 1, not finding.succeeded, finding.time, finding.time)
    return tally.groups(build_signals(backend, incident, tallies=tallies))


class _Tally:
    """Findings counted into groups, one per credential (or principal, for calls without a key)."""

    def __init__(self) -> None:
        self._groups: dict[str, FindingGroup] = {}

    def add(self, credential: str | None, principal: str | None, category: str, count: int, failed: bool, first: str, last: str) -> None:
        who = group_key(credential, principal)
        group = self._groups.get(who)
        if group is None:
            group = self._groups[who] = FindingGroup(credential, principal, first, last, {}, 0, 0)
        # The group's principal is the one of its earliest finding (a known one before none, then the smaller id),
        # whatever order the findings or their counts arrive in.
        if (first, principal is None, principal or "") < (group.first, group.principal is None, group.principal or ""):
            group.principal = principal
        group.first = min(group.first, first)
        group.last = max(group.last, last)
        # int(): FalkorDB returns a sum as a float.
        group.tactics[category] = group.tactics.get(category, 0) + int(count)
        group.failed += int(count) if failed else 0

    def add_count(self, row: dict[str, Any], category: str) -> None:
        """A row of findings-tallies or findings-summary: calls counted in the store."""
        self.add(row["credential"], row["principal"], category, row["findings"], row["succeeded"] is False, row["firstEvent"], row["lastEvent"])

    def groups(self, signals: dict[str, list[Signal]]) -> list[FindingGroup]:
        """The groups with their signals, in the order of :func:`rank`."""
        for key, group in self._groups.items():
            group.tactics = dict(sorted(group.tactics.items(), key=lambda item: tactic_rank(item[0])))
            group.findings = sum(group.tactics.values())
            group.signals = list(signals.get(key, []))
        return sorted(self._groups.values(), key=rank)


def rank(group: FindingGroup) -> tuple[int, int, int, int, str]:
    """Where a group stands in ``findings``: most kinds of signal first, then the most harmful tactic it has
    (:data:`~keytrail.report.attack.SEVERITY`), then the most non-discovery findings, then the most findings."""
    worst = min((severity_rank(t) for t in group.tactics), default=len(SEVERITY))
    harmful = sum(n for t, n in group.tactics.items() if t != "discovery")
    return (-len({s.kind for s in group.signals}), worst, -harmful, -group.findings, group_key(group.credential, group.principal))


def group_by_credential(found: Iterable[Finding], signals: dict[str, list[Signal]] | None = None) -> list[FindingGroup]:
    """Findings per credential (or per principal for calls without a key), with ``signals``, in the order of :func:`rank`."""
    tally = _Tally()
    for finding in found:
        tally.add(finding.credential, finding.principal, finding.category, 1, not finding.succeeded, finding.time, finding.time)
    return tally.groups(signals or {})


def build_findings_report(
    backend: Backend, incident: str | None = None, category: str | None = None, credential: str | None = None, *, events: bool = False
) -> FindingsReport:
    """``keytrail findings``: the groups, and the findings listed when asked or few.

    With ``credential``, that credential's findings and its one group. Otherwise the groups are counted in the
    store (:func:`summarise_findings`) and the findings are read only with ``events`` or when there are at
    most :data:`~keytrail.report.model.LISTED_AT_MOST`: a million-event store holds hundreds of thousands.
    """
    if credential is not None or events:
        found: list[Finding] | None = build_findings(backend, incident, category, credential)
        groups = group_by_credential(found or [], build_signals(backend, incident, tallies=tallies_complete(backend)))
    else:
        groups = summarise_findings(backend, incident, category)
        many = sum(g.findings for g in groups) > LISTED_AT_MOST
        found = None if many else build_findings(backend, incident, category)
    return FindingsReport(
        incident=incident,
        category=category,
        credential=credential,
        total=sum(g.findings for g in groups),
        failed=sum(g.failed for g in groups),
        groups=groups,
        findings=found,
    )
