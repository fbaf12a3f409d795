"""From a ``keytrail load`` target to a loader: a path, ``s3://…``, ``athena://DB.TABLE`` or ``lookup-events``.

Every source yields the same :data:`~keytrail.loaders.records.LoaderItem` stream as
the file loader, so de-duplication, rejects, the summary and the incident tag work
the same whatever the records were read from. This module also holds what the
cloud sources share: the time window, the AWS session and retry policy, and the
translation of AWS errors into one clear :class:`SourceError`.

The cloud loaders are imported only when a target needs them, so loading files
never imports boto3 or pyathena.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from keytrail.loaders.files import FileSource
from keytrail.loaders.records import LoaderItem, event_time_of, normalise_time

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

#: CloudTrail delivers a record minutes after the call, and can be hours late; a day of margin catches it.
DEFAULT_MARGIN_DAYS = 1.0
#: Attempts per AWS call (the first one included) before a throttled call is given up.
DEFAULT_MAX_ATTEMPTS = 10

_ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidToken",
    }
)
_THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "SlowDown",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
    }
)


class SourceError(RuntimeError):
    """A source cannot be read: access denied, a missing bucket or table, throttling after retries, bad options."""


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """An inclusive ``[start, end]`` window on ``eventTime`` (UTC); either end may be open."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise SourceError(f"--start {self.start:%Y-%m-%dT%H:%M:%SZ} is after --end {self.end:%Y-%m-%dT%H:%M:%SZ}")

    @property
    def bounded(self) -> bool:
        """True when the window has a start (an open end means 'until now')."""
        return self.start is not None

    def contains(self, epoch: int) -> bool:
        """Whether a time (epoch seconds) lies in the window."""
        if self.start is not None and epoch < int(self.start.timestamp()):
            return False
        return not (self.end is not None and epoch > int(self.end.timestamp()))

    def holds(self, record: dict[str, Any]) -> bool | None:
        """Whether a record's ``eventTime`` lies in the window; ``None`` when it has no readable time.

        A record without a readable time is not filtered out: the load rejects it with
        the reason, so that it is seen rather than silently dropped.
        """
        found = event_time_of(record)
        if found is None:
            return None
        try:
            _, epoch = normalise_time(found[0])
        except ValueError:
            return None
        return self.contains(epoch)

    def days(self, margin_days: float, *, now: datetime | None = None) -> list[date]:
        """The UTC days whose CloudTrail folders can hold records of the window.

        A log file sits in the folder of the day it was delivered, which is the day of
        its records or, for records near midnight or delivered late, a later day:
        the days run to the one ``margin_days`` after the window's end.
        """
        if self.start is None:
            raise ValueError("an unbounded window has no list of days")
        last = ((self.end or now or datetime.now(UTC)) + timedelta(days=margin_days)).date()
        first = self.start.date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def describe(self) -> str:
        """The window as text for messages."""
        start = f"{self.start:%Y-%m-%dT%H:%M:%SZ}" if self.start else "the beginning"
        end = f"{self.end:%Y-%m-%dT%H:%M:%SZ}" if self.end else "now"
        return f"{start} to {end}"


