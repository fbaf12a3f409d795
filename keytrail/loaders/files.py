"""Records from local files and directory trees.

Accepts any folder layout (CloudTrail's ``AWSLogs/...`` tree, org trails, a flat
export folder). Files are opened one at a time and streamed; zip, gzip, bzip2 and xz
are recognised by their content, not their name.

Nothing under a target is left out silently: every regular file is read, and every
other entry is reported with the reason it was not (a :class:`SkippedFile`: not a
regular file, the same file or directory reached again, a symbolic-link loop) or
could not be (a :class:`Rejection`: an unreadable directory, a dangling link).

:class:`PathSource` is a target of ``keytrail load`` read this way, and :data:`KIND` the
registry's entry for such targets (every target no other kind claims).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from keytrail.loaders.base import FilesProgress, OriginManifest, ProgressListener, SourceError, SourceKind, SourceOptions
from keytrail.loaders.documents import Budget, records_from_stream
from keytrail.loaders.records import InputDigest, LoaderItem, Rejection, SkippedFile

#: Names that say "CloudTrail log": a file so named (or named on the command line) whose
#: content is not JSON, or not CloudTrail, is unreadable (a rejection). Any other file a walk
#: finds is read all the same; if it turns out not to be CloudTrail it is skipped, with the
#: reason. Hidden files (``.name``) never claim to be logs: macOS leaves ``._name.json`` beside copies.
LOG_SUFFIXES = (".json", ".gz", ".jsonl", ".ndjson", ".cloudtrail", ".zip", ".log", ".txt", ".bz2", ".xz")

#: A local file header, an empty archive, a split archive (which zipfile then refuses, with the reason).
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_NOT_REGULAR = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
#: Opening never waits (a FIFO swapped in after the check would block a plain open).
_OPEN_FLAGS = os.O_RDONLY | _NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

_Identity = tuple[int, int]


def origin_of(path: Path | str) -> str:
    """A path as an origin, made absolute: a name that is not UTF-8 (POSIX allows any bytes) shows those bytes as ``\\xNN``.

    The origin is written to the store and the rejects file, which hold UTF-8 only; the
    path itself is kept to open the file.
    """
    # Absolute, so that the record of where evidence came from does not depend on where the load ran.
    text = os.path.abspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def claims_to_be_a_log(name: str) -> bool:
    """True when a file's name says it is a CloudTrail log (see :data:`LOG_SUFFIXES`)."""
    return not name.startswith(".") and name.lower().endswith(LOG_SUFFIXES)


@dataclass(frozen=True, slots=True)
class _ToRead:
    path: Path
    claimed: bool


@dataclass(frozen=True, slots=True)
class _Directory:
    path: Path
    identity: _Identity
    #: Its entries' names, sorted, or why it cannot be listed.
    listing: list[str] | Rejection


@dataclass(frozen=True, slots=True)
class FileSource:
    """Files and directories to read, in a stable order.

    Attributes:
        paths: Files or directories named by the user.
    """

    paths: Sequence[Path]

    def files(self) -> Iterator[Path]:
        """Every file that will be read: named files as given, directories walked recursively in sorted order."""
        for entry in self._entries():
            if isinstance(entry, _ToRead):
                yield entry.path

    def __iter__(self) -> Iterator[LoaderItem]:
        return self.read()

    def read(self, on_file_read: Callable[[], None] | None = None) -> Iterator[LoaderItem]:
        """The items of every file in :meth:`files` order, and why other entries are not read.

        Args:
            on_file_read: Told after each file is read to the end (for a progress count).
        """
        for entry in self._entries():
            if isinstance(entry, _ToRead):
                yield from _read_regular(entry.path, claimed=entry.claimed)
                if on_file_read is not None:
                    on_file_read()
            else:
                yield entry

    def _entries(self) -> Iterator[_ToRead | LoaderItem]:
        walk = _Walk()
        for path in self.paths:
            yield from walk.visit(path, named=True, ancestors=frozenset())


