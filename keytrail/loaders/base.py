"""What every source shares: the :class:`Source` protocol, its :class:`SourceKind`, the options and the time window.

A source is anything ``keytrail load`` reads records from: local files, a trail's
bucket, an Athena table, the LookupEvents API. Every source module imports this one
and nothing imports the source modules but the registry (:mod:`keytrail.loaders.sources`),
so the sources never import each other and this module imports none of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from keytrail.loaders.records import LoaderItem
from keytrail.model.time import event_time_of, normalise_time

#: CloudTrail delivers a record minutes after the call, and can be hours late; a day of margin catches it.
DEFAULT_MARGIN_DAYS = 1.0
#: Attempts per AWS call (the first one included) before a throttled call is given up.
DEFAULT_MAX_ATTEMPTS = 10


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


def _flag(name: str) -> dict[str, str]:
    """The command-line flag of an option, kept beside it: messages name the flag the user typed."""
    return {"flag": name}


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """What ``keytrail load`` was asked, beyond the target itself.

    Each :class:`SourceKind` names the options that apply to it; any other one given is refused.

    Attributes:
        window: The time window on ``eventTime``.
        accounts: Account ids to read (S3 prefixes, Athena partition or column); empty: all.
        regions: Regions to read (S3 prefixes, Athena partition, LookupEvents endpoints); empty: all
            (S3, Athena) or the session's region (LookupEvents).
        org_id: The organisation id of an organisation trail's layout (S3).
        profile: The AWS profile; ``None`` uses the standard credential chain.
        keys: Access key ids to select (Athena filter, LookupEvents attribute).
        principals: Principal ARNs to select (Athena filter on ``useridentity.arn`` and the session
            issuer's ARN); with ``keys``, a record made by one of the keys or by one of the principals.
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

    window: TimeWindow = field(default_factory=TimeWindow, metadata=_flag("--start/--end"))
    accounts: tuple[str, ...] = field(default=(), metadata=_flag("--account"))
    regions: tuple[str, ...] = field(default=(), metadata=_flag("--region"))
    org_id: str | None = field(default=None, metadata=_flag("--org-id"))
    profile: str | None = field(default=None, metadata=_flag("--profile"))
    keys: tuple[str, ...] = field(default=(), metadata=_flag("--key"))
    principals: tuple[str, ...] = field(default=(), metadata=_flag("--principal"))
    event_names: tuple[str, ...] = field(default=(), metadata=_flag("--event-name"))
    workgroup: str | None = field(default=None, metadata=_flag("--workgroup"))
    output: str | None = field(default=None, metadata=_flag("--output"))
    all_time: bool = field(default=False, metadata=_flag("--all"))
    workers: int = field(default=8, metadata=_flag("--workers"))
    margin_days: float = field(default=DEFAULT_MARGIN_DAYS, metadata=_flag("--margin-days"))
    date_partition: str | None = field(default=None, metadata=_flag("--date-partition"))
    date_format: str | None = field(default=None, metadata=_flag("--date-format"))
    region_partition: str | None = field(default=None, metadata=_flag("--region-partition"))
    account_partition: str | None = field(default=None, metadata=_flag("--account-partition"))
    max_attempts: int = field(default=DEFAULT_MAX_ATTEMPTS, metadata=_flag("--max-attempts"))


#: Every option by its field name, with the flag that sets it.
OPTION_FLAGS: dict[str, str] = {option.name: option.metadata["flag"] for option in fields(SourceOptions)}


class OriginManifest(Protocol):
    """Which stored objects a store already holds completely (see :class:`keytrail.ingest.ObjectManifest`).

    The S3 source asks it what it can skip and tells it what a load finished; the
    sources never talk to a database themselves.
    """

    def complete(self, uris: Sequence[str]) -> dict[str, str]:
        """For each URI loaded completely under this load's incident before, its version tag (ETag)."""
        ...

    def record(self, objects: Sequence[tuple[str, str, int]]) -> None:
        """Remember ``(uri, etag, size)`` objects whose every record is now stored."""
        ...


class SourceProgress(Protocol):
    """What a source has done so far, for the line ``keytrail load`` shows while it runs."""

    @property
    def files_done(self) -> int:
        """Files (or S3 objects) read to the end so far; 0 for a source that reads no files."""
        ...

    def words(self) -> str:
        """What else the line should say (``12.3 MB downloaded``, ``athena running``); empty for nothing."""
        ...


@dataclass(slots=True)
class FilesProgress:
    """Files read to the end so far: the progress of a source that reads files and has nothing more to say."""

    files_done: int = 0

    def words(self) -> str:
        """Nothing beyond the files count: the line's records and events say the rest."""
        return ""


#: Told that a source's progress changed, while no record flows (an S3 listing, an Athena query running).
ProgressListener = Callable[[], None]


class Source(Protocol):
    """Anything ``keytrail load`` can read: loader items, what it has done so far, and what it did.

    Attributes:
        on_progress: Told whenever :attr:`progress` changes; set by the command before iterating.
    """

    on_progress: ProgressListener | None

    @property
    def target(self) -> str:
        """The target as the summary names it (``s3://bucket/prefix``, a path, ``lookup-events``)."""
        ...

    @property
    def kind(self) -> str:
        """The name of its :class:`SourceKind`."""
        ...

    @property
    def warnings(self) -> Sequence[str]:
        """What the user should know before the load starts (an Athena table without a date partition)."""
        ...

    @property
    def progress(self) -> SourceProgress:
        """What it has done so far."""
        ...

    def __iter__(self) -> Iterator[LoaderItem]:
        """Read the records, or why they could not be read; raises :class:`SourceError` when the source cannot be read at all."""
        ...

    def total_files(self) -> int | None:
        """How many files (or S3 objects) it reads in all, once it can tell; ``None`` until then or when it reads no files."""
        ...

    def origins_loaded(self, origins: list[str]) -> None:
        """Told by the load which origins are now stored completely (a source without a manifest ignores it)."""
        ...

    def as_dict(self) -> dict[str, Any] | None:
        """What it did, for ``load --json``'s ``sources``; ``None`` when the load's own counts say it all (files)."""
        ...

    def summary(self) -> str | None:
        """What it did, as the line printed after the load; ``None`` when the load's own line says it all."""
        ...


#: Opens one target: its source, given the options and where completely loaded objects are kept.
Opener = Callable[[str, SourceOptions, OriginManifest | None], Source]


def _accept(_: Any) -> None:
    """The check of a kind with nothing more to refuse."""


@dataclass(frozen=True, slots=True)
class SourceKind:
    """One kind of target ``keytrail load`` reads, as the registry (:data:`keytrail.loaders.sources.KINDS`) holds it.

    Attributes:
        name: What messages and ``--json`` call it (``s3``): "--org-id does not apply to s3 targets".
        scheme: How a target names this kind: a prefix ending in ``://`` (``s3://``), or the whole
            target (``lookup-events``); ``None`` for local paths, the kind of every target no other claims.
        usage: The target's form, for ``load --help``.
        options: The :class:`SourceOptions` fields that apply to it; any other one given is refused.
            A kind that takes none reads its targets whole, and ignores the options of the other
            targets of the same load.
        open: Builds the source for one target (may call AWS, e.g. to read a table's shape).
        refuse_options: Raises :class:`SourceError` for option values this kind cannot use
            (Athena without a time window), before anything is opened.
        refuse_target: Raises :class:`SourceError` for a target this kind cannot read
            (a path that does not exist), before anything is opened.
    """

    name: str
    scheme: str | None
    usage: str
    options: frozenset[str]
    open: Opener
    refuse_options: Callable[[SourceOptions], None] = _accept
    refuse_target: Callable[[str], None] = _accept

    def __post_init__(self) -> None:
        unknown = self.options - OPTION_FLAGS.keys()
        if unknown:
            raise ValueError(f"source kind {self.name}: no such options: {', '.join(sorted(unknown))}")

    def claims(self, target: str) -> bool:
        """Whether a target names this kind (``None`` schemes claim nothing here: they take what is left)."""
        if self.scheme is None:
            return False
        if self.scheme.endswith("://"):
            return target.startswith(self.scheme)
        return target == self.scheme


def megabytes(count: int) -> str:
    """A byte count as the progress line and the summary show it."""
    return f"{count / 1_000_000:,.1f} MB"
