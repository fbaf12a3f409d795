"""Records piped to ``keytrail load -``: one stream on standard input, read as a file is.

A responder often has the records in a pipe already (``aws s3 cp s3://…/file.json.gz -``,
``jq`` over an export, ``zcat``). The stream is read like one local file: JSON, JSON lines, gzip,
bzip2 or xz recognised by its content (zip needs to seek, so a zip archive is rejected with the
reason). Its origin is ``<stdin>``; its SHA-256 and size are of the bytes read, as for a file.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator
from typing import IO

from keytrail.loaders.base import FilesProgress, OriginManifest, ProgressListener, SourceKind, SourceOptions
from keytrail.loaders.documents import records_from_stream
from keytrail.loaders.records import InputDigest, LoaderItem

#: The target that names standard input, and the origin its records carry.
TARGET = "-"
ORIGIN = "<stdin>"


class _Hashed:
    """A stream that hashes and counts the bytes read through it (standard input cannot be read twice)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


class StdinSource:
    """Standard input as a :class:`~keytrail.loaders.base.Source`.

    Args:
        stream: What to read; default the process's standard input.
    """

    kind = "stdin"
    target = TARGET
    warnings: tuple[str, ...] = ()

    def __init__(self, stream: Callable[[], IO[bytes]] | None = None) -> None:
        self._stream = stream or (lambda: sys.stdin.buffer)
        # Standard input is one file: done once it has been read to the end.
        self.progress = FilesProgress()
        self.on_progress: ProgressListener | None = None

    def __iter__(self) -> Iterator[LoaderItem]:
        hashed = _Hashed(self._stream())
        yield from records_from_stream(hashed, ORIGIN)
        # The decoder may stop before the end (a single JSON document is parsed whole): hash what is left too.
        while hashed.read(1 << 20):
            pass
        yield InputDigest(ORIGIN, hashed.digest.hexdigest(), hashed.size)
        self.progress.files_done = 1
        if self.on_progress is not None:
            self.on_progress()

    def total_files(self) -> int:
        return 1

    def origins_loaded(self, origins: list[str]) -> None:
        """Nothing to remember: standard input is read once."""

    def as_dict(self) -> None:
        return None

    def summary(self) -> None:
        return None


def _open(target: str, options: SourceOptions, manifest: OriginManifest | None) -> StdinSource:
    return StdinSource()


#: ``-``: the records on standard input. Read whole, so no option applies.
KIND = SourceKind(name="stdin", scheme=TARGET, usage="- (records on standard input: JSON, JSON lines, gzip, bzip2 or xz)", options=frozenset(), open=_open)
