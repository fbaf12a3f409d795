"""Fast, streaming, realistic CloudTrail records for benchmarks.

``synthetic_records(1_000_000)`` takes a few seconds of CPU. Records are built
from template dicts: each record is a fresh top-level dict (and a fresh
``userIdentity``), but deeper values (``sessionContext``, ``requestParameters``,
``resources``, ``tlsDetails``…) may be shared between records: treat them as
read-only, or ``copy.deepcopy`` first.

Embedded attack chains (from ``203.0.113.0/24`` only; no background record
uses that range): a pool user's key calls GetCallerIdentity and ListUsers,
creates an access key for another user of its account, the new key is used
and calls GetSessionToken, and the ASIA key is used three times.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from keytrail.sample.workshop import (
    BOTO3_APP,
    CLI_KALI,
    Actor,
    Agent,
    IamRole,
    IamUser,
    Ids,
    Recorder,
    RoleSession,
    aws_datetime,
    create_access_key,
    denied,
    ec2_read,
    generic,
    get_caller_identity,
    get_session_token,
    iam_read,
    s3_list_buckets,
    s3_object,
)

Record = dict[str, Any]

ATTACKER_NET = "203.0.113."
"""Every embedded attack chain comes from this /24; background never does."""

_MASK48 = (1 << 48) - 1
_MIX48 = 0x9E3779B97F4B  # odd: i -> i * _MIX48 mod 2**48 is a bijection
_MIX32 = 0x9E3779B1

_FIRST = (
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "carlos",
    "karen",
    "wei",
    "aisha",
    "raj",
    "yuki",
    "olga",
    "kwame",
    "lucia",
    "arjun",
    "fatima",
    "noah",
)
_LAST = (
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "nguyen",
    "kim",
    "patel",
    "chen",
    "okafor",
)
_SERVICES = (
    "etl",
    "backup",
    "billing",
    "reporting",
    "ingest",
    "search",
    "mailer",
    "payments",
    "metrics",
    "scanner",
)
_ROLES = (
    "app-server",
    "batch-worker",
    "lambda-exec",
    "ci-deploy",
    "data-pipeline",
    "readonly-audit",
    "ecs-task",
    "analytics",
    "eks-node",
    "sso-admin",
)
_REGIONS = ("us-east-1", "us-east-1", "us-east-1", "us-west-2", "us-west-2", "eu-west-1", "ap-southeast-2")
_AGENTS = (
    "aws-cli/2.22.21 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0-1021-aws md/arch#x86_64 lang/python#3.12.6 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off",
    BOTO3_APP.base,
    "aws-sdk-go-v2/1.32.7 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64",
    "aws-sdk-java/2.29.43 Linux/5.10.230-223.885.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS "
    "Java/21.0.5 vendor/Amazon.com_Inc. md/internal exec-env/AWS_Lambda_java21 io/sync http/Apache "
    "cfg/retry-mode/legacy",
    "APN/1.0 HashiCorp/1.0 Terraform/1.10.3 (+https://www.terraform.io) terraform-provider-aws/5.82.2 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.7",
    "aws-sdk-js/3.716.0 ua/2.1 os/linux#5.10.230 lang/js md/nodejs#20.18.1 api/s3#3.716.0",
)
_ERROR_EC2 = ("Client.UnauthorizedOperation", "You are not authorized to perform this operation.")
_ERROR_S3 = ("AccessDenied", "Access Denied")


_Variant = tuple[Record | None, list[Record] | None, Record | None, str | None]
"""(requestParameters, resources, additionalEventData, region or None)."""
_Variants = list[list[_Variant]]
"""Per account index."""


@dataclass
class _Template:
    base: Record
    variants: _Variants
    s3: bool = False
    iam_denied: str | None = None
    service: str = ""
    host: str = ""

    def __post_init__(self) -> None:
        self.service = str(self.base["eventSource"]).split(".", 1)[0]
        if self.service == "iam":
            self.host = "iam.amazonaws.com"


@dataclass
class _Caller:
    identity: Record
    account_index: int
    ip: str
    agent: str
    user: IamUser | None = None
    key_id: str = ""
    regions: tuple[str, ...] = field(default=("us-east-1",))


def _base(
    source: str,
    name: str,
    read_only: bool,
    *,
    data: bool = False,
    extra: bool = False,
    resources: bool = False,
    error: tuple[str, str] | None = None,
    request: Record | None = None,
) -> Record:
    rec: Record = {
        "eventVersion": "1.10" if data else "1.09",
        "userIdentity": None,
        "eventTime": None,
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": None,
        "sourceIPAddress": None,
        "userAgent": None,
    }
    if error is not None:
        rec["errorCode"], rec["errorMessage"] = error
    rec["requestParameters"] = request
    rec["responseElements"] = None
    if extra:
        rec["additionalEventData"] = None
    rec["requestID"] = None
    rec["eventID"] = None
    rec["readOnly"] = read_only
    if resources:
        rec["resources"] = None
    rec["eventType"] = "AwsApiCall"
    rec["managementEvent"] = not data
    rec["recipientAccountId"] = None
    rec["eventCategory"] = "Data" if data else "Management"
    rec["tlsDetails"] = None
    return rec


class _KeyMaker:
    """Unique, valid, account-encoded key ids without bookkeeping: a counter mixed by a bijection."""

    def __init__(self, rng: random.Random) -> None:
        self.serial = 0
        self.salt = rng.getrandbits(32)
        self.low = rng.getrandbits(7)

    def make(self, account_id: str, *, temporary: bool = False) -> str:
        self.serial += 1
        head = (1 << 47) | (int(account_id) << 7) | self.low
        tail = ((self.serial * _MIX32) & 0xFFFFFFFF) ^ self.salt
        raw = head.to_bytes(6, "big") + tail.to_bytes(4, "big")
        return ("ASIA" if temporary else "AKIA") + base64.b32encode(raw).decode("ascii")


@dataclass
class _Chain:
    caller: _Caller
    target: IamUser
    ip: str
    new_key: str = ""
    session_key: str = ""
    session_created: datetime | None = None
    bucket: str = ""


def synthetic_records(
    n: int,
    seed: int = 1,
    *,
    attack_every: int = 10_000,
    start: datetime = datetime(2026, 1, 7, tzinfo=UTC),
    span: timedelta = timedelta(days=1),
    accounts: int = 3,
) -> Iterator[Record]:
    """Yield ``n`` CloudTrail records spread evenly over ``span`` from ``start``
    (in time order; the S3 layout writer shuffles within files).

    Principals come from fixed pools (about 340 IAM users with their AKIA keys,
    240 role sessions, AWS services, ~400 IPs) across ``accounts`` accounts.
    Every ``attack_every`` records (0: never) a 9-record attack chain starts
    at the middle of the stretch, if it fits before ``n``. eventIDs are unique
    (uuid4 format, a counter in the last group), key ids are unique.
    """
    if n <= 0:
        return
    rng = random.Random(seed)
    ids = Ids(rng)
    keys = _KeyMaker(rng)
    rand = rng.random
    getrandbits = rng.getrandbits

    account_ids: list[str] = []
    while len(account_ids) < accounts:
        candidate = str(rng.randint(100_000_000_000, 999_999_999_999))
        if candidate not in account_ids:
            account_ids.append(candidate)

    ip_pool = (
        [f"192.0.2.{i}" for i in range(1, 255)]
        + [f"198.51.100.{i}" for i in range(1, 255)]
        + [f"100.{rng.randint(64, 127)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(200)]
    )
    tokens = [ids.session_token() for _ in range(32)]
    amz_ids = [ids.amz_id_2() for _ in range(256)]

    # --- principals
    callers: list[_Caller] = []
    user_callers: list[_Caller] = []
    users_by_account: list[list[IamUser]] = [[] for _ in account_ids]
    names = [f"{f}.{last}" for f in _FIRST for last in _LAST]
    rng.shuffle(names)
    names = names[:300] + [f"svc-{s}-{k}" for s in _SERVICES for k in range(1, 5)]
    for name in names:
        a = rng.randrange(len(account_ids))
        acct = account_ids[a]
        user = IamUser(acct, name, ids.user_id(acct))
        users_by_account[a].append(user)
        ip = rng.choice(ip_pool)
        agent = rng.choice(_AGENTS)
        regions = tuple(rng.sample(_REGIONS, 2))
        for _ in range(2 if rand() < 0.2 else 1):
            key = keys.make(acct)
            caller = _Caller(user.identity(key), a, ip, agent, user, key, regions)
            callers.append(caller)
            user_callers.append(caller)
    roles = [IamRole(account_ids[a], name, ids.role_id(account_ids[a])) for a in range(len(account_ids)) for name in _ROLES]
    role_account = {role.arn: account_ids.index(role.account_id) for role in roles}
    for _ in range(240):
        role = rng.choice(roles)
        session_name = rng.choice(
            (
                f"i-0{ids.hex(16)}",
                f"botocore-session-{rng.randint(1_700_000_000, 1_767_000_000)}",
                f"{rng.choice(_FIRST)}@example.com",
                f"gha-run-{rng.randint(10**7, 10**8 - 1)}",
            )
        )
        created = start - timedelta(seconds=rng.randint(60, 5 * 3600))
        session = RoleSession(role, session_name, keys.make(role.account_id, temporary=True), created)
        callers.append(_Caller(session.identity(), role_account[role.arn], rng.choice(ip_pool), rng.choice(_AGENTS), regions=tuple(rng.sample(_REGIONS, 2))))

    # --- templates
    one: _Variants = [[(None, None, None, None)] for _ in account_ids]

    def same(request: Record) -> _Variants:
        return [[(request, None, None, None)] for _ in account_ids]

    def s3_variants(name: str) -> _Variants:
        out: _Variants = []
        for acct in account_ids:
            rows: list[_Variant] = []
            for b in range(6):
                region = _REGIONS[b % len(_REGIONS)]
                bucket = f"{rng.choice(('data', 'logs', 'assets', 'backup', 'exports', 'ml'))}-{acct}-{b}"
                for _ in range(12):
                    key = (
                        f"{rng.choice(('raw', 'curated', 'tmp', 'reports'))}/{rng.randint(2023, 2026)}/"
                        f"{ids.hex(8)}.{rng.choice(('json.gz', 'parquet', 'csv', 'png'))}"
                    )
                    size = float(rng.randint(200, 50_000_000))
                    api = s3_object(name, bucket, key, acct, region, int(size))
                    rows.append((api.request, api.resources, api.extra, region))
            out.append(rows)
        return out

    specs: list[tuple[int, _Template]] = [
        (3, _Template(_base("sts", "GetCallerIdentity", True), one)),
        (
            2,
            _Template(
                _base("s3", "ListBuckets", True, extra=True),
                [[({"Host": f"s3.{r}.amazonaws.com"}, None, {"bytesTransferredOut": 4210.0}, r) for r in sorted(set(_REGIONS))] for _ in account_ids],
                s3=True,
            ),
        ),
        (20, _Template(_base("s3", "GetObject", True, data=True, extra=True, resources=True), s3_variants("GetObject"), s3=True)),
        (8, _Template(_base("s3", "PutObject", False, data=True, extra=True, resources=True), s3_variants("PutObject"), s3=True)),
        (6, _Template(_base("ec2", "DescribeInstances", True), same({"instancesSet": {}, "filterSet": {}}))),
        (3, _Template(_base("ec2", "DescribeSecurityGroups", True), same({"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}))),
        (2, _Template(_base("ec2", "DescribeVpcs", True), same({"vpcSet": {}, "filterSet": {}}))),
        (2, _Template(_base("ec2", "DescribeVolumes", True), same({"volumeSet": {}, "filterSet": {}}))),
        (2, _Template(_base("logs", "DescribeLogGroups", True), same({"limit": 50}))),
        (2, _Template(_base("lambda", "ListFunctions20150331", True), one)),
        (
            2,
            _Template(
                _base("dynamodb", "DescribeTable", True), [[({"tableName": t}, None, None, None) for t in ("orders", "users", "sessions")] for _ in account_ids]
            ),
        ),
        (
            6,
            _Template(
                _base("kms", "Decrypt", True, resources=True),
                [
                    [
                        (
                            {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                            [{"accountId": acct, "type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:us-east-1:{acct}:key/{ids.uuid()}"}],
                            None,
                            "us-east-1",
                        )
                        for _ in range(4)
                    ]
                    for acct in account_ids
                ],
            ),
        ),
        (
            3,
            _Template(
                _base("ssm", "GetParameter", True),
                [
                    [({"name": f"/{s}/prod/{p}", "withDecryption": p == "password"}, None, None, None) for s in _SERVICES[:5] for p in ("host", "password")]
                    for _ in account_ids
                ],
            ),
        ),
        (
            2,
            _Template(
                _base("secretsmanager", "GetSecretValue", True),
                [[({"secretId": f"{s}/prod/api-key"}, None, None, None) for s in _SERVICES] for _ in account_ids],
            ),
        ),
        (3, _Template(_base("monitoring", "GetMetricData", True), one)),
        (1, _Template(_base("iam", "GetUser", True), one)),
        (1, _Template(_base("iam", "ListRoles", True), one)),
        (1, _Template(_base("ecr", "GetAuthorizationToken", True), one)),
        (1, _Template(_base("ec2", "DescribeInstances", True, error=_ERROR_EC2), same({"instancesSet": {}, "filterSet": {}}))),
        (1, _Template(_base("s3", "GetObject", True, data=True, extra=True, resources=True, error=_ERROR_S3), s3_variants("GetObject"), s3=True)),
        (1, _Template(_base("iam", "ListUsers", True, error=("AccessDenied", "")), one, iam_denied="iam:ListUsers")),
    ]
    table: list[_Template] = [t for weight, t in specs for _ in range(weight)]
    n_table = len(table)
    n_callers = len(callers)
    tls_cache: dict[str, Record] = {}

    def tls(host: str) -> Record:
        found = tls_cache.get(host)
        if found is None:
            found = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": host}
            tls_cache[host] = found
        return found

    # --- rare records (service AssumeRole, attack chains) go through the full builder
    slow = Recorder(rng, ids)
    service_roles = [r for r in roles if r.name in ("app-server", "lambda-exec", "ecs-task", "eks-node")]
    service_of = {
        "app-server": "ec2.amazonaws.com",
        "lambda-exec": "lambda.amazonaws.com",
        "ecs-task": "ecs-tasks.amazonaws.com",
        "eks-node": "ec2.amazonaws.com",
    }

    def service_assume_role(at: datetime, event_id: str) -> Record:
        role = rng.choice(service_roles)
        service = service_of[role.name]
        session_name = f"i-0{ids.hex(16)}" if service.startswith("ec2") else ids.hex(32)
        new_key = keys.make(role.account_id, temporary=True)
        api = generic(
            "sts",
            "AssumeRole",
            True,
            {"roleArn": role.arn, "roleSessionName": session_name},
            response={
                "credentials": {"accessKeyId": new_key, "sessionToken": rng.choice(tokens), "expiration": aws_datetime(at + timedelta(hours=6), comma=True)},
                "assumedRoleUser": {
                    "assumedRoleId": f"{role.role_id}:{session_name}",
                    "arn": f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session_name}",
                },
            },
        )
        actor = Actor({"type": "AWSService", "invokedBy": service}, service, Agent(service), role.account_id)
        rec = slow.call(api, actor, at, shared_event_id=ids.uuid(), event_id=event_id, region=rng.choice(_REGIONS))
        rec["resources"] = [{"accountId": role.account_id, "type": "AWS::IAM::Role", "ARN": role.arn}]
        slow.records.clear()
        return rec

    chain_len = 9
    gap = max(1, min(97, attack_every // (chain_len + 2))) if attack_every > 0 else 0
    pending: dict[int, tuple[_Chain, int]] = {}
    chains = 0

    def chain_record(chain: _Chain, step: int, at: datetime, event_id: str) -> Record:
        caller = chain.caller
        assert caller.user is not None
        acct = caller.user.account_id
        attacker = Actor(caller.identity, chain.ip, CLI_KALI, acct)
        if step == 0:
            api = get_caller_identity()
        elif step == 1:
            api = iam_read("ListUsers")
        elif step == 2:
            chain.new_key = keys.make(acct)
            api = create_access_key(chain.target.name, chain.new_key, at)
        elif step in (3, 4, 5):
            attacker = Actor(chain.target.identity(chain.new_key), chain.ip, CLI_KALI, acct)
            if step == 3:
                api = get_caller_identity()
            elif step == 4:
                api = s3_list_buckets("us-east-1")
            else:
                chain.session_key = keys.make(acct, temporary=True)
                chain.session_created = at
                api = get_session_token(chain.session_key, rng.choice(tokens), at, 43_200)
        else:
            attacker = Actor(chain.target.identity(chain.session_key, session_created=chain.session_created), chain.ip, CLI_KALI, acct)
            if step == 6:
                api = s3_object("GetObject", f"exports-{acct}-0", f"finance/{ids.hex(8)}.csv", acct, "us-east-1", rng.randint(10_000, 9_000_000))
            elif step == 7:
                api = ec2_read("DescribeInstances")
            else:
                api = generic(
                    "secretsmanager",
                    "GetSecretValue",
                    True,
                    {"secretId": "payments/prod/api-key"},
                    error=denied(chain.target.arn, "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{acct}:secret:payments/prod/api-key"),
                )
        rec = slow.call(api, attacker, at, event_id=event_id)
        slow.records.clear()
        return rec

    # --- the stream
    start_epoch = int(start.timestamp())
    span_s = max(1, int(span.total_seconds()))
    salt48 = getrandbits(48)
    last_sec = -1
    tstr = ""
    at = start
    half = attack_every // 2
    for i in range(n):
        sec = start_epoch + (i * span_s) // n
        if sec != last_sec:
            last_sec = sec
            tstr = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec))
            at = datetime.fromtimestamp(sec, UTC)
        r74 = getrandbits(74)
        tail = ((i * _MIX48) & _MASK48) ^ salt48
        event_id = f"{r74 >> 42:08x}-{(r74 >> 26) & 0xFFFF:04x}-4{(r74 >> 14) & 0xFFF:03x}-{0x8000 | (r74 & 0x3FFF):04x}-{tail:012x}"

        if attack_every > 0 and i % attack_every == half and i + chain_len * gap < n:
            victim = user_callers[int(rand() * len(user_callers))]
            assert victim.user is not None
            peers = [u for u in users_by_account[victim.account_index] if u.name != victim.user.name]
            chain = _Chain(victim, rng.choice(peers), f"{ATTACKER_NET}{chains % 250 + 1}")
            chains += 1
            for step in range(chain_len):
                pending[i + step * gap] = (chain, step)
        job = pending.pop(i, None)
        if job is not None:
            yield chain_record(job[0], job[1], at, event_id)
            continue
        if rand() < 0.01:
            yield service_assume_role(at, event_id)
            continue

        caller = callers[int(rand() * n_callers)]
        tmpl = table[int(rand() * n_table)]
        variants = tmpl.variants[caller.account_index]
        request, resources, extra, region = variants[int(rand() * len(variants))]
        if region is None:
            region = caller.regions[0] if rand() < 0.8 else caller.regions[-1]
        rec = tmpl.base.copy()
        rec["userIdentity"] = caller.identity.copy()
        rec["eventTime"] = tstr
        if tmpl.host:
            region = "us-east-1"
        rec["awsRegion"] = region
        rec["sourceIPAddress"] = caller.ip
        rec["userAgent"] = caller.agent
        if request is not None:
            rec["requestParameters"] = request
        if tmpl.iam_denied is not None:
            rec["errorMessage"] = (
                f"User: {caller.identity['arn']} is not authorized to perform: "
                f"{tmpl.iam_denied} on resource: * because no identity-based policy "
                f"allows the {tmpl.iam_denied} action"
            )
        if tmpl.s3:
            add = {
                "SignatureVersion": "SigV4",
                "CipherSuite": "TLS_AES_128_GCM_SHA256",
                "bytesTransferredIn": 0.0,
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": amz_ids[getrandbits(8)],
                "bytesTransferredOut": 0.0,
            }
            if extra:
                add.update(extra)
            rec["additionalEventData"] = add
            rec["requestID"] = base64.b32encode(getrandbits(80).to_bytes(10, "big")).decode("ascii")
            host = request.get("Host") if request else None
            rec["tlsDetails"] = tls(str(host) if host else f"s3.{region}.amazonaws.com")
        else:
            h = f"{getrandbits(128):032x}"
            rec["requestID"] = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            rec["tlsDetails"] = tls(tmpl.host or f"{tmpl.service}.{region}.amazonaws.com")
        rec["eventID"] = event_id
        if resources is not None:
            rec["resources"] = resources
        rec["recipientAccountId"] = account_ids[caller.account_index]
        yield rec
