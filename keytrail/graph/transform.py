"""CloudTrail records to node and relationship rows: pure functions, no database.

Each record becomes rows for the named write queries in ``keytrail/cypher/write``.
Every derived relationship carries the ``eventID`` and the ``rule`` that produced it
(PMapper's habit), so a responder can always ask "why is this edge here?".

Identity: principals get a canonical ``id`` that does not depend on IAM paths
(user and role names are unique within an account, paths are not part of that
identity): ``arn:aws:iam::<acct>:user/<name>``, ``arn:aws:iam::<acct>:role/<name>``,
``arn:aws:sts::<acct>:assumed-role/<role>/<session>``, ``arn:aws:iam::<acct>:root``,
``arn:aws:sts::<acct>:federated-user/<name>``, ``service:<host>`` for AWS services,
``account:<acct>`` for whole accounts, and ``anonymous`` for unauthenticated calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from keytrail.loaders.records import event_time_of, normalise_time

ACCESS_KEY_RE = re.compile(r"^[A-Z0-9]{20}$")
_MAX_TEXT = 32_768

#: Write queries in the order a batch must run them: nodes before the relationships between them.
WRITE_ORDER: tuple[str, ...] = (
    "merge_events",
    "merge_principals",
    "merge_access_keys",
    "merge_login_profiles",
    "merge_resources",
    "merge_made",
    "merge_signed",
    "merge_key_owners",
    "merge_login_profile_owners",
    "merge_sessions",
    "merge_issued",
    "merge_key_usage",
    "set_key_status",
    "merge_effects_on_access_keys",
    "merge_effects_on_principals",
    "merge_effects_on_login_profiles",
    "merge_effects_on_resources",
)

_EFFECT_QUERY = {
    "AccessKey": "merge_effects_on_access_keys",
    "Principal": "merge_effects_on_principals",
    "LoginProfile": "merge_effects_on_login_profiles",
    "Resource": "merge_effects_on_resources",
}


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


def user_id(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def role_id(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def _last_segment(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def principal_from_arn(arn: str) -> dict[str, Any] | None:
    """Canonical principal row for an IAM/STS ARN, or ``None`` if it names no principal."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[4]:
        return None
    account, resource = parts[4], parts[5]
    if resource.startswith("user/"):
        name = _last_segment(resource)
        return {"id": user_id(account, name), "type": "IAMUser", "name": name, "accountId": account, "arn": arn}
    if resource.startswith("role/"):
        name = _last_segment(resource)
        return {"id": role_id(account, name), "type": "IAMRole", "name": name, "accountId": account, "arn": arn}
    if resource.startswith("assumed-role/"):
        pieces = resource.split("/")
        if len(pieces) >= 3:
            role, session = pieces[1], "/".join(pieces[2:])
            return {
                "id": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
                "type": "AssumedRole",
                "name": session,
                "roleName": role,
                "accountId": account,
                "arn": arn,
            }
    if resource.startswith("federated-user/"):
        name = resource.split("/", 1)[1]
        return {
            "id": f"arn:aws:sts::{account}:federated-user/{name}",
            "type": "FederatedUser",
            "name": name,
            "accountId": account,
            "arn": arn,
        }
    if resource == "root":
        return {"id": f"arn:aws:iam::{account}:root", "type": "Root", "name": "root", "accountId": account, "arn": arn}
    return None


def principal_of_identity(identity: dict[str, Any] | None) -> dict[str, Any] | None:
    """The caller as a canonical principal row, or ``None`` when the record names none."""
    if not identity:
        return None
    kind = identity.get("type")
    arn = identity.get("arn") or None
    account = identity.get("accountId") or (arn and _arn_account(arn)) or None
    principal_id = identity.get("principalId")
    row: dict[str, Any] | None = None
    if kind == "IAMUser":
        name = identity.get("userName") or (arn and _last_segment(arn))
        if name and account:
            row = {"id": user_id(account, name), "type": "IAMUser", "name": name, "accountId": account}
    elif kind in ("AssumedRole", "FederatedUser", "Root") and arn:
        row = principal_from_arn(arn)
    elif kind == "Root" and account:
        row = {"id": f"arn:aws:iam::{account}:root", "type": "Root", "name": "root", "accountId": account}
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
    return row


