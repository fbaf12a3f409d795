"""Lambda: functions, their execution roles, resource policies and URLs.

Lambda runs a function with its execution role as the session named after the
function (``assumed-role/<role>/<function name>``), so a function created or
reconfigured with a role is a door into that role; a permission or a URL with
``authType`` NONE lets others invoke it.
"""

from __future__ import annotations

from keytrail.model.identity import last_segment
from keytrail.rules import policy
from keytrail.rules.base import Call, Node
from keytrail.rules.generic import generic
from keytrail.rules.registry import handles, resources


def _function_name(value: str) -> str:
    """``my-fn``, or the name inside ``arn:aws:lambda:r:a:function:my-fn[:alias]``."""
    if value.startswith("arn:"):
        parts = value.split(":")
        return parts[6] if len(parts) > 6 else last_segment(value)
    return value


@resources("lambda")
def lambda_resources(call: Call) -> list[Node]:
    fn = call.text("functionName")
    if not fn:
        return []
    name = _function_name(fn)
    return [call.resource(fn if fn.startswith("arn:") else call.arn("lambda", f"function:{fn}"), "AWS::Lambda::Function", name)]


def _role_door(call: Call, kind: str) -> None:
    fn = call.text("functionName") or call.text("functionName", source=call.response)
    role = call.role(call.text("role") or call.text("role", source=call.response))
    if fn and role is not None:
        arn = fn if fn.startswith("arn:") else call.arn("lambda", f"function:{fn}")
        call.door(kind, "Principal", role, sessionName=_function_name(fn), function=arn)


@handles("lambda", "CreateFunction", "UpdateFunctionConfiguration")
def function_role(call: Call) -> None:
    generic(call, "CREATED" if call.name.startswith("CreateFunction") else "MODIFIED")
    _role_door(call, "function-role")


@handles("lambda", "UpdateFunctionCode")
def function_code(call: Call) -> None:
    generic(call, "MODIFIED")
    # New code runs as the function's role: the response names it.
    _role_door(call, "function-code")


@handles("lambda", "AddPermission")
def add_permission(call: Call) -> None:
    principal = call.text("principal")
    for node in generic(call, "MODIFIED"):
        admits = [principal] if principal else []
        call.door(
            "resource-policy",
            "Resource",
            node,
            admits=admits or None,
            external=policy.external_principals(admits, call.account) or None,
            public=policy.is_public(admits) or None,
            action=call.text("action"),
            statementId=call.text("statementId"),
        )


@handles("lambda", "CreateFunctionUrlConfig", "UpdateFunctionUrlConfig")
def function_url(call: Call) -> None:
    auth = call.text("authType")
    for node in generic(call, "MODIFIED"):
        if auth == "NONE":
            call.door("function-url", "Resource", node, public=True, authType=auth, url=call.text("functionUrl", source=call.response))
