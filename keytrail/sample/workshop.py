"""The AWS CIRT workshop "Unauthorized IAM Credential Use", as CloudTrail records.

This module also holds the small record-building kit the other sample
generators share (ids, identities, API call shapes, background activity).

Everything is deterministic: one ``random.Random(seed)`` drives every id,
time jitter and shuffle, so the same seed always gives the same records.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Record = dict[str, Any]

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_B64 = _ALNUM + "+/"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


# --------------------------------------------------------------------------- times


def ts(when: datetime) -> str:
    """CloudTrail ``eventTime`` form: ``2026-01-07T02:25:18Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(value: str) -> datetime:
    """Inverse of :func:`ts`."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def aws_datetime(when: datetime, *, comma: bool) -> str:
    """The Java-style dates CloudTrail writes inside responseElements.

    IAM writes ``"Aug 1, 2024 1:33:28 PM"`` (``comma=False``); STS writes
    ``"Nov 30, 2024, 8:43:17 PM"`` (``comma=True``).
    """
    when = when.astimezone(UTC)
    hour = when.hour % 12 or 12
    half = "AM" if when.hour < 12 else "PM"
    sep = ", " if comma else " "
    return f"{_MONTHS[when.month - 1]} {when.day}, {when.year}{sep}{hour}:{when:%M:%S} {half}"


def day_at(day: datetime, clock: str) -> datetime:
    """``day_at(day, "02:25:18")``: that time of ``day`` (UTC)."""
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return day.replace(hour=hours, minute=minutes, second=seconds, microsecond=0)


# --------------------------------------------------------------------------- ids


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class Ids:
    """Fake but well-formed AWS identifiers, all drawn from one seeded RNG.

    Access key and unique ids use the real layout: after the 4-letter prefix,
    base32 of 10 bytes whose first 6 carry the account id (so tools that decode
    the account from a key id get the right account), then random bytes.
    Every id handed out is unique within one :class:`Ids`.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._seen: set[str] = set()

    def _unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self._seen:
                self._seen.add(value)
                return value

    def _iam(self, prefix: str, account_id: str, length: int) -> str:
        rng = self.rng
        head = (1 << 47) | (int(account_id) << 7) | rng.getrandbits(7)
        raw = head.to_bytes(6, "big") + rng.getrandbits(32).to_bytes(4, "big")
        body = base64.b32encode(raw).decode("ascii")
        extra = "".join(rng.choice(_B32) for _ in range(length - 4 - len(body)))
        return prefix + body + extra

    def access_key(self, account_id: str, *, temporary: bool = False) -> str:
        """``AKIA…`` (long-term) or ``ASIA…`` (temporary), 20 characters."""
        prefix = "ASIA" if temporary else "AKIA"
        return self._unique(lambda: self._iam(prefix, account_id, 20))

    def user_id(self, account_id: str) -> str:
        return self._unique(lambda: self._iam("AIDA", account_id, 21))

    def role_id(self, account_id: str) -> str:
        return self._unique(lambda: self._iam("AROA", account_id, 21))

    def uuid(self) -> str:
        """A uuid4-format string (version and variant bits set)."""
        n = self.rng.getrandbits(128)
        n = (n & ~(0xF << 76)) | (0x4 << 76)
        n = (n & ~(0x3 << 62)) | (0x2 << 62)
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def event_id(self) -> str:
        return self._unique(self.uuid)

    def s3_request_id(self) -> str:
        return "".join(self.rng.choice(_UPPER_DIGITS) for _ in range(16))

    def amz_id_2(self) -> str:
        return "".join(self.rng.choice(_B64) for _ in range(75)) + "="

    def session_token(self) -> str:
        body = "".join(self.rng.choice(_B64) for _ in range(356))
        return "IQoJb3JpZ2luX2VjE" + body + "=="

    def alnum(self, length: int) -> str:
        return "".join(self.rng.choice(_ALNUM) for _ in range(length))

    def hex(self, length: int) -> str:
        return f"{self.rng.getrandbits(4 * length):0{length}x}"

    def instance_id(self) -> str:
        return "i-0" + self.hex(16)


# --------------------------------------------------------------------------- principals


