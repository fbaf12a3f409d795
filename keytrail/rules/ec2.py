"""EC2: instances (and the role credentials an instance profile hands them), snapshots, images, groups, keys.

An instance launched or given an instance profile is a door: EC2 delivers the role's
credentials to the instance as the session named after the instance id
(``assumed-role/<role>/i-…``). So are SSH keys pushed through EC2 Instance Connect or the
serial console, and commands run on it through SSM: whoever is on the instance holds
that session.
"""

from __future__ import annotations

from typing import Any

from keytrail.rules.base import Call, Node, members
from keytrail.rules.generic import generic
from keytrail.rules.registry import handles, resources

_NAMED = (
    ("instanceId", "AWS::EC2::Instance", "instance"),
    ("snapshotId", "AWS::EC2::Snapshot", "snapshot"),
    ("imageId", "AWS::EC2::Image", "image"),
    ("groupId", "AWS::EC2::SecurityGroup", "security-group"),
    ("volumeId", "AWS::EC2::Volume", "volume"),
    ("keyName", "AWS::EC2::KeyPair", "key-pair"),
)


def _items(value: Any) -> list[dict[str, Any]]:
    items = value.get("items") if isinstance(value, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


def instance(call: Call, instance_id: str) -> Node:
    return call.resource(call.arn("ec2", f"instance/{instance_id}"), "AWS::EC2::Instance", instance_id)


def instance_ids(call: Call) -> list[str]:
    """Every instance a call names: in its request, else (RunInstances) in its response."""
    ids = [i["instanceId"] for i in _items(call.params.get("instancesSet")) if isinstance(i.get("instanceId"), str)]
    listed = call.params.get("instanceIds")
    ids += [i for i in listed if isinstance(i, str)] if isinstance(listed, list) else []
    if not ids:
        ids = [i["instanceId"] for i in _items(call.response.get("instancesSet")) if isinstance(i.get("instanceId"), str)]
    return ids


def _copied_snapshots(call: Call) -> list[Node]:
    """A snapshot copy (``CopySnapshot``): the new snapshot of the response, then its source in ``sourceRegion``."""
    source = call.text("sourceSnapshotId")
    if not source:
        return []
    found = []
    copy = call.text("snapshotId", source=call.response)
    if copy:
        found.append(call.resource(call.arn("ec2", f"snapshot/{copy}"), "AWS::EC2::Snapshot", copy))
    # The copy is made in the call's region; the source may be in another one. Its account is assumed to be the call's.
    region = call.text("sourceRegion") or call.region
    found.append(call.resource(f"arn:{call.partition}:ec2:{region}:{call.account}:snapshot/{source}", "AWS::EC2::Snapshot", source))
    return found


def _contents(value: Any) -> list[str]:
    """An EC2 list as CloudTrail logs it: a value, ``{"tag": n, "content": value}``, or a list of either."""
    out = []
    for item in value if isinstance(value, list) else [value]:
        found = item.get("content") if isinstance(item, dict) else item
        if isinstance(found, str) and found:
            out.append(found)
    return out


def flow_log_ids(call: Call) -> list[str]:
    """The VPC flow logs a call names: in its (wrapped) request, else those ``CreateFlowLogs`` made."""
    request = _request(call)
    ids = _contents(request.get("FlowLogId")) + _contents(request.get("flowLogIds"))
    if not ids:
        wrapped = call.response.get(f"{call.name}Response")
        made = (wrapped if isinstance(wrapped, dict) else call.response).get("flowLogIdSet")
        ids = _contents(made.get("item")) if isinstance(made, dict) else []
    return list(dict.fromkeys(ids))


@resources("ec2")
def ec2_resources(call: Call) -> list[Node]:
    found = _copied_snapshots(call)
    found += [call.resource(call.arn("ec2", f"vpc-flow-log/{i}"), "AWS::EC2::FlowLog", i) for i in flow_log_ids(call)]
    for field, rtype, kind in _NAMED:
        value = call.text(field)
        if value:
            found.append(call.resource(call.arn("ec2", f"{kind}/{value}"), rtype, value))
    found += [instance(call, i) for i in instance_ids(call)]
    return found


def _request(call: Call) -> dict[str, Any]:
    """The request, which CloudTrail logs wrapped (``<EventName>Request``, capitalised members) for some EC2 calls."""
    wrapped = call.params.get(f"{call.name}Request")
    return wrapped if isinstance(wrapped, dict) else call.params


def _profile(value: Any) -> str | None:
    if isinstance(value, dict):
        for field in ("arn", "name", "id"):
            if isinstance(value.get(field), str) and value[field]:
                return str(value[field])
    return None


@handles("ec2", "RunInstances")
def run_instances(call: Call) -> None:
    generic(call, "CREATED")
    profile = _profile(call.params.get("iamInstanceProfile"))
    launched = _items(call.response.get("instancesSet"))
    detail = {"instanceType": call.text("instanceType"), "count": len(launched) or None, "instanceProfile": profile}
    for item in launched:
        own = _profile(item.get("iamInstanceProfile")) or profile
        if isinstance(item.get("instanceId"), str) and own:
            call.door("instance-profile", "Resource", instance(call, item["instanceId"]), sessionName=item["instanceId"], **(detail | {"instanceProfile": own}))


@handles("ec2", "AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation")
def associate_profile(call: Call) -> None:
    generic(call, "MODIFIED")
    request = _request(call)
    profile = _profile(request.get("iamInstanceProfile")) or _profile({k.lower(): v for k, v in members(request.get("IamInstanceProfile")).items()})
    described = call.obj("iamInstanceProfileAssociation", source=call.obj(f"{call.name}Response"))
    ids = [i for i in (request.get("instanceId"), request.get("InstanceId"), described.get("instanceId")) if isinstance(i, str) and i]
    for instance_id in dict.fromkeys(ids or instance_ids(call)):
        node = instance(call, instance_id)
        call.on_resource("MODIFIED", node, instanceProfile=profile)
        call.door("instance-profile", "Resource", node, sessionName=instance_id, instanceProfile=profile)


@handles("ec2", "ModifyInstanceMetadataOptions")
def metadata_options(call: Call) -> None:
    """IMDS settings of one instance (``HttpTokens`` ``optional`` lets IMDSv1 hand out its role's credentials)."""
    request = _request(call)
    wrapped = call.response.get(f"{call.name}Response")
    described = wrapped if isinstance(wrapped, dict) else call.response
    ids = [i for i in (request.get("InstanceId"), request.get("instanceId"), described.get("instanceId")) if isinstance(i, str) and i]
    for instance_id in dict.fromkeys(ids):
        call.on_resource("MODIFIED", instance(call, instance_id))


@handles("ec2-instance-connect", "SendSSHPublicKey", "SendSerialConsoleSSHPublicKey")
def ssh_key_pushed(call: Call) -> None:
    instance_id = call.text("instanceId")
    if instance_id:
        target = instance(call, instance_id)
        call.on_resource("MODIFIED", target, osUser=call.text("instanceOSUser"))
        call.door("instance-access", "Resource", target, sessionName=instance_id, osUser=call.text("instanceOSUser"))


@handles("ssm", "SendCommand", "StartSession")
def run_on_instance(call: Call) -> None:
    ids = instance_ids(call)
    target = call.text("target")
    if target and target.startswith("i-"):
        ids.append(target)
    for instance_id in ids:
        node = instance(call, instance_id)
        call.on_resource("MODIFIED", node, documentName=call.text("documentName"))
        call.door("instance-access", "Resource", node, sessionName=instance_id, documentName=call.text("documentName"))
