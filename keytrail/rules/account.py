"""AWS Account Management: the account's alternate contacts (where AWS writes about security, billing, operations)."""

from __future__ import annotations

from keytrail.rules.base import Call, Node
from keytrail.rules.registry import resources


@resources("account")
def account_resources(call: Call) -> list[Node]:
    kind = call.text("alternateContactType")
    # accountId is set when the organisation's management (or delegated) account changes a member account.
    account = call.text("accountId") or call.account
    if not kind or not account:
        return []
    rid = f"account:{account}:alternate-contact/{kind}"
    return [call.resource(rid, "AWS::Account::AlternateContact", kind, accountId=account)]
