"""Principals, sessions and access keys as CloudTrail names them.

Principals get a canonical ``id`` that does not depend on IAM paths (user and role
names are unique within an account, paths are not part of that identity; the path is
kept as a property): ``arn:<partition>:iam::<acct>:user/<name>``,
``arn:<partition>:iam::<acct>:role/<name>``,
``arn:<partition>:sts::<acct>:assumed-role/<role>/<session>``,
``arn:<partition>:iam::<acct>:root``, ``arn:<partition>:sts::<acct>:federated-user/<name>``,
``service:<host>`` for AWS services, ``account:<acct>`` for whole accounts and
``anonymous`` for unauthenticated calls. The partition is ``aws``, ``aws-cn`` or
``aws-us-gov``: taken from the ARN when there is one, else from the region.
"""

from __future__ import annotations

import re
from typing import Any

ACCESS_KEY_RE = re.compile(r"^[A-Z0-9]{20}$")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def key_kind(access_key_id: str) -> str:
    """``long-term`` for AKIA keys, ``temporary`` for ASIA (STS) keys, else ``other``."""
    if access_key_id.startswith("AKIA"):
        return "long-term"
    if access_key_id.startswith("ASIA"):
        return "temporary"
    return "other"


def valid_key(value: Any) -> str | None:
    """Return the key id if it is a real one; masked ids (``AKIA****``) are not keys."""
    return value if isinstance(value, str) and ACCESS_KEY_RE.match(value) else None


def partition_of(arn: Any = None, region: Any = None) -> str:
    """The partition of an ARN, else of a region (``cn-north-1`` is ``aws-cn``), else ``aws``."""
    if isinstance(arn, str) and arn.startswith("arn:"):
        part = arn.split(":", 2)[1]
        if part:
            return part
    if isinstance(region, str):
        if region.startswith("cn-"):
            return "aws-cn"
        if region.startswith("us-gov-"):
            return "aws-us-gov"
    return "aws"


