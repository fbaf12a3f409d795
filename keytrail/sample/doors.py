"""Doors: ways a leaked IAM user key (``AKIA…``) opens access that no call of that key minted.

Each generator returns an :class:`~keytrail.sample.workshop.Incident` whose facts name the
leaked key, the calls that opened the door, and the credentials that came in through it.
The story is the same in all seven:

1. a day of office background in the victim account;
2. the leaked key's first use (``sts:GetCallerIdentity``) from an attacker IP, some discovery,
   then the door-opening call(s), all signed by the leaked key;
3. the defender deactivates, then deletes, the leaked key (signed by the defender's own key)
   before the door is used, or while it is in use;
4. calls through the door, signed by credentials that no call of the leaked key minted,
   continuing after the key is gone;
5. one last benign call, so the evidence ends after the attacker's last call. Temporary
   credentials that came through the door expire after the end of the evidence: still alive.

Record shapes follow real CloudTrail records (Stratus Red Team detonation logs, the Invictus IR
dataset, flaws2, TrailDiscover) and the AWS API models; deviations from the brief are noted in
each generator's docstring. Deterministic: one ``random.Random(seed)`` drives everything.
"""

from __future__ import annotations

import base64
import json
import string
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from keytrail.sample.workshop import (
    ADMIN_POLICY_ARN,
    BROWSER,
    CLI_KALI,
    CLI_MAC,
    AccessKeyFact,
    Actor,
    Agent,
    Api,
    BackgroundCast,
    IamRole,
    IamUser,
    Incident,
    Record,
    Recorder,
    RoleSession,
    assume_role,
    aws_datetime,
    console_login,
    create_access_key,
    create_user,
    credentials,
    day_at,
    delete_access_key,
    ec2_read,
    generic,
    get_caller_identity,
    iam_read,
    iam_write,
    office_background,
    s3_list_buckets,
    s3_list_objects,
    s3_object,
    service_actor,
    ts,
    update_access_key,
)

DOOR_DAY = datetime(2026, 1, 7, tzinfo=UTC)
REGION = "us-east-1"
DEFENDER_IP = "192.0.2.5"  # office_background draws office IPs from .10-.249

#: Code running on EC2 (the attacker's user data, or an SSH shell) and in Lambda.
CLI_AMAZON_LINUX = Agent(
    "aws-cli/2.17.18 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.119-129.201.amzn2023.x86_64 md/arch#x86_64 lang/python#3.9.20 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off",
    cli=True,
)
LAMBDA_BOTO3 = Agent(
    "Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.227-239.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 "
    "md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.145"
)
REQUESTS = Agent("python-requests/2.32.3")


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class DoorFacts:
    """What every door incident shares."""

    account_id: str
    """The victim account (the leaked key's account)."""
    attacker_ip: str
    leaked_key: AccessKeyFact
    first_use_time: str
    """The leaked key's first call (GetCallerIdentity)."""
    defender_user: str
    key_deactivated_time: str
    key_deleted_time: str
    """DeleteAccessKey of the leaked key, signed by the defender's key."""
    door_event_ids: tuple[str, ...]
    """The calls, signed by the leaked key, that opened the door (in time order)."""
    entry_key_ids: tuple[str, ...]
    """Keys that came in through the door: no call signed by the leaked key minted them."""
    evidence_end_time: str
    """Time of the last record (benign), later than any attacker call."""


@dataclass(frozen=True)
class CrossAccountEntryFacts(DoorFacts):
    """A role that admits another account, and that account's way in through it."""

    external_account_id: str
    role_arn: str
    admitted_principals: tuple[str, ...]
    """Principals of the trust policy, in statement order."""
    external_user_arn: str
    external_key_id: str
    """The external IAM user's own AKIA key: signs the AssumeRole copy in its own account."""
    entry_event_id: str
    """AssumeRole as logged in the victim account (userIdentity type AWSAccount)."""
    entry_twin_event_id: str
    """The same AssumeRole as logged in the external account."""
    shared_event_id: str
    session_name: str
    session_key_id: str
    session_expiration: str
    session_event_ids: tuple[str, ...]
    """Calls signed by the session key."""


@dataclass(frozen=True)
class TrustBackdoorFacts(CrossAccountEntryFacts):
    """Inputs of :func:`trust_backdoor_incident`: the existing role's new trust policy keeps its principal first."""

    door_event_id: str
    """UpdateAssumeRolePolicy."""
    exposed_bucket: str
    """Bucket whose policy the session opened to the external account."""


@dataclass(frozen=True)
class BackdoorRoleFacts(CrossAccountEntryFacts):
    """Inputs of :func:`backdoor_role_incident`."""

    create_role_event_id: str
    attach_policy_event_id: str
    role_id: str
    policy_arn: str
    further_key: AccessKeyFact
    """AKIA key the role session created for an existing user."""


@dataclass(frozen=True)
class LambdaBackdoorFacts(DoorFacts):
    """Inputs of :func:`lambda_backdoor_incident`."""

    role_name: str
    role_arn: str
    function_name: str
    function_arn: str
    function_url: str
    url_auth_type: str
    permission_principal: str
    permission_actions: tuple[str, ...]
    create_role_event_id: str
    attach_policy_event_id: str
    create_function_event_id: str
    add_permission_event_ids: tuple[str, ...]
    create_url_event_id: str
    validation_key_id: str
    """Lambda assumes the role once at CreateFunction (session ``awslambda_…``); that key is never used."""
    service_assume_event_id: str
    """lambda.amazonaws.com assuming the role for an invocation (session name = function name)."""
    session_key_id: str
    session_expiration: str
    session_event_ids: tuple[str, ...]
    function_ip: str
    created_user: str
    further_key: AccessKeyFact
    """AKIA key the function created for ``created_user``; later used from the attacker IP."""


@dataclass(frozen=True)
class InstanceProfileFacts(DoorFacts):
    """Inputs of :func:`instance_profile_incident`."""

    door_event_id: str
    """RunInstances."""
    instance_profile_name: str
    instance_profile_arn: str
    role_arn: str
    instance_ids: tuple[str, ...]
    instance_ips: tuple[str, ...]
    """Public IP of each instance, in ``instance_ids`` order."""
    service_assume_event_ids: tuple[str, ...]
    """ec2.amazonaws.com AssumeRole per instance (session name = instance id)."""
    session_key_ids: tuple[str, ...]
    """The instance-role key of each instance, in ``instance_ids`` order."""
    session_expirations: tuple[str, ...]
    exfiltrated_key_id: str
    """One instance's key, used from ``attacker_ip`` (outside AWS) as well."""
    exfiltrated_from_instance: str


@dataclass(frozen=True)
class InstanceConnectFacts(DoorFacts):
    """Inputs of :func:`instance_connect_incident`."""

    door_event_id: str
    """SendSSHPublicKey."""
    instance_id: str
    instance_ip: str
    os_user: str
    ssh_public_key: str
    role_arn: str
    service_assume_event_id: str
    session_key_id: str
    session_expiration: str
    session_event_ids: tuple[str, ...]
    attacker_event_ids: tuple[str, ...]
    """Calls signed by the instance's key from ``attacker_ip``."""


@dataclass(frozen=True)
class FederationConsoleFacts(DoorFacts):
    """Inputs of :func:`federation_console_incident`."""

    door_event_id: str
    """GetFederationToken."""
    federated_name: str
    federated_arn: str
    federated_user_id: str
    minted_key_id: str
    """ASIA key from GetFederationToken (minted by the leaked key)."""
    minted_expiration: str
    signin_token_event_id: str
    console_login_event_id: str
    console_key_id: str
    """ASIA key of the console session: no call minted it."""
    console_event_ids: tuple[str, ...]


