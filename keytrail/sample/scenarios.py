"""Two more incidents: credentials that outlive the leaked key, and a cross-account role chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from keytrail.sample.workshop import (
    ADMIN_POLICY_ARN,
    BROWSER,
    CLI_KALI,
    CLI_LINUX,
    CLI_MAC,
    GO_SDK,
    AccessKeyFact,
    Actor,
    Api,
    Incident,
    Record,
    Recorder,
    RoleSession,
    assume_role,
    console_login,
    create_login_profile,
    create_user,
    day_at,
    delete_access_key,
    generic,
    get_caller_identity,
    get_session_token,
    iam_read,
    iam_write,
    office_background,
    s3_list_buckets,
    s3_list_objects,
    s3_object,
    ts,
    update_access_key,
)

INCIDENT_DAY = datetime(2026, 1, 7, tzinfo=UTC)


# --------------------------------------------------------------------------- GetSessionToken


@dataclass(frozen=True)
class SessionTokenFacts:
    """Inputs of :func:`session_token_incident`."""

    account_id: str
    attacker_ip: str
    leaked_key: AccessKeyFact
    """The AKIA key of ``build-bot``: deactivated, then deleted, by the defender."""
    first_use_time: str
    session_key_id: str
    """ASIA key from ``sts:GetSessionToken`` (36 h, no MFA): outlives the AKIA key."""
    session_issued_time: str
    session_expiration: str
    defender_user: str
    key_deactivated_time: str
    key_deleted_time: str
    role_arn: str
    """Role the session assumes (a GetSessionToken session without MFA cannot call IAM)."""
    role_session_name: str
    role_key_id: str
    created_user: str
    """User created (with a console password) through the role session."""
    console_login_time: str
    console_key_id: str
    """ASIA key of the created user's console session."""