def parse_time(text: str, *, end: bool = False) -> datetime:
    """Parse ``--start``/``--end``: an ISO 8601 date or time, UTC unless it says otherwise.

    A date alone means the start of that day, or for ``--end`` its last second, so
    ``--start 2026-01-07 --end 2026-01-07`` is the whole day.

    Raises:
        SourceError: if ``text`` is not an ISO 8601 date or time.
    """
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            return datetime.combine(day, time(23, 59, 59) if end else time(0, 0, 0), tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise SourceError(f"not an ISO 8601 date or time: {text!r} (e.g. 2026-01-07 or 2026-01-07T02:00:00Z)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).replace(microsecond=0)
    except OverflowError as exc:  # year 1 or 9999 with an offset: no UTC time exists
        raise SourceError(f"not a representable time: {text!r} lies outside years 1-9999 in UTC") from exc


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """What ``keytrail load`` was asked, beyond the target itself.

    Attributes:
        window: The time window on ``eventTime``.
        accounts: Account ids to read (S3 prefixes, Athena partition or column); empty: all.
        regions: Regions to read (S3 prefixes, Athena partition, LookupEvents endpoints); empty: all
            (S3, Athena) or the session's region (LookupEvents).
        org_id: The organisation id of an organisation trail's layout (S3).
        profile: The AWS profile; ``None`` uses the standard credential chain.
        keys: Access key ids to select (Athena filter, LookupEvents attribute).
        event_names: Event names to select (Athena filter).
        workgroup: Athena workgroup.
        output: Athena query result location (``s3://…``).
        all_time: Allow an Athena query without a time window.
        workers: Concurrent S3 downloads.
        margin_days: How long after the window's end a record may still be delivered, in days
            (fractions allowed): day folders and files delivered up to then are read.
        date_partition: Athena date partition column, overriding discovery.
        date_format: Its format (Java date pattern such as ``yyyy/MM/dd``).
        region_partition: Athena region partition column, overriding discovery.
        account_partition: Athena account partition column, overriding discovery.
        max_attempts: Attempts per AWS call, for throttling.
    """

    window: TimeWindow = field(default_factory=TimeWindow)
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    org_id: str | None = None
    profile: str | None = None
    keys: tuple[str, ...] = ()
    event_names: tuple[str, ...] = ()
    workgroup: str | None = None
    output: str | None = None
    all_time: bool = False
    workers: int = 8
    margin_days: float = DEFAULT_MARGIN_DAYS
    date_partition: str | None = None
    date_format: str | None = None
    region_partition: str | None = None
    account_partition: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


class Source(Protocol):
    """Anything ``keytrail load`` can read: an iterable of loader items with a name."""

    target: str

    def __iter__(self) -> Iterator[LoaderItem]: ...


class OriginManifest(Protocol):
    """Which stored objects a store already holds completely (see :class:`keytrail.ingest.ObjectManifest`).

    The S3 source asks it what it can skip and tells it what a load finished; the
    loaders never talk to a database themselves.
    """

    def complete(self, uris: Sequence[str]) -> dict[str, str]:
        """For each URI loaded completely under this load's incident before, its version tag (ETag)."""
        ...

    def record(self, objects: Sequence[tuple[str, str, int]]) -> None:
        """Remember ``(uri, etag, size)`` objects whose every record is now stored."""
        ...


@dataclass(slots=True)
class PathSource:
    """Local files and directories: the existing file loader, under the common interface."""

    target: str
    files: FileSource

    def __iter__(self) -> Iterator[LoaderItem]:
        return iter(self.files)


_ORG_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_KEY_RE = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,124}$")


def check_options(kind: str, options: SourceOptions) -> None:
    """Refuse options that mean nothing for this kind of target, and malformed values.

    Raises:
        SourceError: naming the option and what is wrong with it.
    """
    allowed = {
        "path": set(),
        "s3": {"window", "accounts", "regions", "org_id", "profile", "workers", "margin_days", "max_attempts"},
        "athena": {
            "window",
            "accounts",
            "regions",
            "profile",
            "keys",
            "event_names",
            "workgroup",
            "output",
            "all_time",
            "margin_days",
            "date_partition",
            "date_format",
            "region_partition",
            "account_partition",
            "max_attempts",
        },
        "lookup-events": {"window", "regions", "profile", "keys", "max_attempts"},
    }[kind]
    defaults = SourceOptions()
    flags = {
        "window": "--start/--end",
        "accounts": "--account",
        "regions": "--region",
        "org_id": "--org-id",
        "profile": "--profile",
        "keys": "--key",
        "event_names": "--event-name",
        "workgroup": "--workgroup",
        "output": "--output",
        "all_time": "--all",
        "workers": "--workers",
        "margin_days": "--margin-days",
        "date_partition": "--date-partition",
        "date_format": "--date-format",
        "region_partition": "--region-partition",
        "account_partition": "--account-partition",
        "max_attempts": "--max-attempts",
    }
    for name, flag in flags.items():
        if name not in allowed and getattr(options, name) != getattr(defaults, name):
            raise SourceError(f"{flag} does not apply to {kind} targets")
    for account in options.accounts:
        if not _ACCOUNT_RE.match(account):
            raise SourceError(f"--account {account!r}: an account id is 12 digits")
    for region in options.regions:
        if not _REGION_RE.match(region):
            raise SourceError(f"--region {region!r} is not a region name such as us-east-1")
    if options.org_id is not None and not _ORG_RE.match(options.org_id):
        raise SourceError(f"--org-id {options.org_id!r} is not an organisation id such as o-a1b2c3d4e5")
    for key in options.keys:
        if not _KEY_RE.match(key):
            raise SourceError(f"--key {key!r} is not an access key id (AKIA… or ASIA…, upper-case letters and digits)")
    if kind == "athena" and not options.window.bounded and not options.all_time:
        raise SourceError("refusing to query Athena without a time window: pass --start (and --end), or --all to scan the whole table")
    if options.workers < 1 or options.margin_days < 0 or options.max_attempts < 1:
        raise SourceError("--workers and --max-attempts must be at least 1, --margin-days at least 0")


def kind_of(target: str) -> str:
    """``path``, ``s3``, ``athena`` or ``lookup-events``."""
    if target.startswith("s3://"):
        return "s3"
    if target.startswith("athena://"):
        return "athena"
    if target == "lookup-events":
        return "lookup-events"
    return "path"


def open_source(target: str, options: SourceOptions, *, manifest: OriginManifest | None = None) -> Source:
    """Build the loader for one ``keytrail load`` target.

    Args:
        target: A path, ``s3://BUCKET[/PREFIX]``, ``athena://DATABASE.TABLE`` or ``lookup-events``.
        options: Everything else the command was given.
        manifest: Where the S3 source finds and records completely loaded objects.

    Raises:
        SourceError: for an unreadable target, options that do not apply, or an AWS error
            met while preparing (Athena table discovery).
    """
    kind = kind_of(target)
    if kind == "path":
        # Files are read whole: the cloud options (checked against the cloud targets) do not filter them.
        path = Path(target)
        if not path.exists():
            raise SourceError(f"no such file or directory: {target}")
        return PathSource(target, FileSource([path]))
    check_options(kind, options)
    from botocore.exceptions import BotoCoreError

    try:
        return _open_cloud_source(kind, target, options, manifest)
    except BotoCoreError as exc:
        raise source_error(exc, f"preparing to read {target}") from exc


def _open_cloud_source(kind: str, target: str, options: SourceOptions, manifest: OriginManifest | None) -> Source:
    session = aws_session(options.profile)
    if kind == "s3":
        from keytrail.loaders.s3 import S3Source, parse_s3_uri

        bucket, prefix = parse_s3_uri(target)
        client = session.client("s3", config=client_config(options.max_attempts))
        return S3Source(
            bucket,
            prefix,
            client=client,
            window=options.window,
            accounts=options.accounts,
            regions=options.regions,
            org_id=options.org_id,
            workers=options.workers,
            margin_days=options.margin_days,
            manifest=manifest,
        )
    if kind == "athena":
        from keytrail.loaders.athena import AthenaSource, parse_athena_uri

        database, table = parse_athena_uri(target)
        return AthenaSource.prepare(database, table, options, session=session)
    from keytrail.loaders.lookup_events import LookupEventsSource

    regions = options.regions or (session.region_name or "us-east-1",)
    clients = {region: session.client("cloudtrail", region_name=region, config=client_config(options.max_attempts)) for region in regions}
    return LookupEventsSource(clients, window=options.window, keys=options.keys)


def aws_session(profile: str | None) -> boto3.Session:
    """A boto3 session on the standard credential chain (``--profile``, ``AWS_PROFILE``, instance roles).

    ``AWS_ENDPOINT_URL`` (and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``) is
    honoured by botocore itself for every client made from it.

    Raises:
        SourceError: if the named profile does not exist.
    """
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=profile)
    except ProfileNotFound as exc:
        raise SourceError(f"AWS profile not found: {profile}") from exc


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    """Adaptive retries: throttled calls are retried with back-off and a client-side rate limit."""
    from botocore.config import Config

    return Config(retries={"mode": "adaptive", "total_max_attempts": max_attempts}, max_pool_connections=32)


