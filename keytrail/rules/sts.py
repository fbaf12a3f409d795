"""STS: temporary credentials minted by AssumeRole*, GetSessionToken and GetFederationToken."""

from __future__ import annotations

from keytrail.model.identity import principal_from_arn, valid_key
from keytrail.model.time import event_time_of, normalise_time, parse_aws_time
from keytrail.rules.base import Call, Credential, Node, SessionLink
from keytrail.rules.registry import handles


def _minted(call: Call, owner: Node | None) -> None:
    credentials = call.obj("credentials")
    key = valid_key(credentials.get("accessKeyId"))
    if not key:
        return
    found = event_time_of(call.record)
    props = {"expiration": parse_aws_time(credentials.get("expiration")), "createdAt": normalise_time(found[0])[0] if found else None}
    call.out.credentials.append(Credential(key, owner, call.name, call.rule, props))
    call.effect("MINTED", "AccessKey", key)


@handles("sts", "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity")
def assume_role(call: Call) -> None:
    role = call.role(call.params.get("roleArn"))
    if role is not None:
        call.on_principal("ASSUMED", role, roleSessionName=call.text("roleSessionName"))
    assumed = call.obj("assumedRoleUser")
    session = principal_from_arn(assumed["arn"]) if isinstance(assumed.get("arn"), str) else None
    session_name = call.text("roleSessionName")
    if session is None and role is not None and session_name and role.get("accountId"):
        # AWS services (EC2, Lambda) assume roles without an assumedRoleUser in the response: the session's
        # ARN is the role's name and the session name, as every call the session signs will show it.
        partition = str(role["id"]).split(":", 2)[1]
        session = principal_from_arn(f"arn:{partition}:sts::{role['accountId']}:assumed-role/{role['name']}/{session_name}")
    if session is not None:
        if call.text("assumedRoleId", source=assumed):
            session["principalId"] = assumed["assumedRoleId"]
        call.out.principals.append(session)
        if role is not None:
            call.out.sessions.append(SessionLink(session, role, call.rule))
    _minted(call, session)


@handles("sts", "GetSessionToken")
def session_token(call: Call) -> None:
    owner = call.actor if call.actor is not None and call.actor.get("type") in ("IAMUser", "Root") else None
    _minted(call, owner)


@handles("sts", "GetFederationToken")
def federation_token(call: Call) -> None:
    fed = call.obj("federatedUser")
    session = principal_from_arn(fed["arn"]) if isinstance(fed.get("arn"), str) else None
    if session is not None:
        call.out.principals.append(session)
        if call.actor is not None:
            call.out.sessions.append(SessionLink(session, call.actor, call.rule))
        # The federated user can sign in to the console (GetSigninToken, ConsoleLogin) and get keys no call minted.
        call.door("federation", "Principal", session, policy=call.text("policy"))
    _minted(call, session)
