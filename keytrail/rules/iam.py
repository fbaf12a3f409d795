"""IAM: users, roles, keys, console passwords and policies (the credential and identity lifecycle)."""

from __future__ import annotations

from functools import partial
from typing import Any

from keytrail.model.identity import last_segment, valid_key
from keytrail.model.time import parse_aws_time
from keytrail.rules import policy
from keytrail.rules.base import Call, Credential, LoginProfileOwner, Node, json_text
from keytrail.rules.registry import handles, resources

_POLICY_VERBS = {"Attach": "ATTACHED_POLICY", "Detach": "DETACHED_POLICY", "Put": "PUT_POLICY", "Delete": "DELETED_POLICY"}


@handles("iam", "CreateAccessKey")
def create_access_key(call: Call) -> None:
    created = call.obj("accessKey")
    owner = call.user(call.text("userName", source=created) or call.params.get("userName"))
    key = valid_key(created.get("accessKeyId"))
    if key:
        call.out.credentials.append(Credential(key, owner, call.name, call.rule, {"createdAt": parse_aws_time(created.get("createDate"))}))
        call.effect("CREATED", "AccessKey", key, status=call.text("status", source=created) or "Active")
    elif owner is not None:
        # A failed call has no new key yet; keep the user it aimed at as the target.
        call.effect("CREATED", "AccessKey", "", node={"intendedOwner": owner["id"]})


@handles("iam", "DeleteAccessKey", "UpdateAccessKey")
def change_access_key(call: Call) -> None:
    key = valid_key(call.params.get("accessKeyId"))
    owner = call.user(call.params.get("userName"))
    if call.name == "DeleteAccessKey":
        verb, status = "DELETED", "Deleted"
    else:
        status = call.text("status") or ""
        verb = "DEACTIVATED" if status == "Inactive" else "ACTIVATED"
    if key:
        call.effect(verb, "AccessKey", key, status=status)
        if owner is not None:
            call.out.credentials.append(Credential(key, owner, "", f"{call.rule}.owner"))


@handles("iam", "CreateUser", "DeleteUser")
def user_lifecycle(call: Call) -> None:
    user = call.obj("user")
    # Only a name: without one, call.user would take the caller for the user created or deleted.
    name = call.text("userName", source=user) or call.text("userName")
    if name is None:
        return
    target = call.user(name)
    if target is None:
        return
    if call.text("arn", source=user):
        target["arn"] = user["arn"]
    if call.text("userId", source=user):
        target["principalId"] = user["userId"]
    if isinstance(user.get("path"), str) and user["path"] != "/":
        target["path"] = user["path"]
    if call.name == "CreateUser":
        call.on_principal("CREATED", target)
        # A user the attacker made is theirs: every later session of it comes through this door.
        call.door("user-created", "Principal", target)
    else:
        call.on_principal("DELETED", target)


def _trust(call: Call, raw: Any) -> tuple[str | None, list[str]]:
    doc = policy.document(raw)
    return json_text(raw), policy.admitted_principals(doc)


@handles("iam", "CreateRole", "DeleteRole", "UpdateAssumeRolePolicy")
def role_lifecycle(call: Call) -> None:
    role = call.obj("role")
    target = call.role(call.text("arn", source=role) or call.params.get("roleName"))
    if target is None:
        return
    if isinstance(role.get("roleId"), str):
        target["principalId"] = role["roleId"]
    raw = call.params.get("policyDocument") or call.params.get("assumeRolePolicyDocument")
    text, admits = _trust(call, raw)
    if call.name == "DeleteRole":
        call.on_principal("DELETED", target)
        return
    verb = "CREATED" if call.name == "CreateRole" else "MODIFIED"
    call.on_principal(verb, target, policyDocument=text)
    external = policy.external_principals(admits, call.account)
    kind = "role-created" if call.name == "CreateRole" else "trust-policy"
    # Every later session of the role comes through this door, whoever signs it.
    call.door(kind, "Principal", target, admits=admits or None, external=external or None, public=policy.is_public(admits) or None)


@handles("iam", "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile")
def login_profile(call: Call) -> None:
    target = call.user(call.params.get("userName"))
    if target is None:
        return
    verb = {"CreateLoginProfile": "CREATED", "UpdateLoginProfile": "UPDATED"}.get(call.name, "DELETED")
    profile = f"{target['id']}/login-profile"
    reset = call.params.get("passwordResetRequired")
    call.effect(verb, "LoginProfile", profile, passwordResetRequired=reset if isinstance(reset, bool) else None)
    call.out.login_profile_owners.append(LoginProfileOwner(profile, target, call.rule))


def _policy_detail(call: Call) -> dict[str, Any]:
    return {
        "policyArn": call.text("policyArn"),
        "policyName": call.text("policyName"),
        "policyDocument": json_text(call.params.get("policyDocument")),
    }


def _grants_admin(call: Call) -> bool:
    return policy.is_admin_policy_arn(call.params.get("policyArn")) or policy.grants_everything(policy.document(call.params.get("policyDocument")))


def _policy_change(call: Call, kind: str) -> None:
    action = next(prefix for prefix in _POLICY_VERBS if call.name.startswith(prefix))
    verb = _POLICY_VERBS[action]
    detail = _policy_detail(call)
    if kind == "Group":
        group = call.text("groupName")
        if group and call.account:
            gid = call.arn("iam", f"group/{group}", region=False)
            call.on_resource(verb, call.resource(gid, "AWS::IAM::Group", group), **detail)
        return
    target = call.user(call.params.get("userName")) if kind == "User" else call.role(call.params.get("roleName"))
    call.on_principal(verb, target, **detail)
    if action in ("Attach", "Put") and _grants_admin(call):
        # An administrator made by the attacker: its later sessions are the attacker's reach.
        call.door("admin-policy", "Principal", target, policyArn=detail["policyArn"], policyName=detail["policyName"])


for _kind in ("User", "Role", "Group"):
    handles("iam", *(f"{action}{_kind}Policy" for action in _POLICY_VERBS))(partial(_policy_change, kind=_kind))


@handles("iam", "AddUserToGroup", "RemoveUserFromGroup")
def group_membership(call: Call) -> None:
    target = call.user(call.params.get("userName"))
    verb = "ADDED_TO_GROUP" if call.name == "AddUserToGroup" else "REMOVED_FROM_GROUP"
    call.on_principal(verb, target, groupName=call.text("groupName"))


@handles("iam", "CreateInstanceProfile", "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile", "DeleteInstanceProfile")
def instance_profile(call: Call) -> None:
    name = call.text("instanceProfileName")
    if not name or not call.account:
        return
    profile_arn = call.text("arn", source=call.obj("instanceProfile")) or call.arn("iam", f"instance-profile/{name}", region=False)
    verb = {"CreateInstanceProfile": "CREATED", "DeleteInstanceProfile": "DELETED"}.get(call.name, "MODIFIED")
    role = call.role(call.params.get("roleName"))
    call.on_resource(verb, call.resource(profile_arn, "AWS::IAM::InstanceProfile", name), roleName=role["name"] if role else None)


@resources("iam")
def iam_resources(call: Call) -> list[Node]:
    arn = call.params.get("policyArn")
    if isinstance(arn, str) and arn.startswith("arn:"):
        return [call.resource(arn, "AWS::IAM::ManagedPolicy", last_segment(arn))]
    return []