class _Walk:
    """One walk over the targets: what it has seen, so that nothing is read twice and no loop is followed."""

    def __init__(self) -> None:
        self.files: dict[_Identity, str] = {}
        self.directories: dict[_Identity, str] = {}

    def visit(self, path: Path, *, named: bool, ancestors: frozenset[_Identity]) -> Iterator[_ToRead | LoaderItem]:
        """The entries of one target: a file, or a whole tree, depth first, each directory's files before its subdirectories."""
        found = self._classify(path, named, ancestors)
        pending: list[tuple[_Directory, frozenset[_Identity]]] = []
        if isinstance(found, _Directory):
            pending.append((found, ancestors))
        else:
            yield found
        while pending:
            directory, above = pending.pop()
            if isinstance(directory.listing, Rejection):
                yield directory.listing
                continue
            inner = above | {directory.identity}
            subdirectories: list[_Directory] = []
            for name in directory.listing:
                child = self._classify(directory.path / name, False, inner)
                if isinstance(child, _Directory):
                    subdirectories.append(child)
                else:
                    yield child
            pending.extend((child, inner) for child in reversed(subdirectories))

    def _classify(self, path: Path, named: bool, ancestors: frozenset[_Identity]) -> _ToRead | LoaderItem | _Directory:
        """A file to read, why an entry is not read, or a directory to walk."""
        origin = origin_of(path)
        try:
            info = os.stat(path)
        except OSError as exc:
            return _unreachable(path, exc)
        identity = (info.st_dev, info.st_ino)
        if stat.S_ISDIR(info.st_mode):
            if identity in ancestors:
                return SkippedFile(origin, f"symlink loop: leads back to {self.directories[identity]}")
            if identity in self.directories:
                return SkippedFile(origin, f"the same directory as {self.directories[identity]}, read once")
            self.directories[identity] = origin
            try:
                with os.scandir(path) as entries:
                    return _Directory(path, identity, sorted(entry.name for entry in entries))
            except OSError as exc:
                return _Directory(path, identity, Rejection(origin, None, f"cannot read directory: {exc.strerror or exc}"))
        if not stat.S_ISREG(info.st_mode):
            return SkippedFile(origin, f"not a regular file ({_kind(info.st_mode)}): never opened")
        if identity in self.files:
            return SkippedFile(origin, f"the same file as {self.files[identity]}, read once")
        self.files[identity] = origin
        return _ToRead(path, named or claims_to_be_a_log(path.name))


def _kind(mode: int) -> str:
    return next((kind for test, kind in _NOT_REGULAR if test(mode)), "not a file nor a directory")


def _unreachable(path: Path, exc: OSError) -> LoaderItem:
    origin = origin_of(path)
    if exc.errno == errno.ELOOP:
        return SkippedFile(origin, "symlink loop: the link never reaches a file")
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return Rejection(origin, None, f"dangling symlink: {origin_of(os.readlink(path))} does not exist")
    return Rejection(origin, None, f"cannot open: {exc.strerror or exc}")


