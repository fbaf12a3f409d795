"""SIGINT, SIGTERM and SIGHUP while a command holds a store: never a half-written store, never a server left running.

A load asks for a clean stop on the first signal (it finishes the record in hand, stores what it
read as whole batches, saves and reports how far it got); any other command, or a second
signal, raises :class:`Interrupted` at once, and the store is closed without saving whatever
was not a whole. Either way the command exits with 128 + the signal's number.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from keytrail.cli import exits

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """A signal stopped the command at once. A BaseException, so that no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return exits.SIGNAL_BASE + self.signum


def exit_status(signal_name: str) -> int:
    """The shell's status for a command ended by this signal: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP."""
    return exits.SIGNAL_BASE + int(signal.Signals[signal_name])


@contextmanager
def handled_signals(first: Callable[[str], None] | None = None) -> Iterator[None]:
    """Within the block, the first stop signal calls ``first(name)`` (or raises when there is none); a second raises."""
    seen: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)
        if first is None or len(seen) > 1:
            raise Interrupted(signum)
        first(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