def user_id(account: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:user/{name}"


def role_id(account: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def last_segment(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _path(resource: str) -> str | None:
    """The IAM path of ``user/a/b/name`` (``/a/b/``), or None for the root path."""
    pieces = resource.split("/")
    return "/" + "/".join(pieces[1:-1]) + "/" if len(pieces) > 2 else None


def principal_from_arn(arn: str) -> dict[str, Any] | None:
    """Canonical principal row for an IAM/STS ARN, or ``None`` if it names no principal."""
    row = _principal_from_arn(arn)
    return {k: v for k, v in row.items() if v is not None} if row is not None else None


def _principal_from_arn(arn: str) -> dict[str, Any] | None:
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[4] or parts[0] != "arn":
        return None
    partition, account, resource = parts[1] or "aws", parts[4], parts[5]
    if resource.startswith("user/"):
        name = last_segment(resource)
        return {"id": user_id(account, name, partition), "type": "IAMUser", "name": name, "accountId": account, "arn": arn, "path": _path(resource)}
    if resource.startswith("role/"):
        name = last_segment(resource)
        return {"id": role_id(account, name, partition), "type": "IAMRole", "name": name, "accountId": account, "arn": arn, "path": _path(resource)}
    if resource.startswith("assumed-role/"):
        pieces = resource.split("/")
        if len(pieces) >= 3:
            role, session = pieces[1], "/".join(pieces[2:])
            return {
                "id": f"arn:{partition}:sts::{account}:assumed-role/{role}/{session}",
                "type": "AssumedRole",
                "name": session,
                "roleName": role,
                "accountId": account,
                "arn": arn,
            }
    if resource.startswith("federated-user/"):
        name = resource.split("/", 1)[1]
        return {"id": f"arn:{partition}:sts::{account}:federated-user/{name}", "type": "FederatedUser", "name": name, "accountId": account, "arn": arn}
    if resource == "root":
        return {"id": f"arn:{partition}:iam::{account}:root", "type": "Root", "name": "root", "accountId": account, "arn": arn}
    return None


def principal_of_identity(identity: dict[str, Any] | None, region: Any = None) -> dict[str, Any] | None:
    """The caller as a canonical principal row, or ``None`` when the record names none."""
    if not identity:
        return None
    kind = identity.get("type")
    arn = identity.get("arn") or None
    account = identity.get("accountId") or (arn and arn_account(arn)) or None
    principal_id = identity.get("principalId")
    partition = partition_of(arn, region)
    row: dict[str, Any] | None = None
    if kind == "IAMUser":
        name = identity.get("userName") or (arn and last_segment(arn))
        if name and account:
            row = {"id": user_id(account, name, partition), "type": "IAMUser", "name": name, "accountId": account}
            if arn and arn.split(":", 5)[-1].startswith("user/"):
                row["path"] = _path(arn.split(":", 5)[-1])
    elif kind in ("AssumedRole", "FederatedUser", "Root") and arn:
        row = principal_from_arn(arn)
    elif kind == "Root" and account:
        row = {"id": f"arn:{partition}:iam::{account}:root", "type": "Root", "name": "root", "accountId": account}
    elif kind == "AWSService" or (kind is None and identity.get("invokedBy")):
        service = identity.get("invokedBy") or "unknown-service"
        row = {"id": f"service:{service}", "type": "AWSService", "name": service}
    elif kind == "AWSAccount":
        if account == "ANONYMOUS_PRINCIPAL" or principal_id == "ANONYMOUS_PRINCIPAL":
            row = {"id": "anonymous", "type": "Anonymous", "name": "anonymous"}
        elif account:
            row = {"id": f"account:{account}", "type": "AWSAccount", "name": account, "accountId": account}
    elif kind in ("IdentityCenterUser", "SAMLUser", "WebIdentityUser"):
        name = identity.get("userName") or principal_id or (identity.get("onBehalfOf") or {}).get("userId")
        if name:
            row = {"id": f"{kind}:{account or ''}:{name}", "type": kind, "name": name}
            if account:
                row["accountId"] = account
    if row is None and arn:
        row = principal_from_arn(arn)
    if row is None and (principal_id or account):
        row = {"id": f"unknown:{account or ''}:{principal_id or ''}", "type": kind or "Unknown", "name": principal_id or account}
        if account:
            row["accountId"] = account
    if row is not None:
        if arn:
            row["arn"] = arn
        if principal_id and not str(principal_id).count("*"):
            row["principalId"] = principal_id
    return {k: v for k, v in row.items() if v is not None} if row is not None else None


def session_issuer(identity: dict[str, Any] | None) -> dict[str, Any] | None:
    """The role (or user, for federation tokens) a session was issued from."""
    issuer = ((identity or {}).get("sessionContext") or {}).get("sessionIssuer") or {}
    arn = issuer.get("arn")
    if not isinstance(arn, str) or not arn:
        return None
    row = principal_from_arn(arn)
    if row is not None and issuer.get("principalId"):
        row["principalId"] = issuer["principalId"]
    return {k: v for k, v in row.items() if v is not None} if row is not None else None


def made_by_aws(user_type: Any, invoked_by: Any, address: Any) -> str | None:
    """Why a call is AWS acting for a principal rather than the principal itself, or ``None``.

    A service calling on a principal's behalf names itself in ``userIdentity.invokedBy``; forward-access
    sessions and AWS's internal calls carry the service's host name or ``AWS Internal`` as the source address.
    The principal's own call that set it off (e.g. ``CreateStack``) is the finding, not these. The arguments
    are the stored Event's ``userType``, ``invokedBy`` and ``sourceIPAddress``.
    """
    if user_type == "AWSService":
        return "made by an AWS service"
    if invoked_by:
        return f"made by {invoked_by} on the caller's behalf"
    text = str(address or "")
    if text == "AWS Internal":
        return "made by AWS (source address AWS Internal)"
    if text.endswith(".amazonaws.com"):
        return f"made through {text} on the caller's behalf"
    return None
