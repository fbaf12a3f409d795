"""SES: the sending identity an email went out through (spam and phishing from a stolen key)."""

from __future__ import annotations

from email.utils import parseaddr

from keytrail.model.identity import last_segment
from keytrail.rules.base import Call, Node
from keytrail.rules.registry import resources


@resources("ses")
def ses_resources(call: Call) -> list[Node]:
    """The identity: as an ARN (sending authorisation), else named in the request, else the account's sending.

    SES data events (``SendEmail``, ``SendRawEmail``) list the identity used in the record's ``resources``,
    which the generic rule reads when this finder names nothing, so a sender address is only used without it.
    """
    arn = call.text("sourceArn", "fromArn", "fromEmailAddressIdentityArn")
    if arn:
        return [call.resource(arn, "AWS::SES::EmailIdentity", last_segment(arn))]
    if call.record.get("resources"):
        return []
    sender = parseaddr(call.text("source", "fromEmailAddress") or "")[1]
    identity = call.text("identity", "emailIdentity", "emailAddress", "domain") or (sender if "@" in sender else None)
    if identity:
        return [call.resource(call.arn("ses", f"identity/{identity}"), "AWS::SES::EmailIdentity", identity)]
    if call.name.startswith("Send") and call.account:
        # A raw message can carry its sender only in its (hidden) headers: the account's sending is what was used.
        return [call.resource(f"ses:{call.account}:{call.region}", "AWS::SES::Account", f"ses in {call.account} {call.region}")]
    return []