def source_error(exc: BaseException, doing: str) -> SourceError:
    """Translate an AWS error into one clear sentence saying what failed and what to check.

    Args:
        exc: The botocore exception.
        doing: What was being done, e.g. ``"listing s3://bucket/AWSLogs/"``.
    """
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError, PartialCredentialsError

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return SourceError(f"no AWS credentials while {doing}: set AWS_PROFILE or pass --profile, or run where an instance role is available")
    if isinstance(exc, NoRegionError):
        return SourceError(f"no AWS region while {doing}: set AWS_REGION, or use a profile that names a region")
    if isinstance(exc, EndpointConnectionError):
        return SourceError(f"cannot reach the AWS endpoint while {doing}: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        message = str(error.get("Message") or exc)
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        if code in _ACCESS_CODES or code == "403":
            return SourceError(f"access denied while {doing} ({code}: {message}); see docs/cloud-sources.md for the permissions needed")
        if code == "NoSuchBucket":
            return SourceError(f"the bucket does not exist ({doing}): check the name, and the account your credentials belong to")
        if code in _THROTTLE_CODES:
            return SourceError(
                f"throttled by AWS while {doing}, still throttled after {int(attempts) + 1} attempts ({code}): try again later, or with fewer --workers"
            )
        return SourceError(f"AWS error while {doing}: {code}: {message}")
    return SourceError(f"error while {doing}: {exc}")