@dataclass(frozen=True)
class IdentityCenterFacts(DoorFacts):
    """Inputs of :func:`identity_center_incident`."""

    member_account_id: str
    instance_arn: str
    identity_store_id: str
    permission_set_name: str
    permission_set_arn: str
    policy_arn: str
    user_name: str
    user_id: str
    create_permission_set_event_id: str
    attach_policy_event_id: str
    create_user_event_id: str
    create_assignment_event_id: str
    role_name: str
    role_arn: str
    saml_provider_arn: str
    assume_event_id: str
    """AssumeRoleWithSAML in the member account (signed by no key)."""
    session_key_id: str
    session_expiration: str
    session_event_ids: tuple[str, ...]


# --------------------------------------------------------------------------- helpers


def _attacker_ip(rec: Recorder) -> str:
    return f"203.0.113.{rec.rng.randint(20, 240)}"


def _aws_ip(rec: Recorder) -> str:
    """A public IP in AWS's us-east-1 EC2 space (instances, Lambda egress)."""
    rng = rec.rng
    return f"{rng.choice((3, 18, 34, 44, 52, 54))}.{rng.randint(16, 250)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _trust_policy(*principals: tuple[str, str]) -> str:
    """Trust policy text as CloudTrail logs it in requestParameters: pretty JSON, one statement per principal."""
    statements = [{"Effect": "Allow", "Principal": {kind: value}, "Action": "sts:AssumeRole"} for kind, value in principals]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def _create_role(role: IamRole, trust: str, at: datetime, max_session: int = 3600) -> Api:
    return Api(
        "iam",
        "CreateRole",
        False,
        request={"path": role.path, "roleName": role.name, "assumeRolePolicyDocument": trust, "maxSessionDuration": max_session},
        response={
            "role": {
                "path": role.path,
                "roleName": role.name,
                "roleId": role.role_id,
                "arn": role.arn,
                "createDate": aws_datetime(at, comma=False),
                # responseElements carry the document URL-encoded.
                "assumeRolePolicyDocument": urllib.parse.quote(trust, safe=""),
            }
        },
    )


def _attach_role_policy(role: IamRole, policy_arn: str = ADMIN_POLICY_ARN) -> Api:
    return iam_write("AttachRolePolicy", {"roleName": role.name, "policyArn": policy_arn})


def _service_assume_role(role: IamRole, session_name: str, key_id: str, token: str, at: datetime, duration: timedelta) -> Api:
    """An AWS service (EC2, Lambda) assuming a role: no assumedRoleUser in the response."""
    return Api(
        "sts",
        "AssumeRole",
        True,
        request={"roleArn": role.arn, "roleSessionName": session_name},
        response={"credentials": credentials(key_id, token, at + duration)},
        resources=[{"accountId": role.account_id, "type": "AWS::IAM::Role", "ARN": role.arn}],
    )


def _instance_identity(session: RoleSession, delivery: str = "2.0") -> Record:
    """An EC2 instance-role session: credentials delivered by the instance metadata service."""
    ident = session.identity()
    ident["sessionContext"]["ec2RoleDelivery"] = delivery
    return ident


def _cross_account_assume(
    rec: Recorder,
    role: IamRole,
    caller: IamUser,
    caller_key: str,
    session_name: str,
    key_id: str,
    at: datetime,
    ip: str,
    duration: int | None,
) -> tuple[Record, Record]:
    """AssumeRole from another account: (victim account's copy, caller account's copy)."""
    api = assume_role(role, session_name, key_id, rec.ids.session_token(), at, duration)
    shared = rec.ids.uuid()
    request_id = rec.ids.uuid()
    victim_view: Record = {"type": "AWSAccount", "principalId": caller.user_id, "accountId": caller.account_id}
    victim = rec.call(api, Actor(victim_view, ip, CLI_KALI, role.account_id), at, shared_event_id=shared, request_id=request_id)
    twin = rec.call(api, Actor(caller.identity(caller_key), ip, CLI_KALI, caller.account_id), at, shared_event_id=shared, request_id=request_id)
    return victim, twin


def _revoke(rec: Recorder, defender: IamUser, defender_key: str, owner: IamUser, key: str, at: datetime) -> tuple[datetime, datetime]:
    """The defender lists, deactivates, then deletes the leaked key: (deactivated, deleted)."""
    responder = Actor(defender.identity(defender_key), DEFENDER_IP, CLI_MAC, defender.account_id)
    rec.call(iam_read("ListAccessKeys", {"userName": owner.name}), responder, at)
    deactivated = at + timedelta(minutes=1, seconds=48)
    rec.call(update_access_key(owner.name, key, "Inactive"), responder, deactivated)
    deleted = deactivated + timedelta(minutes=2, seconds=31)
    rec.call(delete_access_key(owner.name, key), responder, deleted)
    return deactivated, deleted


def _closing(rec: Recorder, cast: BackgroundCast, at: datetime) -> datetime:
    """One benign call at ``at``: the last record of the evidence."""
    alice = Actor(cast.users[0].identity(cast.keys[0]), cast.ips[0], CLI_MAC, cast.account_id)
    rec.call(s3_list_buckets(REGION), alice, at)
    return at


def _calls(rec: Recorder, actor: Actor, start: datetime, steps: Sequence[tuple[int, Api]]) -> tuple[list[str], datetime]:
    """``steps`` (gap in seconds, call) from ``start``: (their eventIDs, time of the last)."""
    t = start
    out: list[str] = []
    for gap, api in steps:
        t += timedelta(seconds=gap)
        out.append(rec.call(api, actor, t)["eventID"])
    return out, t


def _expiry(at: datetime, seconds: int) -> str:
    return ts(at + timedelta(seconds=seconds))


def _common(
    acct: str,
    attacker_ip: str,
    owner: IamUser,
    key: str,
    first: datetime,
    defender: IamUser,
    revoked: tuple[datetime, datetime],
    door: Sequence[str],
    entry: Sequence[str],
    end: datetime,
) -> dict[str, Any]:
    return {
        "account_id": acct,
        "attacker_ip": attacker_ip,
        "leaked_key": AccessKeyFact(key, owner.name),
        "first_use_time": ts(first),
        "defender_user": defender.name,
        "key_deactivated_time": ts(revoked[0]),
        "key_deleted_time": ts(revoked[1]),
        "door_event_ids": tuple(door),
        "entry_key_ids": tuple(entry),
        "evidence_end_time": ts(end),
    }


# --------------------------------------------------------------------------- 1. trust policy backdoor