def session_issuer(identity: dict[str, Any] | None) -> dict[str, Any] | None:
    """The role (or user, for federation tokens) a session was issued from."""
    issuer = ((identity or {}).get("sessionContext") or {}).get("sessionIssuer") or {}
    arn = issuer.get("arn")
    if not isinstance(arn, str) or not arn:
        return None
    row = principal_from_arn(arn)
    if row is not None and issuer.get("principalId"):
        row["principalId"] = issuer["principalId"]
    return row


def parse_aws_time(value: Any) -> str | None:
    """Parse the ``expiration``/``createDate`` styles CloudTrail writes into ISO UTC text.

    CloudTrail writes ``Nov 30, 2024, 8:43:17 PM`` (newer) or ``Jul 29, 2021 1:10:42 PM``
    (older) in responseElements; SDK-shaped records use ISO 8601.
    """
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%b %d, %Y, %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p"):
        try:
            return datetime.strptime(value, fmt).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            pass
    try:
        return normalise_time(value)[0]
    except ValueError:
        return None


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…(truncated)"


def _redact_tokens(value: Any) -> Any:
    """Drop STS session tokens: they are bearer secrets and no analysis needs them."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if k == "sessionToken" else _redact_tokens(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_tokens(v) for v in value]
    return value


@dataclass(slots=True)
class Effect:
    """What a call did (or tried to do) to one thing."""

    verb: str
    label: str
    key: str
    rule: str
    node: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Credential:
    """A credential a call brought into being."""

    access_key_id: str
    owner: dict[str, Any] | None
    via: str
    rule: str
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Interpretation:
    """What transform understood of one record, before it becomes rows."""

    effects: list[Effect] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)
    principals: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[tuple[dict[str, Any], dict[str, Any], str]] = field(default_factory=list)
    login_profile_owners: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)


def _params(record: dict[str, Any]) -> dict[str, Any]:
    value = record.get("requestParameters")
    return value if isinstance(value, dict) else {}


def _response(record: dict[str, Any]) -> dict[str, Any]:
    value = record.get("responseElements")
    if isinstance(value, str):
        # Some pipelines deliver responseElements as JSON text; read it, or lineage is lost.
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def _account(record: dict[str, Any], actor: dict[str, Any] | None) -> str:
    identity = record.get("userIdentity") or {}
    return str(record.get("recipientAccountId") or identity.get("accountId") or (actor or {}).get("accountId") or "")


def _user_target(record: dict[str, Any], actor: dict[str, Any] | None, name: Any) -> dict[str, Any] | None:
    """The IAM user a call names, defaulting to the caller when it names none (IAM's rule)."""
    account = _account(record, actor)
    if isinstance(name, str) and name and account:
        return {"id": user_id(account, name), "type": "IAMUser", "name": name, "accountId": account}
    if actor is not None and actor.get("type") == "IAMUser":
        return {k: v for k, v in actor.items() if k in ("id", "type", "name", "accountId")}
    return None


def _role_target(record: dict[str, Any], actor: dict[str, Any] | None, name_or_arn: Any) -> dict[str, Any] | None:
    if not isinstance(name_or_arn, str) or not name_or_arn:
        return None
    if name_or_arn.startswith("arn:"):
        return principal_from_arn(name_or_arn)
    account = _account(record, actor)
    return {"id": role_id(account, name_or_arn), "type": "IAMRole", "name": name_or_arn, "accountId": account} if account else None


def _principal_effect(verb: str, target: dict[str, Any] | None, rule: str, **detail: Any) -> Effect | None:
    if target is None:
        return None
    return Effect(verb, "Principal", target["id"], rule, node=target, detail={k: v for k, v in detail.items() if v is not None})


def _login_profile(user: dict[str, Any]) -> str:
    return f"{user['id']}/login-profile"


# -- IAM and STS: the credential and identity lifecycle (primer §2) -----------------


def _interpret_iam_sts(record: dict[str, Any], actor: dict[str, Any] | None, out: Interpretation) -> bool:
    """Handle the events of credential lineage; True when the record was one of them."""
    name = record["eventName"]
    source = record["eventSource"].split(".", 1)[0]
    params, response = _params(record), _response(record)
    rule = f"{source}.{name}"
    if source == "iam":
        if name == "CreateAccessKey":
            created = response.get("accessKey") or {}
            owner = _user_target(record, actor, created.get("userName") or params.get("userName"))
            key = valid_key(created.get("accessKeyId"))
            if key:
                props = {"createdAt": parse_aws_time(created.get("createDate"))}
                out.credentials.append(Credential(key, owner, name, rule, props))
                out.effects.append(Effect("CREATED", "AccessKey", key, rule, detail={"status": created.get("status") or "Active"}))
            elif owner is not None:
                # A failed call has no new key yet; keep the user it aimed at as the target.
                out.effects.append(Effect("CREATED", "AccessKey", "", rule, node={"intendedOwner": owner["id"]}))
            return True
        if name in ("DeleteAccessKey", "UpdateAccessKey"):
            key = valid_key(params.get("accessKeyId"))
            owner = _user_target(record, actor, params.get("userName"))
            if name == "DeleteAccessKey":
                verb, status = "DELETED", "Deleted"
            else:
                status = str(params.get("status") or "")
                verb = "DEACTIVATED" if status == "Inactive" else "ACTIVATED"
            if key:
                out.effects.append(Effect(verb, "AccessKey", key, rule, detail={"status": status}))
                if owner is not None:
                    out.credentials.append(Credential(key, owner, "", f"{rule}.owner"))
            return True
        if name in ("CreateUser", "DeleteUser"):
            user = response.get("user") or {}
            target = _user_target(record, actor, user.get("userName") or params.get("userName"))
            if target is not None and user.get("arn"):
                target["arn"] = user["arn"]
            if target is not None and user.get("userId"):
                target["principalId"] = user["userId"]
            if params.get("userName") is None and user.get("userName") is None:
                target = None
            effect = _principal_effect("CREATED" if name == "CreateUser" else "DELETED", target, rule)
            if effect:
                out.effects.append(effect)
            return True
        if name in ("CreateRole", "DeleteRole", "UpdateAssumeRolePolicy"):
            role = response.get("role") or {}
            target = _role_target(record, actor, role.get("arn") or params.get("roleName"))
            verb = {"CreateRole": "CREATED", "DeleteRole": "DELETED"}.get(name, "MODIFIED")
            effect = _principal_effect(verb, target, rule, policyDocument=_json_text(params.get("policyDocument") or params.get("assumeRolePolicyDocument")))
            if effect:
                out.effects.append(effect)
            return True
        if name in ("CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile"):
            target = _user_target(record, actor, params.get("userName"))
            if target is not None:
                verb = {"CreateLoginProfile": "CREATED", "UpdateLoginProfile": "UPDATED"}.get(name, "DELETED")
                profile = _login_profile(target)
                out.effects.append(Effect(verb, "LoginProfile", profile, rule, detail={"passwordResetRequired": params.get("passwordResetRequired")}))
                out.login_profile_owners.append((profile, target, rule))
            return True
        match = re.fullmatch(r"(Attach|Detach|Put|Delete)(User|Role|Group)Policy", name)
        if match:
            action, kind = match.groups()
            if kind == "User":
                target = _user_target(record, actor, params.get("userName"))
            elif kind == "Role":
                target = _role_target(record, actor, params.get("roleName"))
            else:
                target = None
                group = params.get("groupName")
                account = _account(record, actor)
                if isinstance(group, str) and account:
                    gid = f"arn:aws:iam::{account}:group/{group}"
                    verb = {"Attach": "ATTACHED_POLICY", "Detach": "DETACHED_POLICY", "Put": "PUT_POLICY"}.get(action, "DELETED_POLICY")
                    out.effects.append(
                        Effect(
                            verb,
                            "Resource",
                            gid,
                            rule,
                            node={"type": "AWS::IAM::Group", "name": group, "accountId": account, "arn": gid},
                            detail=_policy_detail(params),
                        )
                    )
                return True
            verb = {"Attach": "ATTACHED_POLICY", "Detach": "DETACHED_POLICY", "Put": "PUT_POLICY"}.get(action, "DELETED_POLICY")
            effect = _principal_effect(verb, target, rule, **_policy_detail(params))
            if effect:
                out.effects.append(effect)
            return True
        if name in ("AddUserToGroup", "RemoveUserFromGroup"):
            target = _user_target(record, actor, params.get("userName"))
            verb = "ADDED_TO_GROUP" if name == "AddUserToGroup" else "REMOVED_FROM_GROUP"
            effect = _principal_effect(verb, target, rule, groupName=params.get("groupName"))
            if effect:
                out.effects.append(effect)
            return True
        return False
    if source == "sts":
        if name in ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"):
            role = _role_target(record, actor, params.get("roleArn"))
            if role is not None:
                out.effects.append(Effect("ASSUMED", "Principal", role["id"], rule, node=role, detail={"roleSessionName": params.get("roleSessionName")}))
            assumed = response.get("assumedRoleUser") or {}
            session = principal_from_arn(assumed["arn"]) if isinstance(assumed.get("arn"), str) else None
            if session is not None:
                if assumed.get("assumedRoleId"):
                    session["principalId"] = assumed["assumedRoleId"]
                out.principals.append(session)
                if role is not None:
                    out.sessions.append((session, role, rule))
            _minted(record, response, session, name, rule, out)
            return True
        if name == "GetSessionToken":
            owner = actor if actor is not None and actor.get("type") in ("IAMUser", "Root") else None
            _minted(record, response, owner, name, rule, out)
            return True
        if name == "GetFederationToken":
            fed = response.get("federatedUser") or {}
            session = principal_from_arn(fed["arn"]) if isinstance(fed.get("arn"), str) else None
            if session is not None:
                out.principals.append(session)
                if actor is not None:
                    out.sessions.append((session, actor, rule))
            _minted(record, response, session, name, rule, out)
            return True
    return False


def _policy_detail(params: dict[str, Any]) -> dict[str, Any]:
    detail = {
        "policyArn": params.get("policyArn"),
        "policyName": params.get("policyName"),
        "policyDocument": _json_text(params.get("policyDocument")),
    }
    return {k: v for k, v in detail.items() if v is not None}


def _minted(record: dict[str, Any], response: dict[str, Any], owner: dict[str, Any] | None, via: str, rule: str, out: Interpretation) -> None:
    credentials = response.get("credentials") or {}
    key = valid_key(credentials.get("accessKeyId"))
    if key:
        props = {"expiration": parse_aws_time(credentials.get("expiration")), "createdAt": normalise_time(event_time_of(record)[0])[0]}  # type: ignore[index]
        out.credentials.append(Credential(key, owner, via, rule, props))
        out.effects.append(Effect("MINTED", "AccessKey", key, rule))


# -- Everything else: resources named by the call -----------------------------------

_VERB_PREFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Create", "Run", "Import", "Allocate", "Register", "Upload", "Copy", "Restore"), "CREATED"),
    # Remove*/Revoke*/Disassociate* take something away from a resource that stays: MODIFIED, not DELETED.
    (("Delete", "Terminate", "Deregister", "ScheduleKeyDeletion"), "DELETED"),
    (("Stop", "Disable", "Leave"), "STOPPED"),
    (("Start", "Enable", "Resume"), "STARTED"),
    (("Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Search", "Select", "Decrypt", "Download", "Filter"), "READ"),
)


