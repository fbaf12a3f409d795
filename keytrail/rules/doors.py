"""The kinds of door a rule can record (``Call.door``), in one place.

A door is something a call opened for sessions that no call of the blast radius minted
(docs/blast-radius.md). Each kind says what opens it, who comes through, whether the
walk follows its sessions (some admit callers CloudTrail shows no session for), and
whether its sessions are Identity Center roles, which appear in the accounts a
permission set is assigned to rather than where the door was opened.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DoorKind:
    name: str
    opened_by: str
    sessions: str
    #: The walk follows the sessions that come through (False: reported and contained only).
    walked: bool = True
    #: Its sessions are ``AWSReservedSSO_…`` roles, provisioned in every account the set is assigned to.
    identity_center: bool = False


class UnknownDoorKind(ValueError):
    """A rule named a door kind that is not registered here."""


DOOR_KINDS: dict[str, DoorKind] = {
    kind.name: kind
    for kind in (
        DoorKind("trust-policy", "iam:UpdateAssumeRolePolicy", "every later session of the role, from any account"),
        DoorKind("role-created", "iam:CreateRole", "every later session of the role"),
        DoorKind("user-created", "iam:CreateUser", "every later key of the user"),
        DoorKind("admin-policy", "an administrator policy attached or put on a principal", "every later key or session of the principal"),
        DoorKind("federation", "sts:GetFederationToken", "the federated user's keys, console sessions included"),
        DoorKind("function-role", "lambda:CreateFunction*, UpdateFunctionConfiguration* with a role", "sessions of the role named after the function"),
        DoorKind("function-code", "lambda:UpdateFunctionCode*", "sessions of the function's role named after the function"),
        DoorKind("instance-profile", "ec2:RunInstances, AssociateIamInstanceProfile with an instance profile", "role sessions named after the instance"),
        DoorKind("instance-access", "SSH keys pushed to an instance, SSM commands and sessions", "role sessions named after the instance"),
        DoorKind("sso-permission-set", "sso:CreatePermissionSet, policies put on a set", "AWSReservedSSO_<set>_ role sessions", identity_center=True),
        DoorKind("sso-assignment", "sso:CreateAccountAssignment", "AWSReservedSSO_<set>_ role sessions in the account", identity_center=True),
        DoorKind("sso-user", "identitystore:CreateUser", "AWSReservedSSO_ role sessions named after the user", identity_center=True),
        DoorKind("roles-anywhere", "rolesanywhere:CreateProfile, UpdateProfile", "every later session of the profile's roles"),
        DoorKind("resource-policy", "lambda:AddPermission*", "invocations (data events): none shown as a session", walked=False),
        DoorKind("function-url", "lambda:CreateFunctionUrlConfig* without authentication", "invocations: none shown as a session", walked=False),
        DoorKind("trust-anchor", "rolesanywhere:CreateTrustAnchor", "sessions through a profile's roles (the roles-anywhere door)", walked=False),
    )
}


def door_kind(name: str) -> DoorKind:
    """The registered kind called ``name``; a rule naming any other is a bug, and fails loudly."""
    try:
        return DOOR_KINDS[name]
    except KeyError:
        raise UnknownDoorKind(f"door kind {name!r} is not in keytrail/rules/doors.py") from None


def walked(name: str) -> bool:
    """Whether the walk follows a door's sessions; a kind not registered (a store written by another version) is followed."""
    kind = DOOR_KINDS.get(name)
    return kind is None or kind.walked


def identity_center(name: str) -> bool:
    kind = DOOR_KINDS.get(name)
    return kind is not None and kind.identity_center