def read_file(path: Path, *, claimed: bool = True) -> Iterator[LoaderItem]:
    """Yield the records of one file, or why it could not be read.

    Args:
        path: The file.
        claimed: Its name says it is a log, or the user named it: content that is not
            CloudTrail is then rejected, not skipped.
    """
    origin = origin_of(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        yield _unreachable(path, exc)
        return
    if stat.S_ISDIR(info.st_mode):
        yield Rejection(origin, None, "cannot open: Is a directory")
        return
    if not stat.S_ISREG(info.st_mode):
        yield SkippedFile(origin, f"not a regular file ({_kind(info.st_mode)}): never opened")
        return
    yield from _read_regular(path, claimed=claimed)


def _read_regular(path: Path, *, claimed: bool) -> Iterator[LoaderItem]:
    """Read a file found to be regular; checked again once open, in case it was replaced since."""
    origin = origin_of(path)
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        yield Rejection(origin, None, f"cannot open: {exc.strerror or exc}")
        return
    opened = os.fstat(descriptor)
    if not stat.S_ISREG(opened.st_mode):
        os.close(descriptor)
        yield SkippedFile(origin, f"not a regular file ({_kind(opened.st_mode)}): it changed while being opened")
        return
    if _NONBLOCK:
        os.set_blocking(descriptor, True)
    with os.fdopen(descriptor, "rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        if head.startswith(_ZIP_MAGICS):
            yield from _read_zip(handle, path, opened.st_size)
        else:
            yield from records_from_stream(handle, origin, unclaimed=not claimed)
        # The bytes of the file that was read (this descriptor, even if the path was replaced since), for the load's record.
        handle.seek(0)
        digest = hashlib.file_digest(handle, "sha256")
        yield InputDigest(origin, digest.hexdigest(), handle.tell())


def _read_zip(handle: IO[bytes], path: Path, size: int) -> Iterator[LoaderItem]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield Rejection(origin_of(path), None, f"not a readable zip archive: {exc}")
        return
    with archive:
        members = [member for member in archive.infolist() if not member.is_dir()]
        if not members:
            yield SkippedFile(origin_of(path), "zip archive holds no files")
            return
        # One budget for the archive, against the compressed bytes of the members opened so far
        # (never more than the archive's size): members that share data (an overlapping-entry bomb) are not counted twice.
        stored = 0
        budget = Budget(lambda: min(stored, size))
        for member in members:
            origin = f"{origin_of(path)}!{member.filename}"
            stored += member.compress_size
            try:
                with archive.open(member) as stream:
                    yield from records_from_stream(stream, origin, budget=budget, unclaimed=not claims_to_be_a_log(Path(member.filename).name))
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
                # RuntimeError: an encrypted member; NotImplementedError: a compression method zipfile lacks.
                yield Rejection(origin, None, f"unreadable zip member: {exc}")


# --------------------------------------------------------------------------- the source


class PathSource:
    """One local file or directory as a :class:`~keytrail.loaders.base.Source`.

    Args:
        target: The path as typed.
        files: What to read; default the target itself.
    """

    kind = "path"
    warnings: tuple[str, ...] = ()

    def __init__(self, target: str, files: FileSource | None = None) -> None:
        self.target = target
        self.files = files or FileSource([Path(target)])
        self.progress = FilesProgress()
        self.on_progress: ProgressListener | None = None
        self._total: int | None = None

    def __iter__(self) -> Iterator[LoaderItem]:
        return self.files.read(on_file_read=self._file_read)

    def _file_read(self) -> None:
        self.progress.files_done += 1
        if self.on_progress is not None:
            self.on_progress()

    def total_files(self) -> int:
        """The files under the target, counted by one walk before any is read (a walk is quick beside reading)."""
        if self._total is None:
            self._total = sum(1 for _ in self.files.files())
        return self._total

    def origins_loaded(self, origins: list[str]) -> None:
        """Nothing to remember: a repeated load reads files again, and finds their records stored already."""

    def as_dict(self) -> None:
        """Nothing beyond the load's own counts (files, skipped, unreadable)."""
        return None

    def summary(self) -> None:
        """Nothing beyond the load's own line."""
        return None


def _check_exists(target: str) -> None:
    if not Path(target).exists():
        raise SourceError(f"no such file or directory: {target}")


def _open(target: str, options: SourceOptions, manifest: OriginManifest | None) -> PathSource:
    return PathSource(target)


#: Local files and directories: every target no other kind claims. Files are read whole, so no option applies.
KIND = SourceKind(name="path", scheme=None, usage="Files or directories (walked recursively)", options=frozenset(), open=_open, refuse_target=_check_exists)