def generic_verb(event_name: str, read_only: bool | None) -> str:
    """The verb of a call by its name: CreateX created, DeleteX deleted, and so on."""
    for prefixes, verb in _VERB_PREFIXES:
        if event_name.startswith(prefixes):
            return verb
    return "READ" if read_only else "MODIFIED"


def _region(record: dict[str, Any]) -> str:
    return str(record.get("awsRegion") or "")


def _resource_from_params(record: dict[str, Any], actor: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Resources a call names in its request, as ARNs where they can be built."""
    params = _params(record)
    source = record["eventSource"].split(".", 1)[0]
    account = _account(record, actor)
    region = _region(record)
    found: list[dict[str, Any]] = []

    def add(rid: str, rtype: str, name: str) -> None:
        found.append({"id": rid, "type": rtype, "name": name, "accountId": account or None, "arn": rid if rid.startswith("arn:") else None})

    if source == "s3":
        bucket = params.get("bucketName")
        if isinstance(bucket, str) and bucket:
            key = params.get("key")
            if isinstance(key, str) and key and record.get("eventCategory") == "Data":
                add(f"arn:aws:s3:::{bucket}/{key}", "AWS::S3::Object", key)
            else:
                add(f"arn:aws:s3:::{bucket}", "AWS::S3::Bucket", bucket)
    elif source == "cloudtrail":
        trail = params.get("name") or params.get("trailName")
        if isinstance(trail, str) and trail:
            rid = trail if trail.startswith("arn:") else f"arn:aws:cloudtrail:{region}:{account}:trail/{trail}"
            add(rid, "AWS::CloudTrail::Trail", _last_segment(trail))
    elif source == "ec2":
        for name_key, rtype, kind in (
            ("instanceId", "AWS::EC2::Instance", "instance"),
            ("snapshotId", "AWS::EC2::Snapshot", "snapshot"),
            ("imageId", "AWS::EC2::Image", "image"),
            ("groupId", "AWS::EC2::SecurityGroup", "security-group"),
            ("volumeId", "AWS::EC2::Volume", "volume"),
            ("keyName", "AWS::EC2::KeyPair", "key-pair"),
        ):
            value = params.get(name_key)
            if isinstance(value, str) and value:
                add(f"arn:aws:ec2:{region}:{account}:{kind}/{value}", rtype, value)
        items = ((params.get("instancesSet") or {}).get("items") or []) if isinstance(params.get("instancesSet"), dict) else []
        # RunInstances names no instance in its request (only imageId, counts): the ids are in the response.
        if not any(isinstance(i, dict) and i.get("instanceId") for i in items) and isinstance(_response(record).get("instancesSet"), dict):
            items = _response(record)["instancesSet"].get("items") or []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("instanceId"), str):
                add(f"arn:aws:ec2:{region}:{account}:instance/{item['instanceId']}", "AWS::EC2::Instance", item["instanceId"])
    elif source == "lambda":
        fn = params.get("functionName")
        if isinstance(fn, str) and fn:
            add(
                fn if fn.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{fn}",
                "AWS::Lambda::Function",
                _last_segment(fn.replace(":", "/")),
            )
    elif source == "secretsmanager":
        secret = params.get("secretId")
        if isinstance(secret, str) and secret:
            add(secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}", "AWS::SecretsManager::Secret", secret)
    elif source == "ssm":
        listed = params.get("names")
        names: list[Any] = listed if isinstance(listed, list) else [params.get("name")]
        for value in names:
            if isinstance(value, str) and value and record["eventName"].startswith(("GetParameter", "PutParameter", "DeleteParameter")):
                add(f"arn:aws:ssm:{region}:{account}:parameter/{value.lstrip('/')}", "AWS::SSM::Parameter", value)
    elif source == "guardduty":
        detector = params.get("detectorId")
        if isinstance(detector, str) and detector:
            add(f"arn:aws:guardduty:{region}:{account}:detector/{detector}", "AWS::GuardDuty::Detector", detector)
    elif source == "logs":
        group = params.get("logGroupName")
        if isinstance(group, str) and group:
            add(f"arn:aws:logs:{region}:{account}:log-group:{group}", "AWS::Logs::LogGroup", group)
    elif source == "kms":
        key = params.get("keyId")
        if isinstance(key, str) and key:
            add(key if key.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{key}", "AWS::KMS::Key", key)
    elif source == "config":
        name = params.get("configurationRecorderName")
        if isinstance(name, str) and name:
            add(f"config-recorder:{account}:{region}:{name}", "AWS::Config::ConfigurationRecorder", name)
    elif source == "iam":
        policy = params.get("policyArn")
        if isinstance(policy, str) and policy.startswith("arn:"):
            add(policy, "AWS::IAM::ManagedPolicy", _last_segment(policy))
    return found


def _resources_from_record(record: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for item in record.get("resources") or []:
        arn = item.get("ARN") or item.get("arn")
        if isinstance(arn, str) and arn:
            found.append({"id": arn, "arn": arn, "type": item.get("type"), "name": _last_segment(arn), "accountId": item.get("accountId")})
    return found


def _interpret_generic(record: dict[str, Any], actor: dict[str, Any] | None, out: Interpretation) -> None:
    name = record["eventName"]
    source = record["eventSource"].split(".", 1)[0]
    verb = generic_verb(name, _read_only(record))
    targets = _resource_from_params(record, actor)
    if not targets:
        # KMS keys appear in ``resources`` of many calls made on a caller's behalf; they are not what was acted on.
        targets = [r for r in _resources_from_record(record) if r.get("type") != "AWS::KMS::Key"][:1]
    for target in targets:
        node = {k: v for k, v in target.items() if k != "id" and v is not None}
        out.effects.append(Effect(verb, "Resource", target["id"], f"generic.{source}.{verb.lower()}", node=node))


def _read_only(record: dict[str, Any]) -> bool | None:
    value = record.get("readOnly")
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    return None


def interpret(record: dict[str, Any], actor: dict[str, Any] | None) -> Interpretation:
    """Understand what one record did, whatever its outcome."""
    out = Interpretation()
    if not _interpret_iam_sts(record, actor, out):
        _interpret_generic(record, actor, out)
    return out


# -- Rows ----------------------------------------------------------------------------


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """Drop nulls: a null in a SET map removes a property on one backend and fails on another."""
    return {k: v for k, v in row.items() if v is not None}


def event_rows(record: dict[str, Any], *, origin: str, index: int, incident: str, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """All rows one (already checked) record contributes, keyed by write query name."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in WRITE_ORDER}
    identity = record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else None
    actor = principal_of_identity(identity)
    found = event_time_of(record)
    assert found is not None  # check_record guarantees it
    event_time, ts = normalise_time(found[0])
    event_id = record["eventID"]
    error = record.get("errorCode")
    console_failed = record["eventName"] == "ConsoleLogin" and _response(record).get("ConsoleLogin") == "Failure"
    succeeded = not error and not console_failed
    action = f"{record['eventSource'].split('.', 1)[0]}:{record['eventName']}"
    key = valid_key((identity or {}).get("accessKeyId"))
    meaning = interpret(record, actor)
    first_effect = meaning.effects[0] if meaning.effects else None
    target = (first_effect.key or first_effect.node.get("intendedOwner")) if first_effect else None

    props = _clean(
        {
            "eventTime": event_time,
            "ts": ts,
            "eventTimeField": None if found[1] == "eventTime" else found[1],
            "eventName": record["eventName"],
            "eventSource": record["eventSource"],
            "action": action,
            "awsRegion": record.get("awsRegion"),
            "sourceIPAddress": record.get("sourceIPAddress"),
            "userAgent": record.get("userAgent"),
            "errorCode": error,
            "errorMessage": (record.get("errorMessage") or "")[:2000] or None,
            "succeeded": succeeded,
            "readOnly": _read_only(record),
            "eventType": record.get("eventType"),
            "eventCategory": record.get("eventCategory"),
            "recipientAccountId": record.get("recipientAccountId"),
            "sharedEventID": record.get("sharedEventID"),
            "requestID": record.get("requestID"),
            "userType": (identity or {}).get("type"),
            "principal": actor["id"] if actor else None,
            "accessKeyId": (identity or {}).get("accessKeyId") or None,
            # Marks the temporary keys of a console session, so a ConsoleLogin can be followed to them.
            "sessionCredentialFromConsole": True if str(record.get("sessionCredentialFromConsole")).lower() == "true" else None,
            "verb": first_effect.verb if first_effect else None,
            "target": target or None,
            "targetType": ("Principal" if not first_effect.key else first_effect.label) if first_effect and target else None,
            "requestParameters": _json_text(record.get("requestParameters")),
            "responseElements": _json_text(_redact_tokens(_response(record) or record.get("responseElements"))),
            "additionalEventData": _json_text(record.get("additionalEventData")),
            "resources": _json_text(record.get("resources")),
            "source": origin,
            "sourceIndex": index,
            "loadRunId": run_id,
        }
    )
    ip = record.get("sourceIPAddress") or None
    agent = record.get("userAgent") or None
    rows["merge_events"].append(
        {
            "eventID": event_id,
            "props": props,
            "incident": incident,
            "action": action,
            "eventSource": record["eventSource"],
            "eventName": record["eventName"],
            "ip": ip,
            "agent": agent,
        }
    )

    principals = rows["merge_principals"]
    if actor is not None:
        principals.append(_clean(actor))
        rows["merge_made"].append({"eventID": event_id, "principal": actor["id"]})
    issuer = session_issuer(identity)
    if actor is not None and issuer is not None and actor["id"] != issuer["id"]:
        principals.append(_clean(issuer))
        rows["merge_sessions"].append(
            {"session": actor["id"], "parent": issuer["id"], "eventID": event_id, "eventTime": event_time, "rule": "userIdentity.sessionIssuer"}
        )
    if key is not None:
        rows["merge_access_keys"].append({"accessKeyId": key, "kind": key_kind(key), "props": {}})
        rows["merge_signed"].append({"eventID": event_id, "accessKeyId": key})
        if actor is not None and actor.get("type") not in ("AWSService", "Anonymous"):
            rows["merge_key_owners"].append(
                {"accessKeyId": key, "principal": actor["id"], "eventID": event_id, "eventTime": event_time, "rule": "userIdentity.accessKeyId"}
            )
        rows["merge_key_usage"].append({"accessKeyId": key, "action": action, "succeeded": succeeded, "eventID": event_id, "eventTime": event_time})

    if not succeeded:
        # A failed call is evidence of intent, never of effect: no effects, no new nodes.
        return rows

    principals.extend(_clean(p) for p in meaning.principals)
    for session, parent, rule in meaning.sessions:
        principals.append(_clean(parent))
        rows["merge_sessions"].append({"session": session["id"], "parent": parent["id"], "eventID": event_id, "eventTime": event_time, "rule": rule})
    born = {credential.access_key_id for credential in meaning.credentials}
    for credential in meaning.credentials:
        props = _clean(dict(credential.props))
        if credential.via:
            props.update({"bornBy": credential.via, "bornEventID": event_id, "bornAt": event_time})
        rows["merge_access_keys"].append({"accessKeyId": credential.access_key_id, "kind": key_kind(credential.access_key_id), "props": props})
        if credential.owner is not None:
            principals.append(_clean(credential.owner))
            rows["merge_key_owners"].append(
                {
                    "accessKeyId": credential.access_key_id,
                    "principal": credential.owner["id"],
                    "eventID": event_id,
                    "eventTime": event_time,
                    "rule": credential.rule,
                }
            )
        if credential.via and key is not None and key != credential.access_key_id:
            rows["merge_issued"].append(
                {"parent": key, "child": credential.access_key_id, "eventID": event_id, "eventTime": event_time, "via": credential.via, "rule": credential.rule}
            )
    for profile, owner, rule in meaning.login_profile_owners:
        principals.append(_clean(owner))
        rows["merge_login_profiles"].append({"id": profile, "props": {"userName": owner.get("name")}})
        rows["merge_login_profile_owners"].append({"profile": profile, "principal": owner["id"], "eventID": event_id, "eventTime": event_time, "rule": rule})
    for effect in meaning.effects:
        if not effect.key:
            continue
        if effect.label == "Principal":
            principals.append(_clean(effect.node))
        elif effect.label == "Resource":
            rows["merge_resources"].append({"id": effect.key, "props": _clean(effect.node)})
        elif effect.label == "AccessKey" and effect.key not in born:
            rows["merge_access_keys"].append({"accessKeyId": effect.key, "kind": key_kind(effect.key), "props": {}})
        if effect.label == "AccessKey" and effect.detail.get("status"):
            rows["set_key_status"].append({"accessKeyId": effect.key, "status": effect.detail["status"], "eventTime": event_time, "eventID": event_id})
        rows[_EFFECT_QUERY[effect.label]].append(
            {"eventID": event_id, "target": effect.key, "verb": effect.verb, "rule": effect.rule, "eventTime": event_time, "detail": _clean(effect.detail)}
        )
    return rows


def aggregate_key_usage(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Collapse per-event key usage into one row per (key, action, outcome) for the batch."""
    grouped: dict[tuple[str, str, bool], dict[str, Any]] = {}
    for row in rows:
        group = (row["accessKeyId"], row["action"], row["succeeded"])
        agg = grouped.get(group)
        if agg is None:
            grouped[group] = {
                "accessKeyId": group[0],
                "action": group[1],
                "succeeded": group[2],
                "count": 1,
                "firstSeen": row["eventTime"],
                "lastSeen": row["eventTime"],
                "eventIDs": [row["eventID"]],
            }
            continue
        agg["count"] += 1
        agg["firstSeen"] = min(agg["firstSeen"], row["eventTime"])
        agg["lastSeen"] = max(agg["lastSeen"], row["eventTime"])
        if len(agg["eventIDs"]) < 10:
            agg["eventIDs"].append(row["eventID"])
    return list(grouped.values())


#: Relationship rows that keep only their earliest evidence, by the fields that identify the pair.
_EARLIEST_EVIDENCE = {
    "merge_key_owners": ("accessKeyId", "principal"),
    "merge_sessions": ("session", "parent"),
    "merge_login_profile_owners": ("profile", "principal"),
}


#: Node rows, by the field that identifies the node: one row per node per batch.
_NODE_ROWS = {"merge_principals": "id", "merge_access_keys": "accessKeyId", "merge_resources": "id", "merge_login_profiles": "id"}


def _combine_nodes(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One row per node: later known values win, as the write queries' SET would make them."""
    combined: dict[Any, dict[str, Any]] = {}
    for row in rows:
        kept = combined.get(row[key])
        if kept is None:
            combined[row[key]] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in row.items()}
            continue
        for name, value in row.items():
            if isinstance(value, dict):
                kept.setdefault(name, {}).update(value)
            elif value is not None:
                kept[name] = value
    return list(combined.values())


def reduce_batch(rows_by_query: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Collapse a batch's rows so the store's result does not depend on row order.

    Key usage is summed per (key, action, outcome); ownership and session facts keep
    their earliest evidence (time, then eventID); a key's status keeps its latest change;
    node rows are combined per node. Backends apply the rows of one
    ``UNWIND`` in different orders, so these choices are made here, once.
    """
    reduced = dict(rows_by_query)
    reduced["merge_key_usage"] = aggregate_key_usage(rows_by_query.get("merge_key_usage", []))
    for name, key in _NODE_ROWS.items():
        reduced[name] = _combine_nodes(rows_by_query.get(name, []), key)
    latest: dict[str, dict[str, Any]] = {}
    for row in rows_by_query.get("set_key_status", []):
        kept = latest.get(row["accessKeyId"])
        if kept is None or (row["eventTime"], row["eventID"]) > (kept["eventTime"], kept["eventID"]):
            latest[row["accessKeyId"]] = row
    reduced["set_key_status"] = list(latest.values())
    for name, fields in _EARLIEST_EVIDENCE.items():
        best: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows_by_query.get(name, []):
            pair = tuple(row[f] for f in fields)
            kept = best.get(pair)
            if kept is None or (row["eventTime"], row["eventID"]) < (kept["eventTime"], kept["eventID"]):
                best[pair] = row
        reduced[name] = list(best.values())
    return reduced
