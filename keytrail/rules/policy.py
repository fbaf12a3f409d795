"""Reading IAM policy documents: who a trust or resource policy admits, whether a policy grants everything."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from keytrail.rules.base import parse_json

ADMIN_POLICY_NAMES = ("AdministratorAccess",)


def document(value: Any) -> dict[str, Any] | None:
    """A policy document logged as an object, JSON text or URL-encoded JSON text (IAM's responses)."""
    parsed = parse_json(value)
    if parsed is None and isinstance(value, str) and value.startswith("%7B"):
        parsed = parse_json(unquote(value))
    return parsed if isinstance(parsed, dict) else None


def _listed(value: Any) -> list[Any]:
    return [value] if not isinstance(value, list) else value


def statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    found = (policy or {}).get("Statement")
    return [s for s in _listed(found) if isinstance(s, dict)] if found is not None else []


def admitted_principals(policy: dict[str, Any] | None) -> list[str]:
    """Every principal an ``Allow`` statement admits, as written (``*`` for anyone), sorted."""
    found: set[str] = set()
    for statement in statements(policy):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*":
            found.add("*")
            continue
        if isinstance(principal, dict):
            for kind, value in principal.items():
                for item in _listed(value):
                    if isinstance(item, str) and item:
                        found.add(item if kind in ("AWS", "Service", "Federated", "CanonicalUser") and item != "*" else "*")
    return sorted(found)


def is_public(principals: list[str]) -> bool:
    return "*" in principals


def external_principals(principals: list[str], account: str) -> list[str]:
    """Principals outside ``account``: other accounts' ARNs or bare ids, and ``*``; services are not accounts."""
    out = []
    for principal in principals:
        if principal == "*":
            out.append(principal)
        elif principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
            continue
        elif principal.startswith("arn:"):
            parts = principal.split(":")
            if len(parts) > 4 and parts[4] and parts[4] != account:
                out.append(principal)
        elif principal.isdigit() and principal != account:
            out.append(principal)
    return out


def grants_everything(policy: dict[str, Any] | None) -> bool:
    """True for an ``Allow`` of Action ``*`` on Resource ``*``."""
    for statement in statements(policy):
        if statement.get("Effect") != "Allow":
            continue
        if "*" in _listed(statement.get("Action")) and "*" in _listed(statement.get("Resource")):
            return True
    return False


def is_admin_policy_arn(arn: Any) -> bool:
    return isinstance(arn, str) and arn.startswith("arn:") and arn.rsplit("/", 1)[-1] in ADMIN_POLICY_NAMES


#: Policies AWS itself puts on an IAM user whose access key it found exposed (e.g. in a public repository): the
#: managed AWSCompromisedKeyQuarantine, …V2, …V3, and the older AWSExposedCredentialPolicy_DO_NOT_REMOVE.
QUARANTINE_POLICY_PREFIXES = ("AWSCompromisedKeyQuarantine", "AWSExposedCredentialPolicy_DO_NOT_REMOVE")


def puts_a_policy(event_name: str) -> bool:
    """Whether a call of this name (``Attach*Policy``, ``Put*Policy``) may be AWS putting a quarantine policy on a principal."""
    return event_name.startswith(("Attach", "Put")) and event_name.endswith("Policy")


def quarantine_policy(event_name: str, params: dict[str, Any]) -> str | None:
    """The quarantine policy an ``Attach*Policy``/``Put*Policy`` call puts on a principal, or ``None``.

    Such a call is AWS detecting the leak (the anchor of a timeline), never an attacker's change.
    """
    if not puts_a_policy(event_name):
        return None
    if event_name.startswith("Attach"):
        arn = params.get("policyArn")
        name = arn.rsplit("/", 1)[-1] if isinstance(arn, str) else ""
    else:
        found = params.get("policyName")
        name = found if isinstance(found, str) else ""
    return name if name.startswith(QUARANTINE_POLICY_PREFIXES) else None
