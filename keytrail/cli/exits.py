"""Every exit status of ``keytrail``, in one place: docs/cli.md shows this table, and a test keeps the two equal."""

from __future__ import annotations

#: The command did what was asked.
OK = 0
#: What was asked for is not there, or not all of it went in: a key, event or incident the store lacks, records
#: rejected by a load (kept in its rejects file), a bulk load refused or failed, a worker process that failed.
NOT_ALL = 1
#: The command line is wrong: an unknown option or query, a bad value, ``reset`` without ``--yes``.
USAGE = 2
#: The store cannot be reached, or failed during the command.
STORE = 3
#: A source cannot be read at all: a missing path, access denied, a missing bucket or table, throttled for good.
SOURCE = 4
#: Standard output was closed before the output was all written (``keytrail findings | head``): nothing is
#: printed, as ``cat`` or ``seq`` end on SIGPIPE.
BROKEN_PIPE = 141
#: Added to a signal's number when SIGINT (130), SIGTERM (143) or SIGHUP (129) stopped the command.
SIGNAL_BASE = 128

#: The table docs/cli.md shows: status, name, meaning.
EXIT_CODES: tuple[tuple[str, str, str], ...] = (
    (str(OK), "OK", "the command did what was asked"),
    (
        str(NOT_ALL),
        "NOT_ALL",
        "not found or not all loaded: the key, event or incident is not in the store; records were rejected "
        "(see the rejects file); a bulk load was refused or its import failed",
    ),
    (str(USAGE), "USAGE", "the command line is wrong: unknown option or query, bad value, `reset` without `--yes`"),
    (str(STORE), "STORE", "the store cannot be reached, or failed during the command"),
    (str(SOURCE), "SOURCE", "a source cannot be read: missing path, access denied, missing bucket or table, throttled"),
    ("128 + n", "SIGNAL_BASE", "stopped by signal n: 130 SIGINT, 143 SIGTERM, 129 SIGHUP (a load saves what it read first)"),
    (str(BROKEN_PIPE), "BROKEN_PIPE", "standard output was closed early (`keytrail findings` piped to `head`); nothing is printed"),
)