@dataclass(frozen=True)
class IamUser:
    account_id: str
    name: str
    user_id: str

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/{self.name}"

    def identity(
        self,
        access_key_id: str | None = None,
        *,
        session_created: datetime | None = None,
        mfa: bool = False,
    ) -> Record:
        """userIdentity of a call by this user.

        ``session_created`` marks a temporary (``ASIA``) key of the user's own:
        GetSessionToken credentials or a console session; those carry a
        ``sessionContext`` with an empty ``sessionIssuer``.
        """
        ident: Record = {
            "type": "IAMUser",
            "principalId": self.user_id,
            "arn": self.arn,
            "accountId": self.account_id,
        }
        if access_key_id is not None:
            ident["accessKeyId"] = access_key_id
        ident["userName"] = self.name
        if session_created is not None:
            ident["sessionContext"] = {
                "sessionIssuer": {},
                "webIdFederationData": {},
                "attributes": {
                    "creationDate": ts(session_created),
                    "mfaAuthenticated": "true" if mfa else "false",
                },
            }
        return ident


@dataclass(frozen=True)
class IamRole:
    account_id: str
    name: str
    role_id: str
    path: str = "/"

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role{self.path}{self.name}"


@dataclass(frozen=True)
class RoleSession:
    role: IamRole
    session_name: str
    access_key_id: str
    created: datetime
    mfa: bool = False
    invoked_by: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.role.account_id}:assumed-role/{self.role.name}/{self.session_name}"

    @property
    def principal_id(self) -> str:
        return f"{self.role.role_id}:{self.session_name}"

    def identity(self) -> Record:
        ident: Record = {
            "type": "AssumedRole",
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.role.account_id,
            "accessKeyId": self.access_key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": self.role.role_id,
                    "arn": self.role.arn,
                    "accountId": self.role.account_id,
                    "userName": self.role.name,
                },
                "webIdFederationData": {},
                "attributes": {
                    "creationDate": ts(self.created),
                    "mfaAuthenticated": "true" if self.mfa else "false",
                },
            },
        }
        if self.invoked_by is not None:
            ident["invokedBy"] = self.invoked_by
        return ident


def service_identity(service: str) -> Record:
    return {"type": "AWSService", "invokedBy": service}


# --------------------------------------------------------------------------- agents and actors


@dataclass(frozen=True)
class Agent:
    """A user agent. ``cli=True``: aws-cli v2, which names the command it ran."""

    base: str
    cli: bool = False

    def render(self, source: str, name: str) -> str:
        if not self.cli:
            return self.base
        if source == "s3":
            return f"[{self.base} md/command#s3api.{_kebab(name)}]"
        return f"{self.base} md/command#{source}.{_kebab(name)}"


CLI_LINUX = Agent(
    "aws-cli/2.22.21 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0-1021-aws md/arch#x86_64 "
    "lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
    "md/distrib#ubuntu.24 md/prompt#off",
    cli=True,
)
CLI_MAC = Agent(
    "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off",
    cli=True,
)
CLI_KALI = Agent(
    "aws-cli/2.17.32 md/awscrt#0.21.2 ua/2.0 os/linux#6.11.2-amd64 md/arch#x86_64 "
    "lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
    "md/distrib#kali.2024 md/prompt#off",
    cli=True,
)
BOTO3_ATTACKER = Agent(
    "Boto3/1.35.80 md/Botocore#1.35.80 ua/2.0 os/linux#6.11.2-amd64 md/arch#x86_64 lang/python#3.12.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.80"
)
BOTO3_APP = Agent(
    "Boto3/1.34.162 md/Botocore#1.34.162 ua/2.0 os/linux#5.10.228-219.884.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.11.10 md/pyimpl#CPython exec-env/AWS_ECS_FARGATE "
    "cfg/retry-mode#legacy Botocore/1.34.162"
)
TERRAFORM = Agent(
    "APN/1.0 HashiCorp/1.0 Terraform/1.10.3 (+https://www.terraform.io) "
    "terraform-provider-aws/5.82.2 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.32.7 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64"
)
GO_SDK = Agent("aws-sdk-go-v2/1.32.7 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/s3#1.71.0")
BROWSER = Agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
BROWSER_MAC = Agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15")


@dataclass(frozen=True)
class Actor:
    """Who calls (userIdentity), from where, with what."""

    identity: Record
    ip: str
    agent: Agent
    account_id: str
    console: bool = False


def service_actor(service: str, account_id: str) -> Actor:
    return Actor(service_identity(service), service, Agent(service), account_id)


# --------------------------------------------------------------------------- API call shapes


@dataclass(frozen=True)
class Api:
    """One API call's own part of a record (everything the caller does not decide)."""

    source: str
    name: str
    read_only: bool
    request: Record | None = None
    response: Record | None = None
    error: tuple[str, str] | None = None
    data_event: bool = False
    resources: list[Record] | None = None
    extra: Record | None = None
    region: str | None = None
    event_type: str = "AwsApiCall"