def session_token_incident(seed: int = 11) -> Incident[SessionTokenFacts]:
    """``build-bot``'s leaked key mints a 36-hour session token; the defender
    deactivates and deletes the key; the session keeps working.

    Account 444455556666, 2026-01-07. After the key is deleted the ASIA
    session lists buckets, reads an object, and assumes ``build-deploy``; the
    role session creates ``support-audit`` with a login profile and
    AdministratorAccess; ``support-audit`` signs in to the console (no MFA)
    and makes one console call.

    AWS rule kept: GetSessionToken credentials obtained without MFA cannot call
    IAM (nor STS other than AssumeRole and GetCallerIdentity), so the new user
    is created through ``sts:AssumeRole`` from the session, not by the session
    key itself.
    """
    rec = Recorder(seed)
    ids = rec.ids
    rng = rec.rng
    acct = "444455556666"
    day = INCIDENT_DAY
    bucket = f"build-artifacts-{acct}"

    bot = rec.user(acct, "build-bot")
    key = ids.access_key(acct)
    defender = rec.user(acct, "secops-admin")
    defender_key = ids.access_key(acct)
    deploy_role = rec.role(acct, "build-deploy")
    new_user = rec.user(acct, "support-audit")
    attacker_ip = f"203.0.113.{rng.randint(20, 240)}"
    build_ip = "198.51.100.7"  # office_background draws from .10-.249

    office_background(rec, acct, day, scale=1, buckets=(f"web-assets-{acct}", f"analytics-raw-{acct}"))

    # Legitimate use of the key by the build system, until early afternoon.
    build = Actor(bot.identity(key), build_ip, GO_SDK, acct)
    for run in range(6):
        t = day + timedelta(hours=1 + 2 * run, seconds=rng.randint(0, 3000))
        rec.call(generic("ecr", "GetAuthorizationToken", True), build, t)
        rec.call(
            s3_object("PutObject", bucket, f"builds/{t:%Y%m%d}/build-{run + 1041}.tar.gz", acct, "us-east-1", rng.randint(5_000_000, 40_000_000)),
            build,
            t + timedelta(seconds=rng.randint(40, 200)),
        )

    attacker = Actor(bot.identity(key), attacker_ip, CLI_KALI, acct)
    first = day_at(day, "13:58:41")
    rec.call(get_caller_identity(), attacker, first)
    issued = day_at(day, "14:00:00")
    session_key = ids.access_key(acct, temporary=True)
    duration = 129_600
    rec.call(get_session_token(session_key, ids.session_token(), issued, duration), attacker, issued)

    session = Actor(bot.identity(session_key, session_created=issued), attacker_ip, CLI_KALI, acct)
    rec.call(get_caller_identity(), session, day_at(day, "14:01:37"))

    # The defender deactivates, then deletes, the leaked AKIA key.
    responder = Actor(defender.identity(defender_key), "192.0.2.5", CLI_MAC, acct)
    rec.call(iam_read("ListAccessKeys", {"userName": bot.name}), responder, day_at(day, "14:38:12"))
    deactivated = day_at(day, "14:40:05")
    rec.call(update_access_key(bot.name, key, "Inactive"), responder, deactivated)
    deleted = day_at(day, "14:42:30")
    rec.call(delete_access_key(bot.name, key), responder, deleted)

    # The session token keeps working.
    rec.call(s3_list_buckets("us-east-1"), session, day_at(day, "15:05:10"))
    rec.call(s3_list_objects(bucket, acct, "us-east-1", "deploy/"), session, day_at(day, "15:06:02"))
    rec.call(s3_object("GetObject", bucket, "deploy/prod.env", acct, "us-east-1", 2_314), session, day_at(day, "15:06:44"))
    assumed = day_at(day, "15:09:21")
    role_key = ids.access_key(acct, temporary=True)
    role_session_name = "build-bot"
    rec.call(assume_role(deploy_role, role_session_name, role_key, ids.session_token(), assumed), session, assumed)
    role_actor = Actor(RoleSession(deploy_role, role_session_name, role_key, assumed).identity(), attacker_ip, CLI_KALI, acct)
    t = day_at(day, "15:10:02")
    rec.call(create_user(new_user, t), role_actor, t)
    t = day_at(day, "15:10:31")
    rec.call(create_login_profile(new_user.name, t), role_actor, t)
    rec.call(iam_write("AttachUserPolicy", {"userName": new_user.name, "policyArn": ADMIN_POLICY_ARN}), role_actor, day_at(day, "15:10:58"))

    login = day_at(day, "15:14:40")
    rec.call(console_login(acct, mfa=False), Actor(new_user.identity(), attacker_ip, BROWSER, acct), login)
    console_key = ids.access_key(acct, temporary=True)
    console = Actor(new_user.identity(console_key, session_created=login), attacker_ip, BROWSER, acct, console=True)
    rec.call(generic("secretsmanager", "ListSecrets", True, {"maxResults": 100}), console, day_at(day, "15:15:25"))

    facts = SessionTokenFacts(
        account_id=acct,
        attacker_ip=attacker_ip,
        leaked_key=AccessKeyFact(key, bot.name),
        first_use_time=ts(first),
        session_key_id=session_key,
        session_issued_time=ts(issued),
        session_expiration=ts(issued + timedelta(seconds=duration)),
        defender_user=defender.name,
        key_deactivated_time=ts(deactivated),
        key_deleted_time=ts(deleted),
        role_arn=deploy_role.arn,
        role_session_name=role_session_name,
        role_key_id=role_key,
        created_user=new_user.name,
        console_login_time=ts(login),
        console_key_id=console_key,
    )
    return Incident("session-token", rec.shuffled(), facts)


# --------------------------------------------------------------------------- cross-account


@dataclass(frozen=True)
class CrossAccountFacts:
    """Inputs of :func:`cross_account_incident`."""

    account_a: str
    account_b: str
    attacker_ip: str
    leaked_key: AccessKeyFact
    """AKIA key of ``deployer`` in account A."""
    first_use_time: str
    entry_role_arn: str
    entry_session_name: str
    entry_key_id: str
    """ASIA1: from A's key assuming B's OrganizationAccountAccessRole."""
    shared_event_id: str
    """sharedEventID of the AssumeRole logged in both trails."""
    chained_role_arn: str
    chained_session_name: str
    chained_key_id: str
    """ASIA2: ASIA1 assuming ``data-admin`` (role chaining)."""
    bucket: str
    object_key: str
    escalated_role: str
    """Role that receives AdministratorAccess."""
    trail_arn: str
    stop_logging_time: str
    """B's trail stops here: no B record is later than this."""


