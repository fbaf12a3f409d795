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
    return [call.resource(call.arn("logs", f"log-group:{group}"), "AWS::Logs::LogGroup", group)] if group else []


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
    rid = f"{call.service}:{call.account}:{call.region}"
    return [call.resource(rid, f"AWS::{call.service}::Account", f"{call.service} in {call.account} {call.region}")] if call.account else []


@resources("access-analyzer")
def analyzer_resources(call: Call) -> list[Node]:
    name = call.text("analyzerName")
    return [call.resource(call.arn("access-analyzer", f"analyzer/{name}"), "AWS::AccessAnalyzer::Analyzer", name)] if name else []
