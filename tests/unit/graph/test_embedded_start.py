"""A start of the embedded server that refuses its first connection is tried again, a bounded number of times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from keytrail.graph.backends import FalkorDBBackend


def _backend(tmp_path: Path) -> FalkorDBBackend:
    backend = object.__new__(FalkorDBBackend)  # only _start is under test: no server is started
    backend.location = str(tmp_path / "keytrail.db")
    return backend


def test_a_refused_first_connection_is_tried_again(tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    def flaky(location: str, **options: Any) -> str:
        calls.append(options)
        if len(calls) < 3:
            raise RedisConnectionError("Connection refused")
        return f"started {location}"

    assert _backend(tmp_path)._start(flaky, retry="once") == f"started {tmp_path / 'keytrail.db'}"
    assert len(calls) == 3 and all(c["retry"] == "once" and c["serverconfig"]["save"] == '""' for c in calls)


def test_a_server_that_never_answers_is_an_error_after_the_attempts(tmp_path: Path) -> None:
    calls = 0

    def dead(location: str, **options: Any) -> str:
        nonlocal calls
        calls += 1
        raise RedisConnectionError("Connection refused")

    with pytest.raises(RedisConnectionError):
        _backend(tmp_path)._start(dead, retry=None, attempts=2)
    assert calls == 2
