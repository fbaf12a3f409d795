"""A key in routine use for days before it leaks, then AWS's own quarantine of it.

The story:

1. a CI pipeline uses an IAM user's key from one address with one SDK user agent, every two
   hours for three days: ``ecr:GetAuthorizationToken``, ``s3:PutObject`` of build artefacts,
   now and then ``sts:GetCallerIdentity`` (routine calls, by name and by habit);
2. the key leaks: an attacker calls from a new address with another agent (``GetCallerIdentity``,
   ``secretsmanager:ListSecrets``, an ``s3:PutObject``, a ``RunInstances`` of several instances
   without an instance profile, a VPC flow log created then deleted (its own), the account's trail
   deleted);
3. a defender terminates one of those instances;
4. AWS attaches ``AWSCompromisedKeyQuarantineV3`` to the user. AWS does not document the identity
   its security team signs that call with; the sample uses an ``AWSService`` identity, and keytrail
   recognises the quarantine by the policy's name alone;
5. the CI carries on as before; one last benign call ends the evidence.

Expected answers follow from the facts: the attacker's first use is the first call from the new
address; routine calls before it are not findings, the same calls after it are; the quarantine is
the detection anchor and not a finding; containment terminates only the instances still running,
re-creates the deleted trail, and asks nothing for the flow log the attacker made and removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from keytrail.sample.workshop import (
    BOTO3_APP,
    CLI_KALI,
    AccessKeyFact,
    Actor,
    Api,
    Incident,
    Record,
    Recorder,
    generic,
    get_caller_identity,
    s3_object,
    service_actor,
)

ACCOUNT = "444455556666"
REGION = "eu-west-1"
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
QUARANTINE_POLICY = "AWSCompromisedKeyQuarantineV3"


@dataclass(frozen=True)
class RoutineFacts:
    """What the routine-then-leak incident was generated from."""

    account_id: str
    user_arn: str
    leaked_key: AccessKeyFact
    ci_ip: str
    attacker_ip: str
    first_event_id: str
    """The key's first call (the CI's)."""
    attacker_first_event_id: str
    """The attacker's first call, from the new address."""
    routine_event_ids: tuple[str, ...]
    """The CI's routine-by-name calls (PutObject, GetAuthorizationToken) before the leak."""
    attacker_routine_event_ids: tuple[str, ...]
    """The attacker's routine-by-name calls (ListSecrets, PutObject)."""
    run_instances_event_id: str
    instance_ids: tuple[str, ...]
    terminated_instance_id: str
    quarantine_event_id: str
    quarantine_policy: str
    trail_arn: str
    flow_log_id: str