_GLOBAL_SOURCES = frozenset({"iam", "signin", "organizations"})
_EVENT_VERSION = {"iam": "1.09", "sts": "1.08", "signin": "1.09", "s3": "1.10", "ec2": "1.10"}


class Recorder:
    """Builds records in real CloudTrail field order and collects them."""

    def __init__(self, seed: int | random.Random, ids: Ids | None = None) -> None:
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        self.ids = ids if ids is not None else Ids(self.rng)
        self.records: list[Record] = []

    def call(
        self,
        api: Api,
        actor: Actor,
        at: datetime,
        *,
        region: str = "us-east-1",
        recipient: str | None = None,
        shared_event_id: str | None = None,
        request_id: str | None = None,
        event_id: str | None = None,
    ) -> Record:
        ids = self.ids
        source = api.source
        if api.region is not None:
            region = api.region
        elif source in _GLOBAL_SOURCES:
            region = "us-east-1"
        host = _host(source, region, api.request)
        rec: Record = {
            "eventVersion": _EVENT_VERSION.get(source, "1.09"),
            "userIdentity": actor.identity,
            "eventTime": ts(at),
            "eventSource": f"{source}.amazonaws.com",
            "eventName": api.name,
            "awsRegion": region,
            "sourceIPAddress": actor.ip,
            "userAgent": actor.agent.render(source, api.name),
        }
        if api.error is not None:
            rec["errorCode"], rec["errorMessage"] = api.error
        rec["requestParameters"] = api.request
        rec["responseElements"] = api.response
        extra = dict(api.extra) if api.extra else None
        if source == "s3" and actor.identity.get("type") != "AWSService":
            extra = {
                "SignatureVersion": "SigV4",
                "CipherSuite": "TLS_AES_128_GCM_SHA256",
                "bytesTransferredIn": 0.0,
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": ids.amz_id_2(),
                "bytesTransferredOut": 0.0,
                **(extra or {}),
            }
        if extra is not None:
            rec["additionalEventData"] = extra
        if api.event_type != "AwsConsoleSignIn":
            if request_id is None:
                request_id = ids.s3_request_id() if source == "s3" else ids.uuid()
            rec["requestID"] = request_id
        rec["eventID"] = event_id if event_id is not None else ids.event_id()
        rec["readOnly"] = api.read_only
        if api.resources is not None:
            rec["resources"] = api.resources
        rec["eventType"] = api.event_type
        rec["managementEvent"] = not api.data_event
        rec["recipientAccountId"] = recipient or actor.account_id
        if shared_event_id is not None:
            rec["sharedEventID"] = shared_event_id
        rec["eventCategory"] = "Data" if api.data_event else "Management"
        if actor.identity.get("type") != "AWSService":
            rec["tlsDetails"] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": host,
            }
        if actor.console:
            rec["sessionCredentialFromConsole"] = "true"
        self.records.append(rec)
        return rec

    def user(self, account_id: str, name: str) -> IamUser:
        return IamUser(account_id, name, self.ids.user_id(account_id))

    def role(self, account_id: str, name: str, path: str = "/") -> IamRole:
        return IamRole(account_id, name, self.ids.role_id(account_id), path)

    def jitter(self, at: datetime, low: int, high: int) -> datetime:
        return at + timedelta(seconds=self.rng.randint(low, high))

    def shuffled(self) -> list[Record]:
        out = list(self.records)
        self.rng.shuffle(out)
        return out


def _host(source: str, region: str, request: Record | None) -> str:
    if source == "s3":
        if request and "Host" in request:
            return str(request["Host"])
        return f"s3.{region}.amazonaws.com"
    if source == "iam":
        return "iam.amazonaws.com"
    if source == "signin":
        return "signin.aws.amazon.com"
    return f"{source}.{region}.amazonaws.com"


def denied(actor_arn: str, action: str, resource: str = "*") -> tuple[str, str]:
    """An IAM-style AccessDenied (error code, message)."""
    return (
        "AccessDenied",
        f"User: {actor_arn} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action",
    )


# --- STS


def get_caller_identity() -> Api:
    return Api("sts", "GetCallerIdentity", True)


def credentials(key_id: str, token: str, expires: datetime) -> Record:
    return {
        "accessKeyId": key_id,
        "sessionToken": token,
        "expiration": aws_datetime(expires, comma=True),
    }