def trust_backdoor_incident(seed: int = 21) -> Incident[TrustBackdoorFacts]:
    """The leaked key of ``release-bot`` (account 555566667777) rewrites the trust policy of the
    existing role ``platform-admin`` to admit ``arn:aws:iam::999988887777:root`` next to the
    account's own root; the defender deletes the key; from the external account the attacker
    assumes ``platform-admin`` (logged in both accounts, one sharedEventID) and the session reads
    S3 and opens a bucket policy to the external account.

    Shapes: UpdateAssumeRolePolicy as in Stratus ``iam-backdoor-role`` (pretty-printed
    policyDocument, responseElements null). The session lasts the default hour, so the evidence
    ends within it.
    """
    rec = Recorder(seed)
    ids = rec.ids
    acct, ext = "555566667777", "999988887777"
    day = DOOR_DAY
    bucket = f"release-artifacts-{acct}"

    owner = rec.user(acct, "release-bot")
    key = ids.access_key(acct)
    defender = rec.user(acct, "secops-admin")
    defender_key = ids.access_key(acct)
    role = rec.role(acct, "platform-admin")
    ext_user = rec.user(ext, "ops")
    ext_key = ids.access_key(ext)
    attacker_ip = _attacker_ip(rec)
    end = day_at(day, "16:02:40")

    cast = office_background(rec, acct, day, until=end - timedelta(minutes=3), buckets=(bucket, f"analytics-raw-{acct}"))

    attacker = Actor(owner.identity(key), attacker_ip, CLI_KALI, acct)
    first = day_at(day, "14:02:11")
    rec.call(get_caller_identity(), attacker, first)
    _calls(rec, attacker, first, [(33, iam_read("ListRoles")), (41, iam_read("GetRole", {"roleName": role.name}))])
    admitted = (f"arn:aws:iam::{acct}:root", f"arn:aws:iam::{ext}:root")
    door_at = day_at(day, "14:04:29")
    door = rec.call(
        iam_write("UpdateAssumeRolePolicy", {"policyDocument": _trust_policy(*(("AWS", p) for p in admitted)), "roleName": role.name}),
        attacker,
        door_at,
    )

    revoked = _revoke(rec, defender, defender_key, owner, key, day_at(day, "14:41:05"))

    entered = day_at(day, "15:21:40")
    session_name = "maintenance"
    session_key = ids.access_key(acct, temporary=True)
    victim_copy, twin = _cross_account_assume(rec, role, ext_user, ext_key, session_name, session_key, entered, attacker_ip, None)
    session = Actor(RoleSession(role, session_name, session_key, entered).identity(), attacker_ip, CLI_KALI, acct)
    bucket_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ext}:root"},
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )
    session_ids, _ = _calls(
        rec,
        session,
        entered,
        [
            (38, get_caller_identity()),
            (52, s3_list_buckets(REGION)),
            (27, s3_list_objects(bucket, acct, REGION, "releases/")),
            (44, s3_object("GetObject", bucket, "releases/2026.01/signing-keys.tar.gz", acct, REGION, 48_211)),
            (
                95,
                Api(
                    "s3",
                    "PutBucketPolicy",
                    False,
                    request={"bucketPolicy": json.loads(bucket_policy), "bucketName": bucket, "Host": f"{bucket}.s3.{REGION}.amazonaws.com", "policy": ""},
                    resources=[{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
                ),
            ),
            (61, generic("secretsmanager", "ListSecrets", True, {"maxResults": 100})),
        ],
    )
    _closing(rec, cast, end)

    facts = TrustBackdoorFacts(
        **_common(acct, attacker_ip, owner, key, first, defender, revoked, [door["eventID"]], [session_key], end),
        external_account_id=ext,
        door_event_id=door["eventID"],
        role_arn=role.arn,
        admitted_principals=admitted,
        external_user_arn=ext_user.arn,
        external_key_id=ext_key,
        entry_event_id=victim_copy["eventID"],
        entry_twin_event_id=twin["eventID"],
        shared_event_id=victim_copy["sharedEventID"],
        session_name=session_name,
        session_key_id=session_key,
        session_expiration=_expiry(entered, 3600),
        session_event_ids=tuple(session_ids),
        exposed_bucket=bucket,
    )
    return Incident("trust-backdoor", rec.shuffled(), facts)


# --------------------------------------------------------------------------- 2. new backdoor role


def backdoor_role_incident(seed: int = 22) -> Incident[BackdoorRoleFacts]:
    """The leaked key of ``terraform-ci`` (account 666677778888) creates ``vendor-support-access``,
    trusting ``arn:aws:iam::999988887777:root``, with a 12-hour maximum session and
    AdministratorAccess; the defender deletes the key; the attacker assumes the role from the
    external account for 12 hours and, among reads, creates an access key for ``alice.chen``.

    Shapes: CreateRole / AttachRolePolicy as in Stratus ``iam-create-backdoor-role`` and the
    Invictus dataset (request document pretty JSON, response document URL-encoded). No
    permissions boundary (Stratus sets AWSDenyAll only to keep its detonation harmless).
    """
    rec = Recorder(seed)
    ids = rec.ids
    acct, ext = "666677778888", "999988887777"
    day = DOOR_DAY
    bucket = f"customer-exports-{acct}"

    owner = rec.user(acct, "terraform-ci")
    key = ids.access_key(acct)
    defender = rec.user(acct, "secops-admin")
    defender_key = ids.access_key(acct)
    role = rec.role(acct, "vendor-support-access")
    ext_user = rec.user(ext, "ops")
    ext_key = ids.access_key(ext)
    attacker_ip = _attacker_ip(rec)
    end = day_at(day, "18:47:03")

    cast = office_background(rec, acct, day, until=end - timedelta(minutes=4), buckets=(bucket, f"app-assets-{acct}"))
    victim_user = cast.users[0]

    attacker = Actor(owner.identity(key), attacker_ip, CLI_KALI, acct)
    first = day_at(day, "11:16:52")
    rec.call(get_caller_identity(), attacker, first)
    _calls(rec, attacker, first, [(29, iam_read("ListRoles")), (47, iam_read("ListAttachedUserPolicies", {"userName": owner.name}))])
    admitted = (f"arn:aws:iam::{ext}:root",)
    created_at = day_at(day, "11:19:14")
    create = rec.call(_create_role(role, _trust_policy(("AWS", admitted[0])), created_at, 43_200), attacker, created_at)
    attach = rec.call(_attach_role_policy(role), attacker, created_at + timedelta(seconds=2))

    revoked = _revoke(rec, defender, defender_key, owner, key, day_at(day, "12:05:40"))

    entered = day_at(day, "17:38:09")
    session_name = "support"
    session_key = ids.access_key(acct, temporary=True)
    victim_copy, twin = _cross_account_assume(rec, role, ext_user, ext_key, session_name, session_key, entered, attacker_ip, 43_200)
    session = Actor(RoleSession(role, session_name, session_key, entered).identity(), attacker_ip, CLI_KALI, acct)
    further = ids.access_key(acct)
    ids_a, t = _calls(
        rec,
        session,
        entered,
        [
            (31, get_caller_identity()),
            (40, iam_read("ListUsers")),
            (22, iam_read("ListAccessKeys", {"userName": victim_user.name})),
        ],
    )
    t += timedelta(seconds=36)
    ids_b = [rec.call(create_access_key(victim_user.name, further, t), session, t)["eventID"]]
    ids_c, _ = _calls(
        rec,
        session,
        t,
        [
            (58, s3_list_buckets(REGION)),
            (24, s3_object("GetObject", bucket, "exports/2025-12/customers.csv.gz", acct, REGION, 7_930_114)),
        ],
    )
    _closing(rec, cast, end)

    facts = BackdoorRoleFacts(
        **_common(acct, attacker_ip, owner, key, first, defender, revoked, [create["eventID"], attach["eventID"]], [session_key], end),
        external_account_id=ext,
        create_role_event_id=create["eventID"],
        attach_policy_event_id=attach["eventID"],
        role_arn=role.arn,
        role_id=role.role_id,
        admitted_principals=admitted,
        policy_arn=ADMIN_POLICY_ARN,
        external_user_arn=ext_user.arn,
        external_key_id=ext_key,
        entry_event_id=victim_copy["eventID"],
        entry_twin_event_id=twin["eventID"],
        shared_event_id=victim_copy["sharedEventID"],
        session_name=session_name,
        session_key_id=session_key,
        session_expiration=_expiry(entered, 43_200),
        session_event_ids=(*ids_a, *ids_b, *ids_c),
        further_key=AccessKeyFact(further, victim_user.name),
    )
    return Incident("backdoor-role", rec.shuffled(), facts)


# --------------------------------------------------------------------------- 3. Lambda backdoor


def _lambda_statement(sid: str, action: str, function_arn: str, url_auth: str | None) -> str:
    statement: Record = {"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": action, "Resource": function_arn}
    if url_auth is not None:
        statement["Condition"] = {"StringEquals": {"lambda:FunctionUrlAuthType": url_auth}}
    return json.dumps(statement, separators=(",", ":"))


def lambda_backdoor_incident(seed: int = 23) -> Incident[LambdaBackdoorFacts]:
    """The leaked key of ``deploy-svc`` (account 777788889999) creates a role trusting
    ``lambda.amazonaws.com`` with AdministratorAccess, a Python function ``ops-healthcheck`` using
    it, a public invoke permission (``Principal: *``) and a function URL with AuthType NONE. The
    defender deletes the key. Invoked through its URL, the function (its role session is named
    after it, calls come from a Lambda IP) creates the user ``backup-operator`` with an access key
    and reads S3; the attacker then uses that further key from their own IP.

    Shapes: CreateRole / CreateFunction20150331 / the service AssumeRole as in the Invictus dataset
    and flaws2; AddPermission20150331v2 as in Stratus ``lambda-backdoor-function``.
    Deviations from the brief: the function URL call is logged as ``CreateFunctionUrlConfig`` (a real
    2026 record in TrailDiscover carries no version suffix); two AddPermission calls
    (``lambda:InvokeFunctionUrl`` with ``functionUrlAuthType`` NONE, and ``lambda:InvokeFunction``),
    since a public function URL needs both; Lambda's own AssumeRole at CreateFunction (session
    ``awslambda_<n>_<timestamp>``, 2 h, key never used) is emitted, as real trails show it.
    """
    rec = Recorder(seed)
    ids = rec.ids
    rng = rec.rng
    acct = "777788889999"
    day = DOOR_DAY
    bucket = f"payroll-data-{acct}"

    owner = rec.user(acct, "deploy-svc")
    key = ids.access_key(acct)
    defender = rec.user(acct, "secops-admin")
    defender_key = ids.access_key(acct)
    role = rec.role(acct, "ops-healthcheck-role")
    function_name = "ops-healthcheck"
    function_arn = f"arn:aws:lambda:{REGION}:{acct}:function:{function_name}"
    url_id = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(32))
    function_url = f"https://{url_id}.lambda-url.{REGION}.on.aws/"
    new_user = rec.user(acct, "backup-operator")
    further = ids.access_key(acct)
    attacker_ip = _attacker_ip(rec)
    function_ip = _aws_ip(rec)
    end = day_at(day, "17:31:26")

    cast = office_background(rec, acct, day, until=end - timedelta(minutes=5), buckets=(bucket, f"app-assets-{acct}"))

    attacker = Actor(owner.identity(key), attacker_ip, CLI_KALI, acct)
    first = day_at(day, "15:07:33")
    rec.call(get_caller_identity(), attacker, first)
    _calls(rec, attacker, first, [(25, generic("lambda", "ListFunctions20150331", True)), (31, iam_read("ListRoles"))])

    t = day_at(day, "15:09:02")
    trust = _trust_policy(("Service", "lambda.amazonaws.com"))
    create_role = rec.call(_create_role(role, trust, t), attacker, t)
    t += timedelta(seconds=3)
    attach = rec.call(_attach_role_policy(role), attacker, t)

    # IAM is eventually consistent: the first CreateFunction right after CreateRole fails.
    function_request: Record = {
        "functionName": function_name,
        "runtime": "python3.12",
        "role": role.arn,
        "handler": "index.handler",
        "code": {},
        "description": "",
        "timeout": 30,
        "memorySize": 128,
        "publish": False,
        "packageType": "Zip",
    }
    t += timedelta(seconds=6)
    rec.call(
        Api(
            "lambda",
            "CreateFunction20150331",
            False,
            request=function_request,
            error=("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda."),
        ),
        attacker,
        t,
    )
    t += timedelta(seconds=9)
    created = t
    modified = created - timedelta(milliseconds=rng.randint(5, 900))
    create_function = rec.call(
        Api(
            "lambda",
            "CreateFunction20150331",
            False,
            request=function_request,
            response={
                "functionName": function_name,
                "functionArn": function_arn,
                "runtime": "python3.12",
                "role": role.arn,
                "handler": "index.handler",
                "codeSize": rng.randint(300, 900),
                "description": "",
                "timeout": 30,
                "memorySize": 128,
                "lastModified": f"{modified:%Y-%m-%dT%H:%M:%S}.{modified.microsecond // 1000:03d}+0000",
                "codeSha256": base64.b64encode(rng.getrandbits(256).to_bytes(32, "big")).decode("ascii"),
                "version": "$LATEST",
                "tracingConfig": {"mode": "PassThrough"},
                "revisionId": ids.uuid(),
                "state": "Pending",
                "stateReason": "The function is being created.",
                "stateReasonCode": "Creating",
                "packageType": "Zip",
                "architectures": ["x86_64"],
                "ephemeralStorage": {"size": 512},
                "snapStart": {"applyOn": "None", "optimizationStatus": "Off"},
                "runtimeVersionConfig": {"runtimeVersionArn": f"arn:aws:lambda:{REGION}::runtime:{ids.hex(64)}"},
                "loggingConfig": {"logFormat": "Text", "logGroup": f"/aws/lambda/{function_name}"},
            },
        ),
        attacker,
        created,
    )
    # Lambda checks it can assume the role: its own session, named awslambda_<n>_<lastModified>.
    lambda_service = service_actor("lambda.amazonaws.com", acct)
    validation_key = ids.access_key(acct, temporary=True)
    validation_session = f"awslambda_{rng.randint(100, 999)}_{modified:%Y%m%d%H%M%S}{modified.microsecond // 1000:03d}"
    rec.call(
        _service_assume_role(role, validation_session, validation_key, ids.session_token(), created, timedelta(hours=2)),
        lambda_service,
        created,
        shared_event_id=ids.uuid(),
    )

    permissions: list[tuple[str, str, str | None]] = [("url-access", "lambda:InvokeFunctionUrl", "NONE"), ("invoke-access", "lambda:InvokeFunction", None)]
    permission_ids: list[str] = []
    for sid, action, url_auth in permissions:
        t += timedelta(seconds=rng.randint(8, 20))
        request: Record = {"functionName": function_name, "statementId": sid, "action": action, "principal": "*"}
        if url_auth is not None:
            request["functionUrlAuthType"] = url_auth
        api = Api("lambda", "AddPermission20150331v2", False, request=request, response={"statement": _lambda_statement(sid, action, function_arn, url_auth)})
        permission_ids.append(rec.call(api, attacker, t)["eventID"])
    t += timedelta(seconds=14)
    url_at = t
    create_url = rec.call(
        Api(
            "lambda",
            "CreateFunctionUrlConfig",
            False,
            request={"functionName": function_name, "authType": "NONE"},
            response={
                "functionUrl": function_url,
                "functionArn": function_arn,
                "authType": "NONE",
                "creationTime": f"{url_at:%Y-%m-%dT%H:%M:%S}.{rng.randint(0, 999_999):06d}Z",
                "invokeMode": "BUFFERED",
            },
        ),
        attacker,
        url_at,
    )
    for r in (create_function, create_url):
        r["eventVersion"] = "1.08"

    revoked = _revoke(rec, defender, defender_key, owner, key, day_at(day, "15:52:18"))

    # The attacker calls the URL (not a CloudTrail management event); Lambda assumes the role.
    invoked = day_at(day, "16:44:07")
    session_key = ids.access_key(acct, temporary=True)
    assume = rec.call(
        _service_assume_role(role, function_name, session_key, ids.session_token(), invoked, timedelta(hours=12)),
        lambda_service,
        invoked,
        shared_event_id=ids.uuid(),
    )
    function = Actor(RoleSession(role, function_name, session_key, invoked).identity(), function_ip, LAMBDA_BOTO3, acct)
    t = invoked + timedelta(seconds=1)
    session_ids = [rec.call(create_user(new_user, t), function, t)["eventID"]]
    more, t = _calls(rec, function, t, [(1, iam_write("AttachUserPolicy", {"userName": new_user.name, "policyArn": ADMIN_POLICY_ARN}))])
    session_ids += more
    t += timedelta(seconds=1)
    session_ids.append(rec.call(create_access_key(new_user.name, further, t), function, t)["eventID"])
    more, _ = _calls(
        rec,
        function,
        day_at(day, "16:58:40"),
        [
            (0, s3_list_buckets(REGION)),
            (1, s3_object("GetObject", bucket, "2025/12/payroll-run.xlsx", acct, REGION, 1_482_330)),
        ],
    )
    session_ids += more

    by_further = Actor(new_user.identity(further), attacker_ip, CLI_KALI, acct)
    _calls(
        rec,
        by_further,
        day_at(day, "17:12:51"),
        [
            (0, get_caller_identity()),
            (48, generic("secretsmanager", "ListSecrets", True, {"maxResults": 100})),
            (35, generic("secretsmanager", "GetSecretValue", True, {"secretId": "payroll/prod/db"})),
        ],
    )
    _closing(rec, cast, end)

    door = [create_role["eventID"], attach["eventID"], create_function["eventID"], *permission_ids, create_url["eventID"]]
    facts = LambdaBackdoorFacts(
        **_common(acct, attacker_ip, owner, key, first, defender, revoked, door, [session_key], end),
        role_name=role.name,
        role_arn=role.arn,
        function_name=function_name,
        function_arn=function_arn,
        function_url=function_url,
        url_auth_type="NONE",
        permission_principal="*",
        permission_actions=tuple(action for _, action, _ in permissions),
        create_role_event_id=create_role["eventID"],
        attach_policy_event_id=attach["eventID"],
        create_function_event_id=create_function["eventID"],
        add_permission_event_ids=tuple(permission_ids),
        create_url_event_id=create_url["eventID"],
        validation_key_id=validation_key,
        service_assume_event_id=assume["eventID"],
        session_key_id=session_key,
        session_expiration=_expiry(invoked, 12 * 3600),
        session_event_ids=tuple(session_ids),
        function_ip=function_ip,
        created_user=new_user.name,
        further_key=AccessKeyFact(further, new_user.name),
    )
    return Incident("lambda-backdoor", rec.shuffled(), facts)


# --------------------------------------------------------------------------- 4. EC2 instance profile


def _run_instances(
    rec: Recorder, acct: str, profile_name: str, profile_arn: str, profile_id: str, instance_ids: Sequence[str], at: datetime, image: str, itype: str
) -> Api:
    ids = rec.ids
    rng = rec.rng
    subnet = f"subnet-0{ids.hex(16)}"
    vpc = f"vpc-0{ids.hex(16)}"
    group = f"sg-0{ids.hex(16)}"
    client_token = ids.uuid()
    launch = int(at.timestamp()) * 1000
    items: list[Record] = []
    for index, instance_id in enumerate(instance_ids):
        private_ip = f"10.0.{rng.randint(1, 3)}.{rng.randint(10, 250)}"
        items.append(
            {
                "instanceId": instance_id,
                "imageId": image,
                "currentInstanceBootMode": "legacy-bios",
                "instanceState": {"code": 0, "name": "pending"},
                "privateDnsName": f"ip-{private_ip.replace('.', '-')}.ec2.internal",
                "amiLaunchIndex": index,
                "productCodes": {},
                "instanceType": itype,
                "launchTime": launch,
                "placement": {"availabilityZone": f"{REGION}a", "tenancy": "default"},
                "monitoring": {"state": "disabled"},
                "subnetId": subnet,
                "vpcId": vpc,
                "privateIpAddress": private_ip,
                "stateReason": {"code": "pending", "message": "pending"},
                "architecture": "x86_64",
                "rootDeviceType": "ebs",
                "rootDeviceName": "/dev/xvda",
                "blockDeviceMapping": {},
                "virtualizationType": "hvm",
                "hypervisor": "xen",
                "clientToken": client_token,
                "groupSet": {"items": [{"groupId": group}]},
                "sourceDestCheck": True,
                "iamInstanceProfile": {"arn": profile_arn, "id": profile_id},
                "ebsOptimized": False,
                "enaSupport": True,
                "metadataOptions": {
                    "state": "pending",
                    "httpTokens": "optional",
                    "httpPutResponseHopLimit": 1,
                    "httpEndpoint": "enabled",
                    "httpProtocolIpv4": "enabled",
                    "httpProtocolIpv6": "disabled",
                    "instanceMetadataTags": "disabled",
                },
            }
        )
    return Api(
        "ec2",
        "RunInstances",
        False,
        request={
            "instancesSet": {"items": [{"imageId": image, "minCount": len(instance_ids), "maxCount": len(instance_ids)}]},
            "userData": "<sensitiveDataRemoved>",
            "instanceType": itype,
            "blockDeviceMapping": {},
            "monitoring": {"enabled": False},
            "disableApiTermination": False,
            "disableApiStop": False,
            "clientToken": client_token,
            "iamInstanceProfile": {"name": profile_name},
            "subnetId": subnet,
        },
        response={
            "reservationId": f"r-0{ids.hex(16)}",
            "ownerId": acct,
            "groupSet": {},
            "instancesSet": {"items": items},
        },
    )


def instance_profile_incident(seed: int = 24) -> Incident[InstanceProfileFacts]:
    """The leaked key of ``build-runner`` (account 888899990000) launches two instances with the
    existing instance profile ``data-pipeline-profile`` (role ``data-pipeline-role``). EC2 assumes
    the role for each instance (session name = instance id); each instance's session calls AWS from
    its public IP; the key of the first instance is also used from the attacker's IP (the one the
    leaked key used): credential exfiltration. The defender deletes the leaked key while the
    instances are running; their sessions go on.

    Shapes: RunInstances request/response and the ec2.amazonaws.com AssumeRole as in the Invictus
    dataset (``ec2-steal-instance-credentials``); instance sessions carry
    ``sessionContext.ec2RoleDelivery``. Deviation: real EC2 mints a second credential per instance
    at launch (one per metadata-service version); one per instance here.
    """
    rec = Recorder(seed)
    ids = rec.ids
    rng = rec.rng
    acct = "888899990000"
    day = DOOR_DAY
    bucket = f"data-lake-{acct}"

    owner = rec.user(acct, "build-runner")
    key = ids.access_key(acct)
    defender = rec.user(acct, "secops-admin")
    defender_key = ids.access_key(acct)
    role = rec.role(acct, "data-pipeline-role")
    profile_name = "data-pipeline-profile"
    profile_arn = f"arn:aws:iam::{acct}:instance-profile/{profile_name}"
    profile_id = "AIPA" + ids.role_id(acct)[4:]
    instance_ids = (ids.instance_id(), ids.instance_id())
    instance_ips = (_aws_ip(rec), _aws_ip(rec))
    attacker_ip = _attacker_ip(rec)
    end = day_at(day, "16:24:55")

    cast = office_background(rec, acct, day, until=end - timedelta(minutes=4), buckets=(bucket, f"analytics-raw-{acct}"))

    attacker = Actor(owner.identity(key), attacker_ip, CLI_KALI, acct)
    first = day_at(day, "12:40:19")
    rec.call(get_caller_identity(), attacker, first)
    _calls(
        rec,
        attacker,
        first,
        [(36, iam_read("ListInstanceProfiles")), (21, ec2_read("DescribeInstances")), (18, ec2_read("DescribeSecurityGroups"))],
    )
    launched = day_at(day, "12:43:02")
    run = rec.call(
        _run_instances(rec, acct, profile_name, profile_arn, profile_id, instance_ids, launched, "ami-0c7217cdde317cfec", "c5.2xlarge"), attacker, launched
    )

    ec2_service = service_actor("ec2.amazonaws.com", acct)
    session_keys: list[str] = []
    assume_ids: list[str] = []
    expirations: list[str] = []
    sessions: list[RoleSession] = []
    for instance_id in instance_ids:
        minted = launched + timedelta(seconds=rng.randint(1, 4))
        session_key = ids.access_key(acct, temporary=True)
        lifetime = timedelta(hours=6, minutes=rng.randint(20, 40))
        assume = rec.call(
            _service_assume_role(role, instance_id, session_key, ids.session_token(), minted, lifetime), ec2_service, minted, shared_event_id=ids.uuid()
        )
        session_keys.append(session_key)
        assume_ids.append(assume["eventID"])
        expirations.append(ts(minted + lifetime))
        sessions.append(RoleSession(role, instance_id, session_key, minted))

    # The attacker's user data runs on both instances, before and after the key is deleted.
    for session, ip in zip(sessions, instance_ips, strict=True):
        box = Actor(_instance_identity(session), ip, CLI_AMAZON_LINUX, acct)
        start = launched + timedelta(seconds=rng.randint(70, 110))
        _calls(
            rec,
            box,
            start,
            [
                (0, get_caller_identity()),
                (6, s3_list_buckets(REGION)),
                (9, s3_list_objects(bucket, acct, REGION, "curated/")),
            ],
        )
        for hour in range(3):
            at = day_at(day, "13:30:00") + timedelta(hours=hour, seconds=rng.randint(0, 1800))
            rec.call(
                s3_object("GetObject", bucket, f"curated/customers/part-{rng.randint(0, 999):04d}.parquet", acct, REGION, rng.randint(4_000_000, 60_000_000)),
                box,
                at,
            )

    revoked = _revoke(rec, defender, defender_key, owner, key, day_at(day, "13:47:26"))

    stolen = sessions[0]
    outside = Actor(_instance_identity(stolen), attacker_ip, CLI_KALI, acct)
    _calls(
        rec,
        outside,
        day_at(day, "15:02:44"),
        [
            (0, get_caller_identity()),
            (41, iam_read("ListRoles")),
            (63, generic("secretsmanager", "ListSecrets", True, {"maxResults": 100})),
            (27, generic("secretsmanager", "GetSecretValue", True, {"secretId": "data-pipeline/warehouse"})),
            (88, s3_object("GetObject", bucket, "curated/exports/full-dump.parquet", acct, REGION, 912_400_221)),
        ],
    )
    _closing(rec, cast, end)

    facts = InstanceProfileFacts(
        **_common(acct, attacker_ip, owner, key, first, defender, revoked, [run["eventID"]], session_keys, end),
        door_event_id=run["eventID"],
        instance_profile_name=profile_name,
        instance_profile_arn=profile_arn,
        role_arn=role.arn,
        instance_ids=instance_ids,
        instance_ips=instance_ips,
        service_assume_event_ids=tuple(assume_ids),
        session_key_ids=tuple(session_keys),
        session_expirations=tuple(expirations),
        exfiltrated_key_id=stolen.access_key_id,
        exfiltrated_from_instance=stolen.session_name,
    )
    return Incident("instance-profile", rec.shuffled(), facts)


# --------------------------------------------------------------------------- 5. EC2 Instance Connect


def instance_connect_incident(seed: int = 25) -> Incident[InstanceConnectFacts]:
    """The leaked key of ``support-tools`` (account 121212121212) pushes an SSH key to the existing
    instance of ``web-server-role`` with EC2 Instance Connect. Over SSH the attacker reads the
    instance's role credentials (refreshed by EC2 just after) and uses them from their own IP,
    after the defender has deleted the leaked key; the instance keeps using the same key from its
    own IP.

    Shapes: SendSSHPublicKey as in Stratus ``ec2-instance-connect`` (``sSHPublicKey``, as the
    API member ``SSHPublicKey`` is logged; responseElements ``{requestId, success}``).
    """
    rec = Recorder(seed)
    ids = rec.ids
    rng = rec.rng
    acct = "121212121212"
    day = DOOR_DAY
    bucket = f"web-uploads-{acct}"

    owner = rec.user(acct, "support-tools")
    key = ids.access_key(acct)
    defender = rec.user(acct, "secops-admin")
    defender_key = ids.access_key(acct)
    role = rec.role(acct, "web-server-role")
    instance_id = ids.instance_id()
    instance_ip = _aws_ip(rec)
    attacker_ip = _attacker_ip(rec)
    os_user = "ec2-user"
    ssh_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + base64.b64encode(rng.getrandbits(248).to_bytes(31, "big")).decode("ascii").rstrip("=")
    end = day_at(day, "15:48:12")

    cast = office_background(rec, acct, day, until=end - timedelta(minutes=3), buckets=(bucket, f"app-assets-{acct}"))

    # The instance's credentials earlier in the day, used by the web server.
    ec2_service = service_actor("ec2.amazonaws.com", acct)
    lifetime = timedelta(hours=6, minutes=rng.randint(20, 40))
    earlier = day_at(day, "08:12:37")
    earlier_key = ids.access_key(acct, temporary=True)
    rec.call(_service_assume_role(role, instance_id, earlier_key, ids.session_token(), earlier, lifetime), ec2_service, earlier, shared_event_id=ids.uuid())
    web_before = Actor(_instance_identity(RoleSession(role, instance_id, earlier_key, earlier)), instance_ip, CLI_AMAZON_LINUX, acct)
    for i in range(4):
        at = earlier + timedelta(hours=1 + i, seconds=rng.randint(0, 2400))
        rec.call(s3_object("PutObject", bucket, f"uploads/{at:%Y/%m/%d}/{ids.hex(12)}.jpg", acct, REGION, rng.randint(40_000, 900_000)), web_before, at)

    attacker = Actor(owner.identity(key), attacker_ip, CLI_KALI, acct)
    first = day_at(day, "13:20:05")
    rec.call(get_caller_identity(), attacker, first)
    _calls(rec, attacker, first, [(28, ec2_read("DescribeInstances")), (19, ec2_read("DescribeSecurityGroups"))])
    pushed = day_at(day, "13:21:44")
    request_id = ids.uuid()
    door = rec.call(
        Api(
            "ec2-instance-connect",
            "SendSSHPublicKey",
            False,
            request={"instanceId": instance_id, "instanceOSUser": os_user, "sSHPublicKey": ssh_key},
            response={"requestId": request_id, "success": True},
        ),
        attacker,
        pushed,
        request_id=request_id,
    )
    door["eventVersion"] = "1.08"

    # EC2 refreshes the instance's credentials; the attacker, on the box, reads the new ones.
    refreshed = pushed + timedelta(minutes=2, seconds=rng.randint(0, 50))
    session_key = ids.access_key(acct, temporary=True)
    assume = rec.call(
        _service_assume_role(role, instance_id, session_key, ids.session_token(), refreshed, lifetime), ec2_service, refreshed, shared_event_id=ids.uuid()
    )
    session = RoleSession(role, instance_id, session_key, refreshed)
    web = Actor(_instance_identity(session), instance_ip, CLI_AMAZON_LINUX, acct)
    session_ids: list[str] = []
    for i in range(3):
        at = refreshed + timedelta(minutes=9 + 30 * i, seconds=rng.randint(0, 600))
        session_ids.append(
            rec.call(s3_object("PutObject", bucket, f"uploads/{at:%Y/%m/%d}/{ids.hex(12)}.jpg", acct, REGION, rng.randint(40_000, 900_000)), web, at)["eventID"]
        )

    revoked = _revoke(rec, defender, defender_key, owner, key, day_at(day, "13:52:10"))

    outside = Actor(_instance_identity(session), attacker_ip, CLI_KALI, acct)
    attacker_ids, _ = _calls(
        rec,
        outside,
        day_at(day, "14:31:18"),
        [
            (0, get_caller_identity()),
            (44, s3_list_buckets(REGION)),
            (31, s3_list_objects(bucket, acct, REGION, "uploads/")),
            (52, generic("ssm", "GetParametersByPath", True, {"path": "/web/prod/", "recursive": True, "withDecryption": True})),
            (40, generic("rds", "DescribeDBInstances", True)),
        ],
    )
    session_ids += attacker_ids
    _closing(rec, cast, end)

    facts = InstanceConnectFacts(
        **_common(acct, attacker_ip, owner, key, first, defender, revoked, [door["eventID"]], [session_key], end),
        door_event_id=door["eventID"],
        instance_id=instance_id,
        instance_ip=instance_ip,
        os_user=os_user,
        ssh_public_key=ssh_key,
        role_arn=role.arn,
        service_assume_event_id=assume["eventID"],
        session_key_id=session_key,
        session_expiration=ts(refreshed + lifetime),
        session_event_ids=tuple(session_ids),
        attacker_event_ids=tuple(attacker_ids),
    )
    return Incident("instance-connect", rec.shuffled(), facts)


# --------------------------------------------------------------------------- 6. federation token to console


def _federated_identity(acct: str, name: str, issuer: IamUser, created: datetime, key_id: str | None) -> Record:
    ident: Record = {
        "type": "FederatedUser",
        "principalId": f"{acct}:{name}",
        "arn": f"arn:aws:sts::{acct}:federated-user/{name}",
        "accountId": acct,
    }
    if key_id is not None:
        ident["accessKeyId"] = key_id
    ident["sessionContext"] = {
        "sessionIssuer": {
            "type": "IAMUser",
            "principalId": issuer.user_id,
            "arn": issuer.arn,
            "accountId": issuer.account_id,
            "userName": issuer.name,
        },
        "webIdFederationData": {},
        "attributes": {"creationDate": ts(created), "mfaAuthenticated": "false"},
    }
    return ident


def federation_console_incident(seed: int = 26) -> Incident[FederationConsoleFacts]:
    """The leaked key of ``backup-agent`` (account 131313131313) calls GetFederationToken (name
    ``backup``, an allow-all policy, 36 h); the federated key gets a sign-in token
    (signin GetSigninToken) and signs in to the console (ConsoleLogin as the federated user); the
    console session, with a key no call minted, reads secrets and S3 after the defender has
    deleted the leaked key.

    Shapes: GetFederationToken and the federated userIdentity as in Stratus
    ``sts-federation-token``; GetSigninToken as in TrailDiscover (AwsConsoleSignIn, no requestID,
    ``responseElements.credentials.accessKeyId`` = the calling key, which is not a new key).
    ConsoleLogin as a federated user carries no accessKeyId. Console calls avoid IAM and STS
    (federation-token sessions cannot call them).
    """
    rec = Recorder(seed)
    ids = rec.ids
    acct = "131313131313"
    day = DOOR_DAY
    bucket = f"backups-{acct}"

    owner = rec.user(acct, "backup-agent")
    key = ids.access_key(acct)
    defender = rec.user(acct, "secops-admin")
    defender_key = ids.access_key(acct)
    fed_name = "backup"
    fed_arn = f"arn:aws:sts::{acct}:federated-user/{fed_name}"
    fed_id = f"{acct}:{fed_name}"
    attacker_ip = _attacker_ip(rec)
    end = day_at(day, "17:20:30")

    cast = office_background(rec, acct, day, until=end - timedelta(minutes=4), buckets=(bucket, f"analytics-raw-{acct}"))

    attacker = Actor(owner.identity(key), attacker_ip, CLI_KALI, acct)
    first = day_at(day, "14:10:48")
    rec.call(get_caller_identity(), attacker, first)
    _calls(rec, attacker, first, [(30, iam_read("ListAttachedUserPolicies", {"userName": owner.name}))])
    issued = day_at(day, "14:12:06")
    duration = 129_600
    minted = ids.access_key(acct, temporary=True)
    policy = '{\n\t"Version": "2012-10-17",\n\t"Statement": [\n\t\t{\n\t\t\t"Effect": "Allow",\n\t\t\t"Action": "*",\n\t\t\t"Resource": "*"\n\t\t}\n\t]\n}'
    door = rec.call(
        Api(
            "sts",
            "GetFederationToken",
            False,
            request={"name": fed_name, "policy": policy, "durationSeconds": duration},
            response={
                "credentials": credentials(minted, ids.session_token(), issued + timedelta(seconds=duration)),
                "federatedUser": {"arn": fed_arn, "federatedUserId": fed_id},
                "packedPolicySize": 4,
            },
        ),
        attacker,
        issued,
    )
    fed = Actor(_federated_identity(acct, fed_name, owner, issued, minted), attacker_ip, CLI_KALI, acct)
    rec.call(get_caller_identity(), fed, issued + timedelta(seconds=9))

    revoked = _revoke(rec, defender, defender_key, owner, key, day_at(day, "14:49:33"))

    signin_at = day_at(day, "15:34:02")
    signin = rec.call(
        Api(
            "signin",
            "GetSigninToken",
            False,
            response={"credentials": {"accessKeyId": minted}, "GetSigninToken": "Success"},
            extra={"MobileVersion": "No", "MFAUsed": "No"},
            event_type="AwsConsoleSignIn",
        ),
        Actor(_federated_identity(acct, fed_name, owner, issued, minted), attacker_ip, REQUESTS, acct),
        signin_at,
    )
    login_at = signin_at + timedelta(seconds=6)
    login = rec.call(console_login(acct, mfa=False), Actor(_federated_identity(acct, fed_name, owner, issued, None), attacker_ip, BROWSER, acct), login_at)
    console_key = ids.access_key(acct, temporary=True)
    console = Actor(_federated_identity(acct, fed_name, owner, issued, console_key), attacker_ip, BROWSER, acct, console=True)
    console_ids, _ = _calls(
        rec,
        console,
        login_at,
        [
            (24, generic("health", "DescribeEventAggregates", True, {"aggregateField": "eventTypeCategory"})),
            (51, generic("secretsmanager", "ListSecrets", True, {"maxResults": 100})),
            (37, generic("secretsmanager", "GetSecretValue", True, {"secretId": "backup/offsite/credentials"})),
            (65, s3_list_buckets(REGION)),
            (29, s3_list_objects(bucket, acct, REGION, "nightly/")),
            (48, ec2_read("DescribeInstances")),
            (73, generic("ec2", "CreateSnapshot", False, {"volumeId": f"vol-0{ids.hex(16)}", "description": "backup"})),
        ],
    )
    _closing(rec, cast, end)

    facts = FederationConsoleFacts(
        **_common(acct, attacker_ip, owner, key, first, defender, revoked, [door["eventID"]], [console_key], end),
        door_event_id=door["eventID"],
        federated_name=fed_name,
        federated_arn=fed_arn,
        federated_user_id=fed_id,
        minted_key_id=minted,
        minted_expiration=_expiry(issued, duration),
        signin_token_event_id=signin["eventID"],
        console_login_event_id=login["eventID"],
        console_key_id=console_key,
        console_event_ids=tuple(console_ids),
    )
    return Incident("federation-console", rec.shuffled(), facts)


# --------------------------------------------------------------------------- 7. IAM Identity Center


def identity_center_incident(seed: int = 27) -> Incident[IdentityCenterFacts]:
    """The leaked key of ``org-automation`` (an admin of the management account 141414141414)
    creates the permission set ``SupportAccess`` with AdministratorAccess, an Identity Center user
    ``it-support``, and assigns both to the member account 151515151515. The defender deletes the
    key. The new user signs in: Identity Center federates into the member account
    (AssumeRoleWithSAML into ``AWSReservedSSO_SupportAccess_<16 hex>``, path
    ``/aws-reserved/sso.amazonaws.com/``), and that session (named after the user) reads S3 and
    secrets.

    Shapes: CreatePermissionSet and CreateAccountAssignment as in public CloudTrail samples
    (Identity Center events are regional: us-east-1 here, where the role path has no region
    segment). Additions to the brief: the member account's AssumeRoleWithSAML that mints the
    session key (userIdentity SAMLUser). Not generated: the portal sign-in events in the
    management account, and the role provisioning in the member account.
    Note: ``UserName`` is a sensitive member of identitystore CreateUser; CloudTrail may redact
    it; ``principalId`` (the userId) of CreateAccountAssignment is the sure link.
    """
    rec = Recorder(seed)
    ids = rec.ids
    rng = rec.rng
    mgmt, member = "141414141414", "151515151515"
    day = DOOR_DAY
    bucket = f"finance-reports-{member}"

    owner = rec.user(mgmt, "org-automation")
    key = ids.access_key(mgmt)
    defender = rec.user(mgmt, "secops-admin")
    defender_key = ids.access_key(mgmt)
    instance_id = f"ssoins-{ids.hex(16)}"
    instance_arn = f"arn:aws:sso:::instance/{instance_id}"
    store_id = f"d-{ids.hex(10)}"
    ps_name = "SupportAccess"
    ps_arn = f"arn:aws:sso:::permissionSet/{instance_id}/ps-{ids.hex(16)}"
    user_name = "it-support"
    user_id = f"{ids.hex(8)}-{ids.hex(4)}-{ids.hex(4)}-{ids.hex(4)}-{ids.hex(12)}"
    role = rec.role(member, f"AWSReservedSSO_{ps_name}_{ids.hex(16)}", "/aws-reserved/sso.amazonaws.com/")
    saml_provider = f"arn:aws:iam::{member}:saml-provider/AWSSSO_{ids.hex(16)}_DO_NOT_DELETE"
    attacker_ip = _attacker_ip(rec)
    end = day_at(day, "16:40:15")

    cast = office_background(rec, mgmt, day, until=end - timedelta(minutes=3))
    office_background(rec, member, day, until=end - timedelta(minutes=5), buckets=(bucket, f"app-assets-{member}"))

    attacker = Actor(owner.identity(key), attacker_ip, CLI_KALI, mgmt)
    first = day_at(day, "13:03:27")
    rec.call(get_caller_identity(), attacker, first)
    _calls(
        rec,
        attacker,
        first,
        [
            (34, generic("organizations", "ListAccounts", True)),
            (22, generic("sso", "ListInstances", True)),
            (17, generic("sso", "ListPermissionSets", True, {"instanceArn": instance_arn})),
        ],
    )
    t = day_at(day, "13:05:10")
    create_ps = rec.call(
        generic(
            "sso",
            "CreatePermissionSet",
            False,
            {"instanceArn": instance_arn, "name": ps_name, "sessionDuration": "PT12H"},
            response={"permissionSet": {"name": ps_name, "permissionSetArn": ps_arn, "createdDate": aws_datetime(t, comma=False), "sessionDuration": "PT12H"}},
        ),
        attacker,
        t,
    )
    t += timedelta(seconds=12)
    attach = rec.call(
        generic(
            "sso", "AttachManagedPolicyToPermissionSet", False, {"instanceArn": instance_arn, "permissionSetArn": ps_arn, "managedPolicyArn": ADMIN_POLICY_ARN}
        ),
        attacker,
        t,
    )
    t += timedelta(seconds=27)
    create_user_rec = rec.call(
        generic(
            "identitystore",
            "CreateUser",
            False,
            {
                "identityStoreId": store_id,
                "userName": user_name,
                "name": {"givenName": "HIDDEN_DUE_TO_SECURITY_REASONS", "familyName": "HIDDEN_DUE_TO_SECURITY_REASONS"},
                "displayName": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "emails": [{"value": "HIDDEN_DUE_TO_SECURITY_REASONS", "type": "work", "primary": True}],
            },
            response={"userId": user_id, "identityStoreId": store_id},
        ),
        attacker,
        t,
    )
    t += timedelta(seconds=31)
    assignment_request = ids.uuid()
    assignment = rec.call(
        generic(
            "sso",
            "CreateAccountAssignment",
            False,
            {
                "instanceArn": instance_arn,
                "targetId": member,
                "targetType": "AWS_ACCOUNT",
                "permissionSetArn": ps_arn,
                "principalType": "USER",
                "principalId": user_id,
            },
            response={
                "accountAssignmentCreationStatus": {
                    "status": "IN_PROGRESS",
                    "requestId": assignment_request,
                    "targetId": member,
                    "targetType": "AWS_ACCOUNT",
                    "permissionSetArn": ps_arn,
                    "principalType": "USER",
                    "principalId": user_id,
                }
            },
        ),
        attacker,
        t,
        request_id=assignment_request,
    )

    revoked = _revoke(rec, defender, defender_key, owner, key, day_at(day, "13:44:51"))

    # The new user signs in to the access portal and federates into the member account.
    assumed = day_at(day, "15:58:33")
    duration = 43_200
    session_key = ids.access_key(member, temporary=True)
    idp = base64.b64encode(rng.getrandbits(160).to_bytes(20, "big")).decode("ascii")
    saml_user: Record = {"type": "SAMLUser", "principalId": f"{idp}:{user_name}", "userName": user_name, "identityProvider": idp}
    assume = rec.call(
        Api(
            "sts",
            "AssumeRoleWithSAML",
            True,
            request={
                "sAMLAssertionID": f"_{ids.uuid()}",
                "roleSessionName": user_name,
                "roleArn": role.arn,
                "principalArn": saml_provider,
                "durationSeconds": duration,
            },
            response={
                "credentials": credentials(session_key, ids.session_token(), assumed + timedelta(seconds=duration)),
                "assumedRoleUser": {"assumedRoleId": f"{role.role_id}:{user_name}", "arn": f"arn:aws:sts::{member}:assumed-role/{role.name}/{user_name}"},
                "subject": user_name,
                "subjectType": "persistent",
                "issuer": f"https://portal.sso.{REGION}.amazonaws.com/saml/assertion/{base64.b64encode(ids.alnum(30).encode()).decode('ascii')}",
                "audience": "https://signin.aws.amazon.com/saml",
                "nameQualifier": idp,
            },
            resources=[
                {"accountId": member, "type": "AWS::IAM::Role", "ARN": role.arn},
                {"accountId": member, "type": "AWS::IAM::SAMLProvider", "ARN": saml_provider},
            ],
        ),
        Actor(saml_user, attacker_ip, CLI_KALI, member),
        assumed,
    )
    session = Actor(RoleSession(role, user_name, session_key, assumed).identity(), attacker_ip, CLI_KALI, member)
    session_ids, _ = _calls(
        rec,
        session,
        assumed,
        [
            (14, get_caller_identity()),
            (38, s3_list_buckets(REGION)),
            (26, s3_list_objects(bucket, member, REGION, "2025/")),
            (41, s3_object("GetObject", bucket, "2025/q4/board-pack.pdf", member, REGION, 3_204_811)),
            (57, generic("secretsmanager", "ListSecrets", True, {"maxResults": 100})),
            (33, generic("secretsmanager", "GetSecretValue", True, {"secretId": "finance/erp/api"})),
            (80, iam_read("ListUsers")),
        ],
    )
    _closing(rec, cast, end)

    door = [create_ps["eventID"], attach["eventID"], create_user_rec["eventID"], assignment["eventID"]]
    facts = IdentityCenterFacts(
        **_common(mgmt, attacker_ip, owner, key, first, defender, revoked, door, [session_key], end),
        member_account_id=member,
        instance_arn=instance_arn,
        identity_store_id=store_id,
        permission_set_name=ps_name,
        permission_set_arn=ps_arn,
        policy_arn=ADMIN_POLICY_ARN,
        user_name=user_name,
        user_id=user_id,
        create_permission_set_event_id=create_ps["eventID"],
        attach_policy_event_id=attach["eventID"],
        create_user_event_id=create_user_rec["eventID"],
        create_assignment_event_id=assignment["eventID"],
        role_name=role.name,
        role_arn=role.arn,
        saml_provider_arn=saml_provider,
        assume_event_id=assume["eventID"],
        session_key_id=session_key,
        session_expiration=_expiry(assumed, duration),
        session_event_ids=tuple(session_ids),
    )
    return Incident("identity-center", rec.shuffled(), facts)


# --------------------------------------------------------------------------- registry

#: (short name, generator) for every door, in the order of this module.
DOOR_INCIDENTS: tuple[tuple[str, Callable[[int], Incident[Any]]], ...] = (
    ("trust-backdoor", trust_backdoor_incident),
    ("backdoor-role", backdoor_role_incident),
    ("lambda-backdoor", lambda_backdoor_incident),
    ("instance-profile", instance_profile_incident),
    ("instance-connect", instance_connect_incident),
    ("federation-console", federation_console_incident),
    ("identity-center", identity_center_incident),
)
