"""IAM Identity Center (sso, identitystore) and IAM Roles Anywhere.

An Identity Center permission set provisions, in each account it is assigned to, a role
named ``AWSReservedSSO_<permission set name>_<suffix>``; a user's sessions are sessions of
that role named after the user. A permission set the attacker created, or assigned, is a
door into those roles; so is a user the attacker created in the identity store. A Roles
Anywhere profile lets holders of a certificate of its trust anchor assume its roles.
"""

from __future__ import annotations

from keytrail.rules.base import Call, Node
from keytrail.rules.generic import generic
from keytrail.rules.registry import handles, resources


def _permission_set(call: Call, arn: str | None, name: str | None = None) -> Node | None:
    if not arn:
        return None
    # Only CreatePermissionSet names the set; other calls give its ARN, and must not overwrite the name.
    return call.resource(arn, "AWS::SSO::PermissionSet", name)


@resources("sso")
def sso_resources(call: Call) -> list[Node]:
    found = _permission_set(call, call.text("permissionSetArn") or call.text("permissionSetArn", source=call.obj("permissionSet")))
    return [found] if found else []


@handles("sso", "CreatePermissionSet")
def create_permission_set(call: Call) -> None:
    made = call.obj("permissionSet")
    name = call.text("name") or call.text("name", source=made)
    node = _permission_set(call, call.text("permissionSetArn", source=made), name)
    if node is None:
        return
    call.on_resource("CREATED", node)
    if name:
        call.door("sso-permission-set", "Resource", node, rolePrefix=f"AWSReservedSSO_{name}_")


@handles("sso", "AttachManagedPolicyToPermissionSet", "PutInlinePolicyToPermissionSet", "AttachCustomerManagedPolicyReferenceToPermissionSet")
def permission_set_policy(call: Call) -> None:
    # More rights for a set: every session of its roles has them. The roles' prefix comes from the set's name,
    # which the store knows when CreatePermissionSet is in the evidence.
    for node in generic(call, "ATTACHED_POLICY" if call.name.startswith("Attach") else "PUT_POLICY"):
        call.door("sso-permission-set", "Resource", node, policyArn=call.text("managedPolicyArn"))


@handles("sso", "CreateAccountAssignment")
def account_assignment(call: Call) -> None:
    for node in generic(call, "MODIFIED"):
        call.door(
            "sso-assignment",
            "Resource",
            node,
            targetAccount=call.text("targetId"),
            principalType=call.text("principalType"),
            principalId=call.text("principalId"),
        )


@resources("identitystore", "sso-directory")
def identity_store_resources(call: Call) -> list[Node]:
    store = call.text("identityStoreId") or "identity-store"
    user = call.text("userId", "userName") or call.text("userId", source=call.response)
    if user:
        return [call.resource(f"identitystore:{store}:user/{user}", "AWS::IdentityStore::User", call.text("userName") or user)]
    group = call.text("groupId", "displayName")
    return [call.resource(f"identitystore:{store}:group/{group}", "AWS::IdentityStore::Group", group)] if group else []


@handles("identitystore", "CreateUser")
@handles("sso-directory", "CreateUser")
def identity_store_user(call: Call) -> None:
    name = call.text("userName") or call.text("userName", source=call.obj("user"))
    store = call.text("identityStoreId") or "identity-store"
    user = call.text("userId", source=call.response) or name
    if not user:
        return
    node = call.resource(f"identitystore:{store}:user/{user}", "AWS::IdentityStore::User", name or user)
    call.on_resource("CREATED", node)
    if name:
        # Identity Center sessions are named after the user: AWSReservedSSO_<set>_<suffix>/<userName>.
        call.door("sso-user", "Resource", node, sessionName=name, rolePrefix="AWSReservedSSO_")


@resources("rolesanywhere")
def roles_anywhere_resources(call: Call) -> list[Node]:
    # The same ARN CreateTrustAnchor and CreateProfile return, so that a later DeleteTrustAnchor shuts the door.
    for field, kind, rtype in (("trustAnchorId", "trust-anchor", "AWS::RolesAnywhere::TrustAnchor"), ("profileId", "profile", "AWS::RolesAnywhere::Profile")):
        value = call.text(field)
        if value:
            return [call.resource(value if value.startswith("arn:") else call.arn("rolesanywhere", f"{kind}/{value}"), rtype, None)]
    return []


@handles("rolesanywhere", "CreateTrustAnchor")
def trust_anchor(call: Call) -> None:
    made = call.obj("trustAnchor")
    arn = call.text("trustAnchorArn", source=made)
    if arn:
        node = call.resource(arn, "AWS::RolesAnywhere::TrustAnchor", call.text("name") or arn.rsplit("/", 1)[-1])
        call.on_resource("CREATED", node)
        call.door("trust-anchor", "Resource", node)


@handles("rolesanywhere", "CreateProfile", "UpdateProfile")
def roles_anywhere_profile(call: Call) -> None:
    made = call.obj("profile")
    arn = call.text("profileArn", source=made)
    if arn:
        call.on_resource("CREATED" if call.name == "CreateProfile" else "MODIFIED", call.resource(arn, "AWS::RolesAnywhere::Profile", call.text("name") or arn))
    roles = call.params.get("roleArns") or made.get("roleArns") or []
    for role_arn in roles if isinstance(roles, list) else []:
        # Sessions of these roles can now be had with a certificate: every later session comes through this door.
        call.door("roles-anywhere", "Principal", call.role(role_arn), profile=arn)
