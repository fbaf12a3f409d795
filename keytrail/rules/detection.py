"""Detection and logging services: GuardDuty, CloudWatch Logs, AWS Config, Security Hub, Macie, Inspector, Access Analyzer."""

from __future__ import annotations

from keytrail.rules.base import Call, Node
from keytrail.rules.registry import resources


@resources("guardduty")
def guardduty_resources(call: Call) -> list[Node]:
    detector = call.text("detectorId")
    return [call.resource(call.arn("guardduty", f"detector/{detector}"), "AWS::GuardDuty::Detector", detector)] if detector else []


@resources("logs")
def logs_resources(call: Call) -> list[Node]:
    group = call.text("logGroupName")
    if group:
        return [call.resource(call.arn("logs", f"log-group:{group}"), "AWS::Logs::LogGroup", group)]
    if call.name.endswith("ResourcePolicy"):
        # A resource policy is the account's (named by policyName) or, with resourceArn, one log group's.
        scoped = (call.text("resourceArn") or "").removesuffix(":*")
        if scoped:
            return [call.resource(scoped, "AWS::Logs::LogGroup", scoped.rsplit(":", 1)[-1])]
        policy = call.text("policyName")
        if policy and call.account:
            return [call.resource(f"logs-resource-policy:{call.account}:{call.region}:{policy}", "AWS::Logs::ResourcePolicy", policy)]
    return []


@resources("config")
def config_resources(call: Call) -> list[Node]:
    name = call.text("configurationRecorderName")
    return [call.resource(f"config-recorder:{call.account}:{call.region}:{name}", "AWS::Config::ConfigurationRecorder", name)] if name else []


@resources("securityhub", "macie2", "inspector2", "detective")
def account_level_service(call: Call) -> list[Node]:
    """These services are switched on and off per account and region: the hub itself is the resource."""
    hub = call.text("HubArn", "hubArn")
    if hub:
        return [call.resource(hub, f"AWS::{call.service}::Hub", hub.rsplit("/", 1)[-1])]
    accounts = [call.account] if call.account else []
    listed = call.params.get("accountIds")
    if call.service == "inspector2" and isinstance(listed, list) and call.name in ("Enable", "Disable"):
        # Inspector's Enable and Disable name the accounts they switch (a delegated administrator's members).
        accounts = [a for a in listed if isinstance(a, str) and a] or accounts
    kind = f"AWS::{call.service}::Account"
    return [call.resource(f"{call.service}:{a}:{call.region}", kind, f"{call.service} in {a} {call.region}", accountId=a) for a in accounts]


@resources("access-analyzer")
def analyzer_resources(call: Call) -> list[Node]:
    name = call.text("analyzerName")
    return [call.resource(call.arn("access-analyzer", f"analyzer/{name}"), "AWS::AccessAnalyzer::Analyzer", name)] if name else []