def get_session_token(key_id: str, token: str, at: datetime, duration_seconds: int) -> Api:
    return Api(
        "sts",
        "GetSessionToken",
        False,
        request={"durationSeconds": duration_seconds},
        response={"credentials": credentials(key_id, token, at + timedelta(seconds=duration_seconds))},
    )


def assume_role(
    role: IamRole,
    session_name: str,
    key_id: str,
    token: str,
    at: datetime,
    duration_seconds: int | None = None,
) -> Api:
    request: Record = {"roleArn": role.arn, "roleSessionName": session_name}
    if duration_seconds is not None:
        request["durationSeconds"] = duration_seconds
    expires = at + timedelta(seconds=duration_seconds or 3600)
    return Api(
        "sts",
        "AssumeRole",
        True,
        request=request,
        response={
            "credentials": credentials(key_id, token, expires),
            "assumedRoleUser": {
                "assumedRoleId": f"{role.role_id}:{session_name}",
                "arn": f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session_name}",
            },
        },
        resources=[{"accountId": role.account_id, "type": "AWS::IAM::Role", "ARN": role.arn}],
    )


# --- IAM


def iam_read(name: str, request: Record | None = None, error: tuple[str, str] | None = None) -> Api:
    return Api("iam", name, True, request=request, error=error)


def create_access_key(user_name: str, key_id: str, at: datetime) -> Api:
    return Api(
        "iam",
        "CreateAccessKey",
        False,
        request={"userName": user_name},
        response={
            "accessKey": {
                "userName": user_name,
                "accessKeyId": key_id,
                "status": "Active",
                "createDate": aws_datetime(at, comma=False),
            }
        },
    )


def update_access_key(user_name: str, key_id: str, status: str) -> Api:
    return Api(
        "iam",
        "UpdateAccessKey",
        False,
        request={"userName": user_name, "accessKeyId": key_id, "status": status},
    )


def delete_access_key(user_name: str, key_id: str) -> Api:
    return Api("iam", "DeleteAccessKey", False, request={"userName": user_name, "accessKeyId": key_id})


def create_user(user: IamUser, at: datetime) -> Api:
    return Api(
        "iam",
        "CreateUser",
        False,
        request={"userName": user.name},
        response={
            "user": {
                "path": "/",
                "userName": user.name,
                "userId": user.user_id,
                "arn": user.arn,
                "createDate": aws_datetime(at, comma=False),
            }
        },
    )


def create_login_profile(user_name: str, at: datetime) -> Api:
    return Api(
        "iam",
        "CreateLoginProfile",
        False,
        request={"userName": user_name, "passwordResetRequired": False},
        response={
            "loginProfile": {
                "userName": user_name,
                "createDate": aws_datetime(at, comma=False),
                "passwordResetRequired": False,
            }
        },
    )


def iam_write(name: str, request: Record, error: tuple[str, str] | None = None) -> Api:
    return Api("iam", name, False, request=request, error=error)


# --- sign-in


def console_login(account_id: str, *, mfa: bool, region: str = "us-east-1") -> Api:
    return Api(
        "signin",
        "ConsoleLogin",
        False,
        response={"ConsoleLogin": "Success"},
        extra={
            "LoginTo": f"https://{region}.console.aws.amazon.com/console/home?region={region}&state=hashArgs%23&isauthcode=true",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if mfa else "No",
        },
        region=region,
        event_type="AwsConsoleSignIn",
    )


# --- S3


def s3_list_buckets(region: str) -> Api:
    return Api(
        "s3",
        "ListBuckets",
        True,
        request={"Host": f"s3.{region}.amazonaws.com"},
        extra={"bytesTransferredOut": 4210.0},
    )


