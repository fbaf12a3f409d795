"""Write records the ways CloudTrail and its consumers deliver them.

- :func:`write_s3_layout`: the trail's S3 bucket layout (gzip log files per
  account, region and 5-minute window, plus hourly digest files).
- :func:`write_jsonl`: one record per line (CloudWatch Logs / Lake exports).
- :func:`write_lookup_events`: ``aws cloudtrail lookup-events`` output.
- :func:`write_eventbridge`: EventBridge events, one JSON object per line.

All output is deterministic (gzip mtime 0, seeded random file-name suffixes).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Record = dict[str, Any]

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_WINDOW = 300  # seconds: CloudTrail delivers about every 5 minutes


def _epoch(event_time: str) -> int:
    return int(datetime.strptime(event_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class _Bucket:
    lines: list[str] = field(default_factory=list)
    oldest: str = ""
    newest: str = ""

    def add(self, line: str, event_time: str) -> None:
        self.lines.append(line)
        if not self.oldest or event_time < self.oldest:
            self.oldest = event_time
        if not self.newest or event_time > self.newest:
            self.newest = event_time


@dataclass(frozen=True)
class _LogFile:
    account: str
    region: str
    delivered: int
    key: str
    sha256: str
    oldest: str
    newest: str


def write_s3_layout(
    records: Iterable[Record],
    root: Path,
    *,
    org_id: str | None = None,
    duplicate_every: int = 0,
    seed: int = 0,
    trail_name: str = "management-events",
    bucket: str = "aws-cloudtrail-logs-keytrail",
    max_records_per_file: int = 5_000,
    max_buffered: int = 200_000,
) -> list[Path]:
    """Write ``records`` under ``root`` as a trail's S3 bucket holds them.

    Log files: ``AWSLogs/[<org_id>/]<acct>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
    <acct>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 alnum>.json.gz``, each a gzip
    of ``{"Records": [...]}`` holding one 5-minute window of one account
    (``recipientAccountId``) and region (``awsRegion``), in random order; the
    timestamp is the window's end (delivery time). A window with more than
    ``max_records_per_file`` records, or still open when ``max_buffered``
    records are held, is split across several files, as CloudTrail does.

    ``duplicate_every=k > 0``: every k-th record (1-based position in
    ``records``) is delivered a second time, identical (same eventID), in a
    different file of the same window.

    Digest files (hourly, per account and region, listing the log files
    delivered in that hour): ``AWSLogs/[<org_id>/]<acct>/CloudTrail-Digest/
    <region>/<YYYY>/<MM>/<DD>/<acct>_CloudTrail-Digest_<region>_<trail>_<region>_
    <YYYYMMDDTHHMMSSZ>.json.gz``. They are not events: loaders must skip them.

    Returns every file written (log files and digests), sorted.
    """
    rng = random.Random(seed)
    prefix = Path("AWSLogs") / org_id if org_id else Path("AWSLogs")
    buckets: dict[tuple[str, str, int, int], _Bucket] = {}
    buffered = 0
    written: list[_LogFile] = []
    paths: list[Path] = []

    def flush(key: tuple[str, str, int, int]) -> None:
        nonlocal buffered
        data = buckets.pop(key)
        buffered -= len(data.lines)
        account, region, window, _copy = key
        delivered = window + _WINDOW
        when = _utc(delivered)
        suffix = "".join(rng.choice(_ALNUM) for _ in range(16))
        rel = (
            prefix
            / account
            / "CloudTrail"
            / region
            / f"{when:%Y}"
            / f"{when:%m}"
            / f"{when:%d}"
            / f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{suffix}.json.gz"
        )
        lines = data.lines
        rng.shuffle(lines)
        body = ('{"Records":[' + ",".join(lines) + "]}").encode("utf-8")
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(body, compresslevel=6, mtime=0))
        paths.append(path)
        written.append(_LogFile(account, region, delivered, rel.as_posix(), hashlib.sha256(body).hexdigest(), data.oldest, data.newest))

    def put(key: tuple[str, str, int, int], line: str, event_time: str) -> None:
        nonlocal buffered
        data = buckets.get(key)
        if data is None:
            data = buckets[key] = _Bucket()
        data.add(line, event_time)
        buffered += 1
        if len(data.lines) >= max_records_per_file:
            flush(key)

    windows: dict[str, int] = {}
    for position, record in enumerate(records, start=1):
        event_time = str(record["eventTime"])
        account = str(record.get("recipientAccountId") or record["userIdentity"].get("accountId"))
        region = str(record.get("awsRegion") or "us-east-1")
        minute = event_time[:16]
        window = windows.get(minute, -1)
        if window < 0:
            window = windows[minute] = _epoch(minute[:16] + ":00Z") // _WINDOW * _WINDOW
        line = json.dumps(record, separators=(",", ":"))
        put((account, region, window, 0), line, event_time)
        if duplicate_every > 0 and position % duplicate_every == 0:
            put((account, region, window, 1), line, event_time)
        if buffered >= max_buffered:
            for key in sorted(buckets):
                flush(key)
    for key in sorted(buckets):
        flush(key)

    paths.extend(_write_digests(written, root, prefix, rng, trail_name, bucket))
    return sorted(paths)


def _write_digests(files: list[_LogFile], root: Path, prefix: Path, rng: random.Random, trail: str, bucket: str) -> list[Path]:
    groups: dict[tuple[str, str, int], list[_LogFile]] = {}
    for f in files:
        hour_end = (f.delivered + 3599) // 3600 * 3600
        groups.setdefault((f.account, f.region, hour_end), []).append(f)
    out: list[Path] = []
    previous: dict[tuple[str, str], tuple[str, str]] = {}
    for account, region, hour_end in sorted(groups):
        logs = sorted(groups[(account, region, hour_end)], key=lambda f: f.key)
        end = _utc(hour_end + 60 + rng.randint(0, 900))
        start = end - timedelta(hours=1)
        rel = (
            prefix
            / account
            / "CloudTrail-Digest"
            / region
            / f"{end:%Y}"
            / f"{end:%m}"
            / f"{end:%d}"
            / f"{account}_CloudTrail-Digest_{region}_{trail}_{region}_{end:%Y%m%dT%H%M%SZ}.json.gz"
        )
        prev = previous.get((account, region))
        prev_key, prev_hash = (prev[0], prev[1]) if prev else (None, None)
        digest: Record = {
            "awsAccountId": account,
            "digestStartTime": f"{start:%Y-%m-%dT%H:%M:%SZ}",
            "digestEndTime": f"{end:%Y-%m-%dT%H:%M:%SZ}",
            "digestS3Bucket": bucket,
            "digestS3Object": rel.as_posix(),
            "digestPublicKeyFingerprint": f"{rng.getrandbits(128):032x}",
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": max(f.newest for f in logs),
            "oldestEventTime": min(f.oldest for f in logs),
            "previousDigestS3Bucket": bucket if prev_key else None,
            "previousDigestS3Object": prev_key,
            "previousDigestHashValue": prev_hash,
            "previousDigestHashAlgorithm": "SHA-256" if prev_key else None,
            "previousDigestSignature": f"{rng.getrandbits(1024):0256x}" if prev_key else None,
            "logFiles": [
                {
                    "s3Bucket": bucket,
                    "s3Object": f.key,
                    "hashValue": f.sha256,
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": f.newest,
                    "oldestEventTime": f.oldest,
                }
                for f in logs
            ],
        }
        body = json.dumps(digest, separators=(",", ":")).encode("utf-8")
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(body, compresslevel=6, mtime=0))
        previous[(account, region)] = (rel.as_posix(), hashlib.sha256(body).hexdigest())
        out.append(path)
    return out


def write_jsonl(records: Iterable[Record], path: Path) -> int:
    """One compact JSON record per line. Returns the number written."""
    count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count


def _lookup_username(identity: Record) -> str | None:
    kind = identity.get("type")
    if kind == "IAMUser":
        name = identity.get("userName")
        return str(name) if name else None
    if kind == "Root":
        return "root"
    if kind in ("AssumedRole", "FederatedUser"):
        arn = str(identity.get("arn", ""))
        return arn.rsplit("/", 1)[-1] or None
    return None


def write_lookup_events(records: Iterable[Record], path: Path, *, management_only: bool = True) -> int:
    """``aws cloudtrail lookup-events`` output: ``{"Events": [...]}``, newest first.

    Like the real API, data events are left out unless ``management_only`` is
    false. ``ReadOnly`` is a string, ``EventTime`` ISO 8601 with an offset,
    ``CloudTrailEvent`` the record as a JSON string. Returns the number written.
    """
    events: list[tuple[str, int, Record]] = []
    for index, record in enumerate(records):
        if management_only and record.get("managementEvent") is False:
            continue
        identity: Record = record.get("userIdentity") or {}
        event: Record = {
            "EventId": record["eventID"],
            "EventName": record["eventName"],
            "ReadOnly": "true" if record.get("readOnly") else "false",
        }
        if identity.get("accessKeyId"):
            event["AccessKeyId"] = identity["accessKeyId"]
        event["EventTime"] = str(record["eventTime"]).replace("Z", "+00:00")
        event["EventSource"] = record["eventSource"]
        username = _lookup_username(identity)
        if username is not None:
            event["Username"] = username
        event["Resources"] = [{"ResourceType": r.get("type"), "ResourceName": r.get("ARN") or r.get("ARNPrefix")} for r in record.get("resources") or []]
        event["CloudTrailEvent"] = json.dumps(record, separators=(",", ":"))
        events.append((str(record["eventTime"]), index, event))
    events.sort(key=lambda e: (e[0], e[1]), reverse=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Events": [e for _, _, e in events]}, indent=4) + "\n", encoding="utf-8")
    return len(events)


_DETAIL_TYPE = {
    "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
    "AwsServiceEvent": "AWS Service Event via CloudTrail",
}


def write_eventbridge(records: Iterable[Record], path: Path) -> int:
    """EventBridge events, one per line: the record is ``detail``. Returns the number written."""
    count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            digest = hashlib.sha256(str(record["eventID"]).encode("utf-8")).hexdigest()
            event_id = f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"
            service = str(record["eventSource"]).split(".", 1)[0]
            event = {
                "version": "0",
                "id": event_id,
                "detail-type": _DETAIL_TYPE.get(str(record.get("eventType")), "AWS API Call via CloudTrail"),
                "source": f"aws.{service}",
                "account": record.get("recipientAccountId"),
                "time": record["eventTime"],
                "region": record.get("awsRegion"),
                "resources": [],
                "detail": record,
            }
            out.write(json.dumps(event, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count
