"""Records straight from a trail's S3 bucket, listing only the slice an incident needs.

CloudTrail writes ``AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<random>.json.gz``. Knowing that, the
source lists only the day folders of the accounts and regions asked for (discovering
accounts and regions with delimiter listings when they are not given), skips the
files delivered before the window opened, downloads the rest concurrently with a
bounded number in flight, and parses them with the same code as local files
(:func:`keytrail.loaders.documents.records_from_stream`). Records whose
``eventTime`` lies outside ``[start, end]`` are dropped here and counted apart: they
are never "read" in the load's accounting.

Objects whose every record was stored are remembered in the store with their ETag
(through an :class:`~keytrail.loaders.base.OriginManifest`), so a repeated or
interrupted load does not download them again.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from keytrail.loaders.aws import aws_errors, aws_session, client_config, source_error
from keytrail.loaders.base import DEFAULT_MARGIN_DAYS, OriginManifest, ProgressListener, SourceError, SourceKind, SourceOptions, TimeWindow, megabytes
from keytrail.loaders.documents import is_digest_path, records_from_stream
from keytrail.loaders.records import InputDigest, LoaderItem, Rejection, SkippedFile, SourceRecord

_BUCKET_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,253}[a-zA-Z0-9]$")
_ORG_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
#: The delivery time CloudTrail puts in a log file's name.
_DELIVERED_RE = re.compile(r"_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4}Z)_[A-Za-z0-9]+\.json(\.gz)?$")
_MANIFEST_CHUNK = 1_000
_READ_ATTEMPTS = 3


def parse_s3_uri(target: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> ``(bucket, prefix)``.

    Raises:
        SourceError: if the URI has no valid bucket name.
    """
    if not target.startswith("s3://"):
        raise SourceError(f"not an s3:// URI: {target}")
    bucket, _, prefix = target[len("s3://") :].partition("/")
    if not _BUCKET_RE.match(bucket):
        raise SourceError(f"not a bucket name: {bucket!r} (in {target})")
    return bucket, prefix.lstrip("/")


def delivered_at(key: str) -> datetime | None:
    """The delivery time in a CloudTrail log file's name, or ``None`` for another name."""
    match = _DELIVERED_RE.search(key)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class S3Object:
    """One listed object."""

    key: str
    etag: str
    size: int


@dataclass(slots=True)
class S3Progress:
    """What the S3 source has done so far (the CLI shows it while a load runs).

    Attributes:
        layout: ``cloudtrail`` when the CloudTrail layout was found, ``flat`` when the prefix
            was listed as it is.
        list_requests: ListObjectsV2 calls made.
        prefixes: The key prefixes listed for objects (after discovery).
        listed: Log objects listed in the slice.
        listed_bytes: Their total size.
        already_loaded: Objects skipped because the store holds them completely (same ETag).
        pruned: Objects skipped because their delivery time proves they hold no record of the window.
        digests: Digest files skipped.
        downloaded: Objects downloaded and parsed.
        downloaded_bytes: Bytes downloaded.
        outside_window: Records dropped because their eventTime lies outside the window.
        listing_done: True once every prefix is listed.
    """

    layout: str = ""
    list_requests: int = 0
    prefixes: list[str] = field(default_factory=list)
    listed: int = 0
    listed_bytes: int = 0
    already_loaded: int = 0
    pruned: int = 0
    digests: int = 0
    downloaded: int = 0
    downloaded_bytes: int = 0
    outside_window: int = 0
    listing_done: bool = False

    @property
    def to_download(self) -> int:
        """Objects to download in this load."""
        return self.listed - self.already_loaded - self.pruned

    @property
    def files_done(self) -> int:
        """Objects downloaded and read so far."""
        return self.downloaded

    def words(self) -> str:
        """The bytes downloaded, or while listing, the requests made."""
        return f"{megabytes(self.downloaded_bytes)} downloaded" if self.listing_done else f"listing s3 ({self.list_requests:,} requests)"

    def as_dict(self) -> dict[str, Any]:
        """Counters for the JSON summary."""
        return {
            "layout": self.layout,
            "list_requests": self.list_requests,
            "listed": self.listed,
            "listed_bytes": self.listed_bytes,
            "already_loaded": self.already_loaded,
            "pruned_by_delivery_time": self.pruned,
            "digests_skipped": self.digests,
            "downloaded": self.downloaded,
            "downloaded_bytes": self.downloaded_bytes,
            "outside_window": self.outside_window,
        }


