"""Records from local files and directory trees.

Accepts any folder layout (CloudTrail's ``AWSLogs/...`` tree, org trails, a flat
export folder). Files are opened one at a time and streamed; gzip and zip are
recognised by their content, not their name.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from keytrail.loaders.documents import is_digest_path, records_from_stream
from keytrail.loaders.records import LoaderItem, Rejection, SkippedFile

#: In a directory walk, only files named like log files are read; a file named on the
#: command line is always read.
LOG_SUFFIXES = (".json", ".gz", ".jsonl", ".ndjson", ".cloudtrail", ".zip", ".log", ".txt")


@dataclass(frozen=True, slots=True)
class FileSource:
    """Files and directories to read, in a stable order.

    Attributes:
        paths: Files or directories named by the user.
    """

    paths: Sequence[Path]

    def files(self) -> Iterator[Path]:
        """Every file to read: named files as given, directories walked recursively in sorted order."""
        for path in self.paths:
            if path.is_dir():
                for root, dirs, names in os.walk(path):
                    dirs.sort()
                    for name in sorted(names):
                        if name.startswith("."):
                            continue
                        candidate = Path(root) / name
                        if name.lower().endswith(LOG_SUFFIXES):
                            yield candidate
            else:
                yield path

    def __iter__(self) -> Iterator[LoaderItem]:
        for path in self.files():
            yield from read_file(path)


def read_file(path: Path) -> Iterator[LoaderItem]:
    """Yield the records of one file, or why it could not be read."""
    origin = str(path)
    if is_digest_path(origin):
        yield SkippedFile(origin, "CloudTrail digest file")
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield Rejection(origin, None, f"cannot open: {exc.strerror or exc}")
        return
    with handle:
        if handle.read(4) == b"PK\x03\x04":
            handle.seek(0)
            yield from _read_zip(path)
            return
        handle.seek(0)
        yield from records_from_stream(handle, origin)


def _read_zip(path: Path) -> Iterator[LoaderItem]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        yield Rejection(str(path), None, f"not a readable zip archive: {exc}")
        return
    with archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            origin = f"{path}!{member.filename}"
            if is_digest_path(member.filename):
                yield SkippedFile(origin, "CloudTrail digest file")
                continue
            try:
                with archive.open(member) as stream:
                    yield from records_from_stream(stream, origin)
            except (zipfile.BadZipFile, OSError) as exc:
                yield Rejection(origin, None, f"unreadable zip member: {exc}")