def routine_key_incident(seed: int = 31) -> Incident[RoutineFacts]:
    rec = Recorder(seed)
    ids = rec.ids
    user = rec.user(ACCOUNT, "ci-deployer")
    key = ids.access_key(ACCOUNT)
    ci_ip = f"198.51.100.{rec.rng.randint(10, 250)}"
    attacker_ip = f"203.0.113.{rec.rng.randint(10, 250)}"
    ci = Actor(user.identity(key), ci_ip, BOTO3_APP, ACCOUNT)
    attacker = Actor(user.identity(key), attacker_ip, CLI_KALI, ACCOUNT)
    bucket = f"ci-artefacts-{ACCOUNT}"

    def ecr_token() -> Api:
        return generic("ecr", "GetAuthorizationToken", True, request={"registryIds": [ACCOUNT]})

    routine: list[str] = []
    first = ""
    at = START
    build = 0
    # Three days of builds every two hours, then four more after the leak.
    leak_at = START + timedelta(days=3, hours=1)
    while at < leak_at + timedelta(hours=8):
        build += 1
        calls = [ecr_token(), s3_object("PutObject", bucket, f"builds/{build}/app.zip", ACCOUNT, REGION, 1_000_000 + build)]
        if build % 6 == 1:
            calls.insert(0, get_caller_identity())
        for offset, api in enumerate(calls):
            record = rec.call(api, ci, at + timedelta(seconds=20 * offset), region=REGION)
            first = first or record["eventID"]
            if at < leak_at and api.name in ("PutObject", "GetAuthorizationToken"):
                routine.append(record["eventID"])
        at += timedelta(hours=2)

    when = leak_at + timedelta(minutes=7)
    attacker_first = rec.call(get_caller_identity(), attacker, when, region=REGION)["eventID"]
    listed = rec.call(generic("secretsmanager", "ListSecrets", True, request={"maxResults": 100}), attacker, when + timedelta(minutes=1), region=REGION)
    put = rec.call(s3_object("PutObject", bucket, "builds/latest/app.zip", ACCOUNT, REGION, 4096), attacker, when + timedelta(minutes=3), region=REGION)
    instances = tuple(ids.instance_id() for _ in range(3))
    run = rec.call(
        Api(
            "ec2",
            "RunInstances",
            False,
            request={
                "instancesSet": {"items": [{"imageId": "ami-0c1c30571d2dae5c9", "minCount": len(instances), "maxCount": len(instances)}]},
                "instanceType": "c5.4xlarge",
                "blockDeviceMapping": {},
                "monitoring": {"enabled": False},
                "disableApiTermination": False,
                "disableApiStop": False,
            },
            response={
                "instancesSet": {
                    "items": [
                        {"instanceId": i, "imageId": "ami-0c1c30571d2dae5c9", "instanceType": "c5.4xlarge", "instanceState": {"code": 0, "name": "pending"}}
                        for i in instances
                    ]
                },
                "ownerId": ACCOUNT,
                "requesterId": ACCOUNT,
            },
        ),
        attacker,
        when + timedelta(minutes=5),
        region=REGION,
    )
    flow_log = f"fl-0{ids.hex(16)}"
    vpc = f"vpc-0{ids.hex(16)}"
    rec.call(
        generic(
            "ec2",
            "CreateFlowLogs",
            False,
            request={"CreateFlowLogsRequest": {"ResourceId": {"tag": 1, "content": vpc}, "ResourceType": "VPC", "TrafficType": "ALL"}},
            response={"CreateFlowLogsResponse": {"requestId": ids.uuid(), "unsuccessful": "", "flowLogIdSet": {"item": flow_log}}},
        ),
        attacker,
        when + timedelta(minutes=6),
        region=REGION,
    )
    rec.call(
        generic("ec2", "DeleteFlowLogs", False, request={"DeleteFlowLogsRequest": {"FlowLogId": {"tag": 1, "content": flow_log}}}),
        attacker,
        when + timedelta(minutes=7),
        region=REGION,
    )
    trail = "org-trail"
    rec.call(generic("cloudtrail", "DeleteTrail", False, request={"name": trail}), attacker, when + timedelta(minutes=8), region=REGION)
    defender = rec.user(ACCOUNT, "secops")
    defender_actor = Actor(defender.identity(ids.access_key(ACCOUNT)), "192.0.2.44", BOTO3_APP, ACCOUNT)
    terminated = instances[1]
    rec.call(
        generic(
            "ec2",
            "TerminateInstances",
            False,
            request={"instancesSet": {"items": [{"instanceId": terminated}]}},
            response={"instancesSet": {"items": [{"instanceId": terminated, "currentState": {"code": 32, "name": "shutting-down"}}]}},
        ),
        defender_actor,
        when + timedelta(hours=1),
        region=REGION,
    )
    quarantine = rec.call(
        generic("iam", "AttachUserPolicy", False, request={"userName": user.name, "policyArn": f"arn:aws:iam::aws:policy/{QUARANTINE_POLICY}"}),
        service_actor("iam.amazonaws.com", ACCOUNT),
        when + timedelta(hours=2),
    )
    rec.call(generic("sts", "GetCallerIdentity", True), defender_actor, at + timedelta(hours=1), region=REGION)

    facts = RoutineFacts(
        account_id=ACCOUNT,
        user_arn=user.arn,
        leaked_key=AccessKeyFact(key, user.name),
        ci_ip=ci_ip,
        attacker_ip=attacker_ip,
        first_event_id=first,
        attacker_first_event_id=attacker_first,
        routine_event_ids=tuple(routine),
        attacker_routine_event_ids=(listed["eventID"], put["eventID"]),
        run_instances_event_id=run["eventID"],
        instance_ids=instances,
        terminated_instance_id=terminated,
        quarantine_event_id=quarantine["eventID"],
        quarantine_policy=QUARANTINE_POLICY,
        trail_arn=f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{trail}",
        flow_log_id=flow_log,
    )
    records: list[Record] = rec.shuffled()
    return Incident("routine-key", records, facts)