@dataclass(slots=True)
class _Fetched:
    obj: S3Object
    etag: str
    size: int
    items: list[LoaderItem]
    outside: int


class S3Source:
    """Loader items from the log files of one bucket and prefix.

    Args:
        bucket: The trail's bucket.
        prefix: A key prefix: empty, the trail's own key prefix, or a path into the
            ``AWSLogs/`` tree (an organisation, an account, a region).
        client: A boto3 S3 client.
        window: Records outside it are dropped (and counted); folders and files outside it are not listed or downloaded.
        accounts: Accounts to read; empty: every account found.
        regions: Regions to read; empty: every region found.
        org_id: The organisation id of an organisation trail; empty: found by listing.
        workers: Concurrent downloads.
        max_in_flight: Objects downloaded or parsed but not yet consumed, at most
            (bounds memory); default twice ``workers``.
        margin_days: How long after the window's end records may still be delivered (days, fractions allowed).
        manifest: Where completely loaded objects are found and recorded; ``None``: no resume.
        on_progress: Told whenever :attr:`progress` changes.
    """

    kind = "s3"
    warnings: tuple[str, ...] = ()

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any,
        window: TimeWindow | None = None,
        accounts: Sequence[str] = (),
        regions: Sequence[str] = (),
        org_id: str | None = None,
        workers: int = 8,
        max_in_flight: int | None = None,
        margin_days: float = DEFAULT_MARGIN_DAYS,
        manifest: OriginManifest | None = None,
        on_progress: ProgressListener | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self.window = window or TimeWindow()
        self.accounts = tuple(accounts)
        self.regions = tuple(regions)
        self.org_id = org_id
        self.workers = max(1, workers)
        self.max_in_flight = max(1, max_in_flight or 2 * self.workers)
        self.margin_days = margin_days
        self.manifest = manifest
        self.on_progress = on_progress
        self.progress = S3Progress()
        self.target = f"s3://{bucket}/{prefix}"
        # Downloaded objects waiting for the load to say they are stored: uri -> (etag, size, complete).
        self._fetched: dict[str, tuple[str, int, bool]] = {}

    # ------------------------------------------------------------------ listing

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _list_pages(self, prefix: str, delimiter: str | None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            params["Delimiter"] = delimiter
        while True:
            try:
                page: dict[str, Any] = self.client.list_objects_v2(**params)
            except Exception as exc:
                raise source_error(exc, f"listing {self._uri(prefix)}") from exc
            yield page
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            params["ContinuationToken"] = token

    def _children(self, prefix: str) -> list[str]:
        """The 'folder' names directly under a prefix (one delimiter listing)."""
        names: list[str] = []
        for page in self._list_pages(prefix, "/"):
            self.progress.list_requests += 1
            for common in page.get("CommonPrefixes") or []:
                names.append(str(common["Prefix"])[len(prefix) :].rstrip("/"))
        return sorted(names)

    def _objects(self, prefix: str) -> tuple[list[S3Object], int]:
        found: list[S3Object] = []
        pages = 0
        for page in self._list_pages(prefix, None):
            pages += 1
            for entry in page.get("Contents") or []:
                key = str(entry["Key"])
                if key.endswith("/"):
                    continue
                found.append(S3Object(key, str(entry.get("ETag") or ""), int(entry.get("Size") or 0)))
        return found, pages

    def plan(self) -> list[str]:
        """The key prefixes whose objects are listed, after discovering accounts and regions.

        Raises:
            SourceError: on an AWS error, or a prefix that contradicts ``--account``,
                ``--region`` or ``--org-id``.
        """
        segments = [s for s in self.prefix.split("/") if s]
        org: str | None = None
        account: str | None = None
        region: str | None = None
        if "AWSLogs" not in segments:
            base = "/".join(segments) + "/" if segments else ""
            root = base + "AWSLogs/"
        else:
            at = segments.index("AWSLogs")
            root = "/".join(segments[: at + 1]) + "/"
            rest = segments[at + 1 :]
            if rest and _ORG_RE.match(rest[0]):
                org = rest.pop(0)
            if rest:
                if not _ACCOUNT_RE.match(rest[0]):
                    return self._flat()
                account = rest.pop(0)
            if rest and rest.pop(0) != "CloudTrail":
                # CloudTrail-Digest/, CloudTrail-Insight/, other services' logs: list as asked.
                return self._flat()
            if rest:
                region = rest.pop(0)
            if rest:
                # Below a region (a year, a day): list exactly that.
                return self._flat()
        orgs = _reconcile("--org-id", org, (self.org_id,) if self.org_id else ())
        org = orgs[0] if orgs else None
        accounts = _reconcile("--account", account, self.accounts)
        regions = _reconcile("--region", region, self.regions)
        bases = self._account_bases(root, org, account, accounts)
        if bases is None:
            return self._flat()
        self.progress.layout = "cloudtrail"
        prefixes: list[str] = []
        days = self.window.days(self.margin_days) if self.window.bounded else None
        for base in bases:
            trail = base + "CloudTrail/"
            for name in regions or tuple(r for r in self._children(trail) if _REGION_RE.match(r)):
                if days is None:
                    prefixes.append(f"{trail}{name}/")
                else:
                    prefixes.extend(f"{trail}{name}/{day:%Y/%m/%d}/" for day in days)
        return prefixes

    def _account_bases(self, root: str, org: str | None, fixed_account: str | None, accounts: Sequence[str]) -> list[str] | None:
        """``<root>[<org>/]<account>/`` for every account to read; ``None`` when ``root`` holds no trail."""
        if fixed_account is not None:
            return [f"{root}{org + '/' if org else ''}{fixed_account}/"]
        if org is not None and accounts:
            return [f"{root}{org}/{a}/" for a in accounts]
        if org is not None:
            orgs, direct = [org], []
        else:
            names = self._children(root)
            orgs = [n for n in names if _ORG_RE.match(n)]
            direct = [n for n in names if _ACCOUNT_RE.match(n)]
            if not orgs and not direct:
                return None
        bases = [f"{root}{a}/" for a in direct if not accounts or a in accounts]
        for name in orgs:
            members = accounts or [a for a in self._children(f"{root}{name}/") if _ACCOUNT_RE.match(a)]
            bases.extend(f"{root}{name}/{a}/" for a in members)
        return bases

    def _flat(self) -> list[str]:
        self.progress.layout = "flat"
        return [self.prefix]

    def list_slice(self, pool: ThreadPoolExecutor | None = None) -> list[S3Object]:
        """Every log object of the slice, in key order, minus digests (see :attr:`progress`)."""
        prefixes = self.plan()
        self.progress.prefixes = prefixes
        results = [self._objects(p) for p in prefixes] if pool is None else list(pool.map(self._objects, prefixes))
        objects: list[S3Object] = []
        for found, pages in results:
            self.progress.list_requests += pages
            objects.extend(found)
        objects.sort(key=lambda o: o.key)
        self.progress.listing_done = True
        return objects

    # ------------------------------------------------------------------ selection

    def _in_delivery_range(self, key: str) -> bool:
        """False when the file's delivery time proves it holds no record of the window.

        A log file holds records of calls made before it was delivered, so a file
        delivered before the window opened holds none; files delivered more than the
        late-delivery margin after the window closed are left out as well.
        """
        when = delivered_at(key)
        if when is None:
            return True
        if self.window.start is not None and when + timedelta(minutes=1) <= self.window.start:
            return False
        return not (self.window.end is not None and when > self.window.end + timedelta(days=self.margin_days))

    def select(self, objects: Sequence[S3Object]) -> tuple[list[S3Object], list[S3Object]]:
        """Split listed objects into (digests, to download); count what is skipped."""
        digests = [o for o in objects if is_digest_path(o.key)]
        logs = [o for o in objects if not is_digest_path(o.key)]
        self.progress.digests = len(digests)
        self.progress.listed = len(logs)
        self.progress.listed_bytes = sum(o.size for o in logs)
        kept = [o for o in logs if self._in_delivery_range(o.key)]
        self.progress.pruned = len(logs) - len(kept)
        if self.manifest is not None and kept:
            complete: dict[str, str] = {}
            for start in range(0, len(kept), _MANIFEST_CHUNK):
                complete.update(self.manifest.complete([self._uri(o.key) for o in kept[start : start + _MANIFEST_CHUNK]]))
            fresh = [o for o in kept if complete.get(self._uri(o.key)) != o.etag]
            self.progress.already_loaded = len(kept) - len(fresh)
            kept = fresh
        return digests, kept

    # ------------------------------------------------------------------ reading

    def _download(self, obj: S3Object) -> tuple[str, bytes] | None:
        """``(etag, body)`` of one object, or ``None`` if it was deleted after listing."""
        uri = self._uri(obj.key)
        for attempt in range(1, _READ_ATTEMPTS + 1):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=obj.key)
            except Exception as exc:
                code = getattr(exc, "response", {}).get("Error", {}).get("Code")
                if code in ("NoSuchKey", "404"):
                    return None
                raise source_error(exc, f"downloading {uri}") from exc
            body = response["Body"]
            try:
                return str(response.get("ETag") or obj.etag), bytes(body.read())
            except Exception as exc:  # a connection dropped mid-body: botocore does not retry those
                if attempt == _READ_ATTEMPTS:
                    raise source_error(exc, f"downloading {uri}") from exc
            finally:
                body.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch(self, obj: S3Object) -> _Fetched:
        uri = self._uri(obj.key)
        downloaded = self._download(obj)
        if downloaded is None:
            return _Fetched(obj, obj.etag, 0, [Rejection(uri, None, "object disappeared between listing and download")], 0)
        etag, data = downloaded
        items: list[LoaderItem] = []
        outside = 0
        for item in records_from_stream(io.BytesIO(data), uri):
            if isinstance(item, SourceRecord) and self.window.holds(item.record) is False:
                outside += 1
                continue
            items.append(item)
        # The bytes that were downloaded and read, for the load's record (an ETag is not a hash of them for multipart uploads).
        items.append(InputDigest(uri, hashlib.sha256(data).hexdigest(), len(data)))
        return _Fetched(obj, etag, len(data), items, outside)

    def _emit(self, fetched: _Fetched) -> Iterator[LoaderItem]:
        uri = self._uri(fetched.obj.key)
        self.progress.downloaded += 1
        self.progress.downloaded_bytes += fetched.size
        self.progress.outside_window += fetched.outside
        self._fetched[uri] = (fetched.etag, fetched.size, fetched.outside == 0)
        self._notify()
        yield from fetched.items

    def _notify(self) -> None:
        if self.on_progress is not None:
            self.on_progress()

    def __iter__(self) -> Iterator[LoaderItem]:
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="keytrail-s3")
        try:
            digests, wanted = self.select(self.list_slice(pool))
            self._notify()
            for obj in digests:
                yield SkippedFile(self._uri(obj.key), "CloudTrail digest file")
            pending: deque[Future[_Fetched]] = deque()
            for obj in wanted:
                pending.append(pool.submit(self._fetch, obj))
                if len(pending) >= self.max_in_flight:
                    yield from self._emit(pending.popleft().result())
            while pending:
                yield from self._emit(pending.popleft().result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def origins_loaded(self, origins: list[str]) -> None:
        """Told by the load which origins are now stored completely: record those objects.

        An object with records outside the time window is not recorded: a later load
        with a wider window must read it again.
        """
        rows: list[tuple[str, str, int]] = []
        for origin in origins:
            found = self._fetched.pop(origin, None)
            if found is not None and found[2]:
                rows.append((origin, found[0], found[1]))
        if rows and self.manifest is not None:
            self.manifest.record(rows)

    def total_files(self) -> int | None:
        """The objects to download, once listed."""
        return self.progress.to_download if self.progress.listing_done else None

    def as_dict(self) -> dict[str, Any]:
        """The target and :attr:`progress`'s counters, for ``load --json``."""
        return {"target": self.target, "kind": self.kind, **self.progress.as_dict()}

    def summary(self) -> str:
        """What was listed, downloaded and skipped, and the records left out by the window."""
        p = self.progress
        return (
            f"{self.target}: {p.listed:,} log files listed ({megabytes(p.listed_bytes)}) with {p.list_requests:,} list requests; "
            f"{p.downloaded:,} downloaded ({megabytes(p.downloaded_bytes)}), {p.already_loaded:,} already loaded, "
            f"{p.pruned:,} delivered outside the window; {p.outside_window:,} records outside the window "
            "not loaded (not counted as read)."
        )


def _reconcile(flag: str, fixed: str | None, asked: Sequence[str]) -> tuple[str, ...]:
    """A value fixed by the prefix must agree with the option asking for it."""
    if fixed is None:
        return tuple(asked)
    if asked and fixed not in asked:
        raise SourceError(f"the prefix names {fixed} but {flag} asks for {', '.join(asked)}")
    return (fixed,)


def _open(target: str, options: SourceOptions, manifest: OriginManifest | None) -> S3Source:
    with aws_errors(f"preparing to read {target}"):
        session = aws_session(options.profile)
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


#: A trail's bucket, ``s3://BUCKET[/PREFIX]``.
KIND = SourceKind(
    name="s3",
    scheme="s3://",
    usage="s3://BUCKET or s3://BUCKET/PREFIX",
    options=frozenset({"window", "accounts", "regions", "org_id", "profile", "workers", "margin_days", "max_attempts"}),
    open=_open,
)
