"""``blast-radius --evidence DIR``: the records behind a blast radius, for a ticket or a legal hold.

The folder holds, owner-only (``0700``, files ``0600``):

* ``records.jsonl``: one line per event of the timeline, in time order: ``eventID``, ``eventTime``, ``source``
  (the file or object it was read from), ``sourceIndex`` (its position there), ``sourceSha256`` (of the source
  as the load read it, when the store's load runs kept it), ``recordSha256`` (keytrail's fingerprint of the
  record: SHA-256 of its JSON with sorted keys) and ``record``: the record as it was read, as a string, exactly
  the text ``keytrail event ID --raw`` prints (session tokens redacted);
* ``manifest.json``: the key, the incident, when and by which keytrail it was made, the store, the counts,
  the sources with their SHA-256 and size, and the events whose record the store did not keep;
* ``SHA256SUMS``: the two files' SHA-256, in the form ``sha256sum -c SHA256SUMS`` checks.

A folder that exists and is not empty is refused: evidence is never written over.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from keytrail import __version__
from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query
from keytrail.report.model import BlastRadius

#: Event ids sent to the store per query.
_CHUNK = 1_000


class EvidenceError(RuntimeError):
    """The evidence folder cannot be written; the message names it and why."""


def source_digests(backend: Backend) -> dict[str, tuple[str, int]]:
    """Each source's SHA-256 and size, as the store's load runs kept them (``sha256:<hex> <bytes> <origin>``)."""
    digests: dict[str, tuple[str, int]] = {}
    for run in run_query(backend, "load-runs"):
        for entry in run["inputDigests"] or []:
            digest, size, origin = str(entry).split(" ", 2)
            digests.setdefault(origin, (digest.removeprefix("sha256:"), int(size)))
    return digests


def write_evidence(backend: Backend, report: BlastRadius, folder: Path, store: str) -> dict[str, Any]:
    """Write the evidence folder of a blast radius; returns its manifest.

    Raises:
        EvidenceError: the folder exists and is not empty, or cannot be made.
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise EvidenceError(f"{folder} exists and is not an empty folder: evidence is never written over; name a new folder")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    except OSError as exc:
        raise EvidenceError(f"{folder}: cannot make the folder: {exc.strerror or exc}") from None
    ids = [event.eventID for event in report.timeline]
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), _CHUNK):
        rows += run_query(backend, "event-records", {"eventIDs": ids[start : start + _CHUNK]})
    rows.sort(key=lambda row: (row["eventTime"], row["eventID"]))
    digests = source_digests(backend)
    lines = []
    for row in rows:
        sha, _ = digests.get(row["source"], (None, 0))
        entry = {k: row[k] for k in ("eventID", "eventTime", "source", "sourceIndex")} | {
            "sourceSha256": sha,
            "recordSha256": row["recordSha256"],
            "record": row["raw"],
        }
        lines.append(orjson.dumps(entry))
    records = b"".join(line + b"\n" for line in lines)
    sources = sorted({row["source"] for row in rows if row["source"] is not None})
    manifest: dict[str, Any] = {
        "key": report.key,
        "incident": report.incident,
        "produced_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "keytrail_version": __version__,
        "store": store,
        "events": len(rows),
        "timeline_events": len(ids),
        "not_kept": sorted({row["eventID"] for row in rows if row["raw"] is None} | (set(ids) - {row["eventID"] for row in rows})),
        "sources": [{"source": s, "sha256": digests[s][0] if s in digests else None, "size": digests[s][1] if s in digests else None} for s in sources],
    }
    manifest_bytes = orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n"
    files = {"records.jsonl": records, "manifest.json": manifest_bytes}
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items()).encode()
    for name, data in files.items():
        descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    return manifest
