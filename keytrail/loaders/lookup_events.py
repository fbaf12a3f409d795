"""Records from the CloudTrail ``LookupEvents`` API (the last 90 days of management events).

One call series per region, and per access key when ``--key`` is given (the API takes
one lookup attribute per call). Each region is held to the API's rate limit of two
requests per second by a token bucket; throttling beyond that is retried by botocore.
Records come from each event's ``CloudTrailEvent`` string, so they are the same
records the trail's files hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from keytrail.loaders.aws import aws_errors, aws_session, client_config, source_error
from keytrail.loaders.base import OriginManifest, ProgressListener, SourceError, SourceKind, SourceOptions, TimeWindow
from keytrail.loaders.records import LoaderItem, Rejection, SourceRecord

#: LookupEvents allows two requests per second per account and region.
REQUESTS_PER_SECOND = 2.0
#: The largest page LookupEvents returns.
PAGE_SIZE = 50


class TokenBucket:
    """At most ``rate`` acquisitions per second, with bursts of at most ``burst``.

    Args:
        rate: Tokens added per second.
        burst: The most tokens held (the bucket starts full).
        clock: Monotonic seconds; injectable for tests.
        sleep: Waits a number of seconds; injectable for tests.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self) -> float:
        """Take one token, waiting until one is available; return the seconds waited."""
        self._refill()
        waited = 0.0
        while self._tokens < 1.0:
            delay = (1.0 - self._tokens) / self.rate
            self._sleep(delay)
            waited += delay
            self._refill()
        self._tokens -= 1.0
        return waited


@dataclass(slots=True)
class LookupProgress:
    """Requests made and events received so far."""

    requests: int = 0
    events: int = 0
    outside_window: int = 0
    waited_seconds: float = 0.0

    @property
    def files_done(self) -> int:
        """LookupEvents reads no files."""
        return 0

    def words(self) -> str:
        """The requests made."""
        return f"{self.requests:,} LookupEvents requests"

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "events": self.events, "outside_window": self.outside_window}


class LookupEventsSource:
    """Loader items from ``LookupEvents`` in one or more regions.

    Args:
        clients: A boto3 CloudTrail client per region.
        window: Passed as StartTime/EndTime; records outside it are dropped and counted.
        keys: Access key ids, each looked up with its own call series; empty: every event.
        rate: Requests per second per region.
        clock: Monotonic clock for the rate limiter (tests).
        sleep: Sleep for the rate limiter (tests).
        on_progress: Told after each page.
    """

    kind = "lookup-events"
    warnings: tuple[str, ...] = ()

    def __init__(
        self,
        clients: Mapping[str, Any],
        *,
        window: TimeWindow | None = None,
        keys: Sequence[str] = (),
        rate: float = REQUESTS_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_progress: ProgressListener | None = None,
    ) -> None:
        if not clients:
            raise SourceError("lookup-events needs at least one region")
        self.clients = dict(clients)
        self.window = window or TimeWindow()
        self.keys = tuple(keys)
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self.on_progress = on_progress
        self.progress = LookupProgress()
        self.target = "lookup-events"

    def _requests(self) -> list[dict[str, Any]]:
        base: dict[str, Any] = {"MaxResults": PAGE_SIZE}
        if self.window.start is not None:
            base["StartTime"] = self.window.start
        if self.window.end is not None:
            base["EndTime"] = self.window.end
        if not self.keys:
            return [base]
        return [base | {"LookupAttributes": [{"AttributeKey": "AccessKeyId", "AttributeValue": key}]} for key in self.keys]

    def __iter__(self) -> Iterator[LoaderItem]:
        for region, client in self.clients.items():
            origin = f"lookup-events:{region}"
            limiter = TokenBucket(self.rate, clock=self._clock, sleep=self._sleep)
            index = 0
            for request in self._requests():
                params = dict(request)
                while True:
                    self.progress.waited_seconds += limiter.acquire()
                    try:
                        page = client.lookup_events(**params)
                    except Exception as exc:
                        raise source_error(exc, f"calling CloudTrail LookupEvents in {region}") from exc
                    self.progress.requests += 1
                    for event in page.get("Events") or []:
                        item = _item(origin, index, event)
                        index += 1
                        if isinstance(item, SourceRecord) and self.window.holds(item.record) is False:
                            self.progress.outside_window += 1
                            continue
                        self.progress.events += 1
                        yield item
                    if self.on_progress is not None:
                        self.on_progress()
                    token = page.get("NextToken")
                    if not token:
                        break
                    params["NextToken"] = token

    def total_files(self) -> None:
        """LookupEvents reads no files, and does not say how many events a call series returns."""
        return None

    def origins_loaded(self, origins: list[str]) -> None:
        """Nothing to remember: a repeated load asks the API again."""

    def as_dict(self) -> dict[str, Any]:
        """The target and :attr:`progress`'s counters, for ``load --json``."""
        return {"target": self.target, "kind": self.kind, **self.progress.as_dict()}

    def summary(self) -> str:
        """The requests made and the events received."""
        p = self.progress
        return f"lookup-events: {p.requests:,} requests, {p.events:,} events; {p.outside_window:,} outside the window."


def _item(origin: str, index: int, event: Any) -> LoaderItem:
    text = event.get("CloudTrailEvent") if isinstance(event, dict) else None
    raw = {k: v for k, v in event.items() if k != "CloudTrailEvent"} if isinstance(event, dict) else event
    if not isinstance(text, str):
        return Rejection(origin, index, "LookupEvents entry without a CloudTrailEvent string", raw)
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return Rejection(origin, index, f"CloudTrailEvent is not JSON: {exc}", text[:2000])
    if not isinstance(record, dict):
        return Rejection(origin, index, "CloudTrailEvent is not a JSON object", text[:2000])
    return SourceRecord(origin, index, record)


def _open(target: str, options: SourceOptions, manifest: OriginManifest | None) -> LookupEventsSource:
    with aws_errors(f"preparing to read {target}"):
        session = aws_session(options.profile)
        regions = options.regions or (session.region_name or "us-east-1",)
        clients = {region: session.client("cloudtrail", region_name=region, config=client_config(options.max_attempts)) for region in regions}
        return LookupEventsSource(clients, window=options.window, keys=options.keys)


#: The CloudTrail LookupEvents API, named ``lookup-events``.
KIND = SourceKind(
    name="lookup-events",
    scheme="lookup-events",
    usage="lookup-events",
    options=frozenset({"window", "regions", "profile", "keys", "max_attempts"}),
    open=_open,
)