def _bucket_resources(bucket: str, account_id: str, key: str | None) -> list[Record]:
    first: Record = (
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}
        if key is not None
        else {"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{bucket}/"}
    )
    return [first, {"accountId": account_id, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]


def s3_object(
    name: str,
    bucket: str,
    key: str,
    account_id: str,
    region: str,
    size: int,
    error: tuple[str, str] | None = None,
) -> Api:
    """A data event: GetObject / PutObject / DeleteObject / HeadObject."""
    writes = name in ("PutObject", "DeleteObject")
    moved = 0.0 if error else float(size)
    return Api(
        "s3",
        name,
        not writes,
        request={"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key},
        error=error,
        data_event=True,
        resources=_bucket_resources(bucket, account_id, key),
        extra={
            "bytesTransferredIn": moved if name == "PutObject" else 0.0,
            "bytesTransferredOut": moved if name == "GetObject" else (243.0 if error else 0.0),
        },
    )


def s3_list_objects(bucket: str, account_id: str, region: str, prefix: str) -> Api:
    return Api(
        "s3",
        "ListObjects",
        True,
        request={
            "list-type": "2",
            "bucketName": bucket,
            "encoding-type": "url",
            "prefix": prefix,
            "Host": f"{bucket}.s3.{region}.amazonaws.com",
        },
        data_event=True,
        resources=_bucket_resources(bucket, account_id, None),
        extra={"bytesTransferredOut": 5210.0},
    )


# --- misc services


def ec2_read(name: str, error: tuple[str, str] | None = None) -> Api:
    request: Record
    if name == "DescribeInstances":
        request = {"instancesSet": {}, "filterSet": {}}
    elif name == "DescribeSecurityGroups":
        request = {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}
    elif name == "DescribeVpcs":
        request = {"vpcSet": {}, "filterSet": {}}
    elif name == "DescribeRegions":
        request = {"regionSet": {}}
    else:
        request = {"MaxResults": 1000}
    return Api("ec2", name, True, request=request, error=error)


def unauthorized_ec2() -> tuple[str, str]:
    return ("Client.UnauthorizedOperation", "You are not authorized to perform this operation.")


def generic(
    source: str, name: str, read_only: bool, request: Record | None = None, error: tuple[str, str] | None = None, response: Record | None = None
) -> Api:
    return Api(source, name, read_only, request=request, error=error, response=response)


# --------------------------------------------------------------------------- background activity


@dataclass(frozen=True)
class BackgroundCast:
    """The ordinary principals of an account (returned so callers can assert on them)."""

    account_id: str
    users: tuple[IamUser, ...]
    keys: tuple[str, ...]
    roles: tuple[IamRole, ...]
    ips: tuple[str, ...]


def _office_ips(rng: random.Random, count: int) -> list[str]:
    # 192.0.2.0/24 and 198.51.100.0/24 only; 203.0.113.0/24 is kept for attackers.
    pool = [f"192.0.2.{i}" for i in range(10, 250)] + [f"198.51.100.{i}" for i in range(10, 250)]
    return rng.sample(pool, count)


def office_background(
    rec: Recorder,
    account_id: str,
    day: datetime,
    *,
    scale: int = 1,
    until: datetime | None = None,
    buckets: Sequence[str] = (),
) -> BackgroundCast:
    """A day of ordinary activity in one account: developers on the CLI, a
    service user (with a benign key rotation), a console user, a CI user that
    assumes a deploy role, an EC2 instance role, AWS Config, and a few failed
    calls. About ``95 * scale`` records, all before ``until`` if given.
    """
    rng = rec.rng
    ids = rec.ids
    end = until if until is not None else day + timedelta(days=1) - timedelta(seconds=1)
    span = int((end - day).total_seconds())
    ips = _office_ips(rng, 8)
    region = "us-east-1"
    buckets = tuple(buckets) or (f"app-assets-{account_id}", f"analytics-raw-{account_id}")

    def when(lo: float = 0.0, hi: float = 1.0) -> datetime:
        return day + timedelta(seconds=rng.randint(int(span * lo), max(int(span * lo), int(span * hi))))

    devs = [rec.user(account_id, n) for n in ("alice.chen", "bob.okafor", "priya.raman")]
    dev_keys = [ids.access_key(account_id) for _ in devs]
    admin = rec.user(account_id, "ops-admin")
    admin_key = ids.access_key(account_id)
    svc = rec.user(account_id, "svc-reporting")
    svc_key_old = ids.access_key(account_id)
    svc_key_new = ids.access_key(account_id)
    console_user = rec.user(account_id, "maria.garcia")
    ci_user = rec.user(account_id, "ci-runner")
    ci_key = ids.access_key(account_id)
    deploy_role = rec.role(account_id, "ci-deploy")
    app_role = rec.role(account_id, "app-server-role")
    config_role = rec.role(account_id, "AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/")

    def dev_apis(user: IamUser) -> list[Api]:
        bucket = rng.choice(buckets)
        obj = f"reports/{day:%Y/%m/%d}/part-{rng.randint(0, 999):04d}.parquet"
        return [
            get_caller_identity(),
            s3_list_buckets(region),
            ec2_read(rng.choice(["DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs"])),
            generic("logs", "DescribeLogGroups", True, {"limit": 50}),
            generic("lambda", "ListFunctions20150331", True),
            generic("monitoring", "DescribeAlarms", True, {"maxRecords": 100}),
            iam_read("GetUser", {"userName": user.name}),
            s3_object("GetObject", bucket, obj, account_id, region, rng.randint(2_000, 900_000)),
            s3_list_objects(bucket, account_id, region, "reports/"),
            generic("dynamodb", "DescribeTable", True, {"tableName": "orders"}),
        ]

    # Developers on the CLI.
    for user, key, ip, agent in zip(devs, dev_keys, ips, (CLI_MAC, CLI_LINUX, TERRAFORM), strict=False):
        actor = Actor(user.identity(key), ip, agent, account_id)
        for _ in range(12 * scale):
            rec.call(rng.choice(dev_apis(user)), actor, when(0.30, 0.80), region=rng.choice([region, region, "us-west-2"]))
    # Failed calls by developers.
    alice = Actor(devs[0].identity(dev_keys[0]), ips[0], CLI_MAC, account_id)
    rec.call(ec2_read("DescribeInstances", unauthorized_ec2()), alice, when(0.3, 0.8), region="eu-west-1")
    rec.call(iam_read("ListRoles", error=denied(devs[0].arn, "iam:ListRoles")), alice, when(0.3, 0.8))
    bob = Actor(devs[1].identity(dev_keys[1]), ips[1], CLI_LINUX, account_id)
    rec.call(
        s3_object("GetObject", buckets[0], "exports/missing.csv", account_id, region, 0, error=("NoSuchKey", "The specified key does not exist.")),
        bob,
        when(0.3, 0.8),
    )

    # Service user with a key rotation by ops-admin around midday.
    rotate = when(0.45, 0.55)
    admin_actor = Actor(admin.identity(admin_key), ips[3], CLI_LINUX, account_id)
    rec.call(iam_read("ListAccessKeys", {"userName": svc.name}), admin_actor, rotate - timedelta(seconds=40))
    rec.call(create_access_key(svc.name, svc_key_new, rotate), admin_actor, rotate)
    rec.call(update_access_key(svc.name, svc_key_old, "Inactive"), admin_actor, rotate + timedelta(minutes=20))
    for _ in range(4 * scale):
        rec.call(iam_read(rng.choice(["ListUsers", "ListRoles", "ListPolicies"])), admin_actor, when(0.3, 0.8))
    for _ in range(16 * scale):
        t = when(0.0, 1.0)
        key = svc_key_old if t < rotate else svc_key_new
        if rotate <= t < rotate + timedelta(minutes=5):
            key = svc_key_old
        actor = Actor(svc.identity(key), ips[4], BOTO3_APP, account_id)
        obj = f"daily/{t:%Y-%m-%d}/summary-{rng.randint(0, 99):02d}.csv"
        name = rng.choice(["GetObject", "PutObject"])
        rec.call(s3_object(name, buckets[-1], obj, account_id, region, rng.randint(10_000, 4_000_000)), actor, t)

    # Console user (MFA) and console calls.
    login = when(0.33, 0.40)
    rec.call(console_login(account_id, mfa=True), Actor(console_user.identity(), ips[5], BROWSER_MAC, account_id), login)
    console_key = ids.access_key(account_id, temporary=True)
    console_actor = Actor(console_user.identity(console_key, session_created=login, mfa=True), ips[5], BROWSER_MAC, account_id, console=True)
    for _ in range(10 * scale):
        t = login + timedelta(seconds=rng.randint(30, 3 * 3600))
        if t > end:
            continue
        api = rng.choice(
            [
                ec2_read("DescribeInstances"),
                ec2_read("DescribeSecurityGroups"),
                generic("monitoring", "GetMetricData", True),
                s3_list_buckets(region),
                generic("health", "DescribeEventAggregates", True, {"aggregateField": "eventTypeCategory"}),
                generic("ce", "GetCostAndUsage", True),
            ]
        )
        rec.call(api, console_actor, t)

    # CI: ci-runner assumes ci-deploy a few times a day.
    ci_actor = Actor(ci_user.identity(ci_key), ips[6], BOTO3_APP, account_id)
    for run in range(3 * scale):
        t = when(run / (3 * scale), (run + 1) / (3 * scale) - 0.02)
        session_name = f"gha-run-{rng.randint(10_000_000, 99_999_999)}"
        session_key = ids.access_key(account_id, temporary=True)
        rec.call(assume_role(deploy_role, session_name, session_key, ids.session_token(), t), ci_actor, t)
        session = RoleSession(deploy_role, session_name, session_key, t)
        actor = Actor(session.identity(), ips[6], TERRAFORM, account_id)
        steps = [
            generic("cloudformation", "DescribeStacks", True, {"stackName": "web-app"}),
            generic("ecr", "GetAuthorizationToken", True),
            s3_object("PutObject", buckets[0], f"builds/{session_name}.zip", account_id, region, rng.randint(1_000_000, 9_000_000)),
            generic("lambda", "UpdateFunctionCode20150331v2", False, {"functionName": "web-app-api", "publish": True}),
            generic("ssm", "GetParameter", True, {"name": "/web-app/prod/db-host", "withDecryption": False}),
        ]
        for i, api in enumerate(steps):
            rec.call(api, actor, t + timedelta(seconds=20 + 35 * i))
        if run == 0:
            rec.call(
                generic(
                    "ssm",
                    "GetParameter",
                    True,
                    {"name": "/web-app/prod/db-password", "withDecryption": True},
                    error=denied(session.arn, "ssm:GetParameter", f"arn:aws:ssm:{region}:{account_id}:parameter/web-app/prod/db-password"),
                ),
                actor,
                t + timedelta(seconds=210),
            )

    # EC2 instance role credentials refreshed by the EC2 service, then used.
    ec2_service = service_actor("ec2.amazonaws.com", account_id)
    instance = ids.instance_id()
    for hour in range(0, 24, max(1, 6 // scale)):
        t = day + timedelta(hours=hour, seconds=rng.randint(0, 3000))
        if t > end:
            break
        key = ids.access_key(account_id, temporary=True)
        rec.call(assume_role(app_role, instance, key, ids.session_token(), t, 21600), ec2_service, t, shared_event_id=ids.uuid())
        session = RoleSession(app_role, instance, key, t)
        actor = Actor(session.identity(), ips[7], BOTO3_APP, account_id)
        for _ in range(2):
            u = t + timedelta(seconds=rng.randint(60, 3000))
            rec.call(generic("secretsmanager", "GetSecretValue", True, {"secretId": "web-app/prod/api-key"}), actor, u)

    # AWS Config: the service assumes its role and describes resources.
    config = service_actor("config.amazonaws.com", account_id)
    t = when(0.1, 0.2)
    key = ids.access_key(account_id, temporary=True)
    session_name = "AWSConfig-Describe"
    rec.call(assume_role(config_role, session_name, key, ids.session_token(), t), config, t, shared_event_id=ids.uuid())
    cfg_session = RoleSession(config_role, session_name, key, t, invoked_by="config.amazonaws.com")
    cfg_actor = Actor(cfg_session.identity(), "config.amazonaws.com", Agent("config.amazonaws.com"), account_id)
    for name in ("DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "DescribeRegions"):
        rec.call(ec2_read(name), cfg_actor, t + timedelta(seconds=rng.randint(5, 90)))

    return BackgroundCast(
        account_id=account_id,
        users=(*devs, admin, svc, console_user, ci_user),
        keys=(*dev_keys, admin_key, svc_key_old, svc_key_new, ci_key),
        roles=(deploy_role, app_role, config_role),
        ips=tuple(ips),
    )


# --------------------------------------------------------------------------- incidents


@dataclass(frozen=True)
class Incident[FactsT]:
    """A generated incident: shuffled records plus the facts it was built from."""

    name: str
    records: list[Record]
    facts: FactsT


@dataclass(frozen=True)
class AccessKeyFact:
    access_key_id: str
    user_name: str


@dataclass(frozen=True)
class WorkshopFacts:
    """The actors the workshop incident was generated from."""

    account_id: str
    attacker_ip: str
    attacker_user_agent: str
    leaked_key: AccessKeyFact
    """L: the exposed key of ``tdir-workshop-sysdev``."""
    dormant_key: AccessKeyFact
    """M: created by L for ``tdir-workshop-mmajor-dev``, never used."""
    active_key: AccessKeyFact
    """N: created by L for ``tdir-workshop-nwolf-dev``, used five times."""
    first_use_time: str
    """When the attacker first used L (GetCallerIdentity)."""
    deleted_user: str
    """The user N deletes last (L's own user)."""

    @property
    def created_keys(self) -> tuple[AccessKeyFact, AccessKeyFact]:
        return (self.dormant_key, self.active_key)


WORKSHOP_ACCOUNT = "111122223333"
WORKSHOP_DAY = datetime(2026, 1, 7, tzinfo=UTC)


def workshop_incident(seed: int = 7) -> Incident[WorkshopFacts]:
    """The workshop's story on 2026-01-07 in account 111122223333, in a day of
    background activity (~330 records, shuffled).

    L (``tdir-workshop-sysdev``) is first used at 02:25:18Z for
    ``GetCallerIdentity`` from one IP with one boto3 user agent; it explores
    (one call is denied), then creates M for ``tdir-workshop-mmajor-dev``
    (never used) and N for ``tdir-workshop-nwolf-dev``. N is used five times:
    GetCallerIdentity, DetachUserPolicy, DeleteAccessKey (L), DeleteLoginProfile
    (fails: NoSuchEntity), DeleteUser ``tdir-workshop-sysdev``.
    """
    rec = Recorder(seed)
    ids = rec.ids
    acct = WORKSHOP_ACCOUNT
    day = WORKSHOP_DAY

    sysdev = rec.user(acct, "tdir-workshop-sysdev")
    mmajor = rec.user(acct, "tdir-workshop-mmajor-dev")
    nwolf = rec.user(acct, "tdir-workshop-nwolf-dev")
    key_l = ids.access_key(acct)
    key_m = ids.access_key(acct)
    key_n = ids.access_key(acct)
    attacker_ip = f"203.0.113.{rec.rng.randint(20, 240)}"
    agent = BOTO3_ATTACKER
    policy_arn = f"arn:aws:iam::{acct}:policy/tdir-workshop-sysdev-iam"

    office_background(rec, acct, day, scale=3)

    by_l = Actor(sysdev.identity(key_l), attacker_ip, agent, acct)
    first = day_at(day, "02:25:18")
    t = first
    rec.call(get_caller_identity(), by_l, t)
    steps: list[tuple[int, Api]] = [
        (44, iam_read("ListUsers")),
        (21, iam_read("GetUser", {"userName": sysdev.name})),
        (17, iam_read("ListAttachedUserPolicies", {"userName": sysdev.name})),
        (9, iam_read("ListUserPolicies", {"userName": sysdev.name})),
        (12, iam_read("GetPolicy", {"policyArn": policy_arn})),
        (8, iam_read("GetPolicyVersion", {"policyArn": policy_arn, "versionId": "v1"})),
        (26, iam_read("GetAccountAuthorizationDetails", error=denied(sysdev.arn, "iam:GetAccountAuthorizationDetails"))),
        (31, s3_list_buckets("us-east-1")),
        (14, iam_read("ListGroupsForUser", {"userName": mmajor.name})),
        (11, iam_read("ListAccessKeys", {"userName": mmajor.name})),
        (13, iam_read("ListAccessKeys", {"userName": nwolf.name})),
    ]
    for gap, api in steps:
        t += timedelta(seconds=gap)
        rec.call(api, by_l, t)
    t += timedelta(seconds=37)
    rec.call(create_access_key(mmajor.name, key_m, t), by_l, t)
    t += timedelta(seconds=58)
    rec.call(create_access_key(nwolf.name, key_n, t), by_l, t)

    by_n = Actor(nwolf.identity(key_n), attacker_ip, agent, acct)
    t += timedelta(minutes=6, seconds=12)
    rec.call(get_caller_identity(), by_n, t)
    t += timedelta(seconds=47)
    rec.call(iam_write("DetachUserPolicy", {"userName": sysdev.name, "policyArn": policy_arn}), by_n, t)
    t += timedelta(seconds=19)
    rec.call(delete_access_key(sysdev.name, key_l), by_n, t)
    t += timedelta(seconds=15)
    rec.call(
        iam_write("DeleteLoginProfile", {"userName": sysdev.name}, error=("NoSuchEntityException", f"Login Profile for User {sysdev.name} cannot be found.")),
        by_n,
        t,
    )
    t += timedelta(seconds=22)
    rec.call(iam_write("DeleteUser", {"userName": sysdev.name}), by_n, t)

    facts = WorkshopFacts(
        account_id=acct,
        attacker_ip=attacker_ip,
        attacker_user_agent=agent.base,
        leaked_key=AccessKeyFact(key_l, sysdev.name),
        dormant_key=AccessKeyFact(key_m, mmajor.name),
        active_key=AccessKeyFact(key_n, nwolf.name),
        first_use_time=ts(first),
        deleted_user=sysdev.name,
    )
    return Incident("workshop", rec.shuffled(), facts)
