"""Doors: what the blast radius opened for sessions that no call of it minted, whether each is still open, and how to shut it.

A door is an ``OPENED`` edge written by a rule (``keytrail/rules``): a trust policy that admits
another account, a role or user created, an administrator policy, a function's role, an
instance profile, an Identity Center permission set or user, a federated user. A door stays
open until the evidence shows it shut: its target deleted, the admitted principals taken
out of the trust policy, the policy detached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keytrail.rules import policy
from keytrail.rules.doors import identity_center

#: Door targets that are principals: their own sessions and keys come through the door.
_PRINCIPAL_TYPES = ("IAMUser", "IAMRole", "FederatedUser", "Root", "AssumedRole")


@dataclass(slots=True)
class Door:
    """A door a credential of the blast radius opened, and what came through it."""

    id: str
    kind: str
    credential: str
    event_id: str
    time: str
    event_name: str
    rule: str
    target: str
    target_arn: str
    target_type: str | None
    account: str | None
    admits: list[str]
    external: list[str]
    public: bool
    session_name: str | None
    role_prefix: str | None
    detail: dict[str, Any]
    changes: list[dict[str, Any]]
    sessions: list[str]


def door_query(door: Door) -> dict[str, Any]:
    """How the sessions of a door are found: the principal it opened, or sessions by name, role prefix and account."""
    principal = door.target if door.target_type in _PRINCIPAL_TYPES else None
    # Identity Center provisions its roles in the accounts a permission set is assigned to, not where it was made.
    local = not identity_center(door.kind)
    account = door.detail.get("targetAccount") or (door.account if local and principal is None else None)
    return {
        "door": door.id,
        "principal": principal,
        "sessionName": door.session_name,
        "rolePrefix": door.role_prefix,
        "account": account,
        "since": door.time,
    }


def door_status(door: Door, session_status: dict[str, str]) -> tuple[str, dict[str, Any] | None]:
    """``open`` or ``closed`` at the end of the evidence, with the event that closed it."""
    for change in door.changes:
        if change["verb"] == "DELETED":
            return "closed", change
        if door.kind in ("trust-policy", "role-created") and change["verb"] in ("MODIFIED", "CREATED") and change.get("policyDocument"):
            admitted = policy.admitted_principals(policy.document(change["policyDocument"]))
            # Shut once a later policy admits none of what the door let in: what it added, else its outsiders.
            watched = door.detail.get("added") or door.external
            if watched and not set(watched) & set(admitted):
                return "closed", change
        removed = str(change.get("eventName") or "").startswith("RemovePermission") and change.get("statementId") is not None
        if door.kind == "resource-policy" and removed and change.get("statementId") == door.detail.get("statementId"):
            # The statement the door added is gone (RemovePermission names it by its statementId).
            return "closed", change
        detached = change["verb"] in ("DETACHED_POLICY", "DELETED_POLICY") and change.get("policyArn") in (None, door.detail.get("policyArn"))
        if door.kind == "admin-policy" and detached:
            return "closed", change
    if door.kind == "federation" and door.sessions and all(session_status.get(k) not in ("active", None) for k in door.sessions):
        # A federated user is nothing once its sessions are gone: GetFederationToken made it, and only that key signs as it.
        return "closed", None
    return "open", None


def _who(door: Door) -> str:
    """The principals to take out: those the door added when the earlier policy is known, else its outsiders, else all it admits."""
    return ", ".join(door.detail.get("added") or door.external or door.admits) or "its principals"


def door_actions(door: Door, revoke_before: str | None) -> list[tuple[str, str, str]]:
    """(action, target, detail) to shut one open door; targets are ARNs or ids, never eventIDs."""
    target = door.target_arn
    since = f" issued before {revoke_before}" if revoke_before else ""
    function = str(door.detail.get("function") or "")
    match door.kind:
        case "trust-policy":
            return [("restore-trust-policy", target, f"remove {_who(door)} from the trust policy of {target} (opened by {door.event_name} at {door.time})")]
        case "role-created":
            return [
                (
                    "delete-role",
                    target,
                    f"delete {target}, created by {door.credential} at {door.time} and trusting {_who(door)}, after revoking its sessions{since}",
                )
            ]
        case "user-created":
            return [("delete-user", target, f"delete {target} (created by {door.credential} at {door.time}) after removing its keys, password and policies")]
        case "admin-policy":
            managed = door.detail.get("policyArn")
            if managed:
                return [("detach-policy", target, f"detach {managed} (administrator access) from {target}")]
            name = door.detail.get("policyName") or "?"
            return [("delete-inline-policy", target, f"delete the inline policy {name} (administrator access) of {target}")]
        case "function-role" | "function-code":
            return [
                (
                    "delete-function",
                    function or target,
                    f"delete or restore {function or 'the function'}, which runs as {target}; revoke that role's sessions{since}",
                )
            ]
        case "resource-policy":
            return [("remove-permission", target, f"remove the statement admitting {_who(door)} from the resource policy of {target}")]
        case "function-url":
            return [("delete-function-url", target, f"delete the unauthenticated function URL of {target}")]
        case "instance-profile" | "instance-access":
            instance = door.session_name or target
            return [
                (
                    "isolate-instance",
                    target,
                    f"isolate or terminate {instance} ({door.kind}, {door.event_name} at {door.time}); revoke its role's sessions{since}",
                )
            ]
        case "sso-permission-set":
            return [("delete-permission-set", target, f"delete the Identity Center permission set {door.target} and its account assignments")]
        case "sso-assignment":
            return [
                (
                    "delete-account-assignment",
                    target,
                    f"delete the assignment of {door.target} to {door.detail.get('principalType') or 'principal'} "
                    f"{door.detail.get('principalId') or '?'} in account {door.detail.get('targetAccount') or '?'}",
                )
            ]
        case "sso-user":
            return [("delete-identity-center-user", target, f"delete the Identity Center user {door.target} and sign out its sessions")]
        case "trust-anchor" | "roles-anywhere":
            return [("delete-trust-anchor", target, f"delete the IAM Roles Anywhere trust anchor or profile {target}")]
        case "federation":
            return []
    return [("review-door", target, f"{door.kind} opened by {door.event_name} at {door.time}")]
