"""What each CloudTrail event means: one module per AWS service, behind a registry.

:func:`interpret` looks up the rule registered for the record's service and event name
and runs it; an event with no rule gets the generic effect (a verb from its name, on
every resource the service's finder names). Adding an event is one entry in one
service module (``@handles("iam", "CreateUser")``) plus its test.
"""

from __future__ import annotations

from typing import Any

from keytrail.rules import account, bedrock, cloudtrail, data, detection, ec2, iam, lambda_, s3, secrets, ses, sso, sts  # noqa: F401  (they register their rules)
from keytrail.rules.base import Call, Credential, Effect, Interpretation, LoginProfileOwner, Node, SessionLink
from keytrail.rules.generic import generic
from keytrail.rules.registry import REGISTRY


def interpret(record: dict[str, Any], actor: Node | None) -> Interpretation:
    """Understand what one (checked) record did, whatever its outcome."""
    name = str(record["eventName"])
    call = Call.of(record, actor, name)
    rule = REGISTRY.rule_for(call.service, name)
    if rule is not None:
        rule(call)
    else:
        generic(call)
    return call.out


__all__ = ["REGISTRY", "Credential", "Effect", "Interpretation", "LoginProfileOwner", "SessionLink", "interpret"]