def cross_account_incident(seed: int = 13) -> Incident[CrossAccountFacts]:
    """A leaked key in account A (111111111111) pivots into account B
    (222222222222) and chains roles there, 2026-01-07.

    The cross-account AssumeRole is logged twice: in A's trail (caller's
    view, ``userIdentity.type`` IAMUser) and in B's trail (``type``
    AWSAccount with A's principalId/accountId), with one ``sharedEventID``,
    one requestID, two eventIDs. B's trail has nothing after StopLogging.
    """
    rec = Recorder(seed)
    ids = rec.ids
    rng = rec.rng
    acct_a, acct_b = "111111111111", "222222222222"
    day = INCIDENT_DAY
    region = "us-east-1"

    deployer = rec.user(acct_a, "deployer")
    key = ids.access_key(acct_a)
    entry_role = rec.role(acct_b, "OrganizationAccountAccessRole")
    data_role = rec.role(acct_b, "data-admin")
    attacker_ip = f"203.0.113.{rng.randint(20, 240)}"
    bucket = f"finance-exports-{acct_b}"
    object_key = "exports/2025-12/ledger.csv"
    trail_arn = f"arn:aws:cloudtrail:{region}:{acct_b}:trail/management-events"
    stop_at = day_at(day, "09:24:18")

    office_background(rec, acct_a, day, scale=1)
    office_background(rec, acct_b, day, scale=1, until=stop_at - timedelta(seconds=30), buckets=(f"data-lake-{acct_b}", bucket))

    # Legitimate deploys with the key, from the build host, early morning.
    legit = Actor(deployer.identity(key), "198.51.100.8", CLI_LINUX, acct_a)
    for i in range(4):
        t = day + timedelta(hours=1, minutes=40 * i, seconds=rng.randint(0, 900))
        rec.call(generic("cloudformation", "DescribeStacks", True, {"stackName": "payments"}), legit, t)

    attacker = Actor(deployer.identity(key), attacker_ip, CLI_KALI, acct_a)
    first = day_at(day, "09:14:03")
    rec.call(get_caller_identity(), attacker, first)
    rec.call(iam_read("ListAttachedUserPolicies", {"userName": deployer.name}), attacker, day_at(day, "09:14:39"))

    t = day_at(day, "09:15:27")
    entry_key = ids.access_key(acct_b, temporary=True)
    entry_session = "deployer"
    api = assume_role(entry_role, entry_session, entry_key, ids.session_token(), t)
    shared = ids.uuid()
    request_id = ids.uuid()
    rec.call(api, attacker, t, shared_event_id=shared, request_id=request_id)
    b_view: Record = {"type": "AWSAccount", "principalId": deployer.user_id, "accountId": acct_a}
    rec.call(api, Actor(b_view, attacker_ip, CLI_KALI, acct_b), t, shared_event_id=shared, request_id=request_id)

    s1 = RoleSession(entry_role, entry_session, entry_key, t)
    by_s1 = Actor(s1.identity(), attacker_ip, CLI_KALI, acct_b)
    rec.call(get_caller_identity(), by_s1, day_at(day, "09:16:02"))
    rec.call(iam_read("ListRoles"), by_s1, day_at(day, "09:16:45"))
    t = day_at(day, "09:18:40")
    chained_key = ids.access_key(acct_b, temporary=True)
    chained_session = "data-admin"
    rec.call(assume_role(data_role, chained_session, chained_key, ids.session_token(), t), by_s1, t)

    s2 = RoleSession(data_role, chained_session, chained_key, t)
    by_s2 = Actor(s2.identity(), attacker_ip, CLI_KALI, acct_b)
    rec.call(s3_list_buckets(region), by_s2, day_at(day, "09:19:30"))
    rec.call(s3_object("GetObject", bucket, object_key, acct_b, region, 18_442_118), by_s2, day_at(day, "09:20:12"))
    rec.call(iam_write("AttachRolePolicy", {"roleName": data_role.name, "policyArn": ADMIN_POLICY_ARN}), by_s2, day_at(day, "09:22:50"))
    rec.call(Api("cloudtrail", "StopLogging", False, request={"name": trail_arn}), by_s2, stop_at)

    facts = CrossAccountFacts(
        account_a=acct_a,
        account_b=acct_b,
        attacker_ip=attacker_ip,
        leaked_key=AccessKeyFact(key, deployer.name),
        first_use_time=ts(first),
        entry_role_arn=entry_role.arn,
        entry_session_name=entry_session,
        entry_key_id=entry_key,
        shared_event_id=shared,
        chained_role_arn=data_role.arn,
        chained_session_name=chained_session,
        chained_key_id=chained_key,
        bucket=bucket,
        object_key=object_key,
        escalated_role=data_role.name,
        trail_arn=trail_arn,
        stop_logging_time=ts(stop_at),
    )
    return Incident("cross-account", rec.shuffled(), facts)
