"""Starting the embedded server: a socket that refuses at first is waited for; a server that cannot start, or takes too long
to read the store, is one clear error and leaves nothing running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psutil
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.graph import embedded
from keytrail.graph.backends import BackendError, FalkorDBBackend


def _servers_of(home: Path) -> list[int]:
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == "redis-server" and Path(process.cwd()) == home:
                found.append(process.pid)
        except psutil.Error:
            continue
    return found


def _nothing_left(home: Path) -> None:
    assert _servers_of(home) == []
    assert not (home / embedded.STATE).exists()


def test_a_socket_that_refuses_at_first_is_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a busy machine the socket appears before the server listens: the start tries again instead of failing."""
    real = embedded._connect
    refused = 0

    class Refusing:
        def __init__(self, socket: str) -> None:
            self.client = real(socket)

        def info(self, *args: Any) -> Any:
            nonlocal refused
            if refused < 2:
                refused += 1
                raise RedisConnectionError("Connection refused")
            return self.client.info(*args)

        def close(self) -> None:
            self.client.close()

    connects: list[str] = []

    def connect(socket: str, timeout: float | None = embedded.CHECK_TIMEOUT_SECONDS) -> Any:
        connects.append(socket)
        return Refusing(socket) if len(connects) <= 2 else real(socket, timeout)

    monkeypatch.setattr(embedded, "_connect", connect)
    backend = FalkorDBBackend(tmp_path / "home", idle_seconds=0)
    try:
        assert refused == 2 and len(connects) >= 3  # (the real server may refuse too, before it listens)
        assert backend._server.client.ping()
    finally:
        backend.close()
    _nothing_left(tmp_path / "home")


def test_a_server_that_cannot_read_the_store_is_one_line_and_leaves_nothing_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYTRAIL_STORE_WAIT_SECONDS", "30")  # what a server that died must not be waited for
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / embedded.SNAPSHOT).write_bytes(b"REDIS0011 this is not a snapshot")
    with pytest.raises(BackendError, match="stopped as it started") as raised:
        FalkorDBBackend(home, idle_seconds=60)
    # What the server said before it died, in one line.
    assert "\n" not in str(raised.value) and "Unexpected EOF reading RDB file" in str(raised.value) and "keytrail.db is damaged" in str(raised.value)
    _nothing_left(home)
    result = CliRunner().invoke(app, ["--home", str(home), "stats"], env={"NEO4J_URI": None, "KEYTRAIL_STORE_IDLE_SECONDS": "60"})
    assert result.exit_code == 3 and "Traceback" not in result.output, result.output
    assert "error: the embedded store's server" in result.output
    _nothing_left(home)


def test_a_store_still_being_read_after_the_wait_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that is still reading the snapshot (redis answers LOADING) is waited for, a bounded time; then one line, exit 3.

    With an idle time the server, clean, stays and goes on reading: the next command uses it.
    """
    import redis

    info = redis.Redis.info

    def loading(self: redis.Redis, section: str | None = None, *args: str, **kwargs: Any) -> Any:
        if section == "persistence":
            return {"loading": 1, "loading_loaded_perc": "42.00"}
        return info(self, section, *args, **kwargs)

    home = tmp_path / "home"
    env = {"NEO4J_URI": None, "KEYTRAIL_STORE_IDLE_SECONDS": "60", "KEYTRAIL_STORE_WAIT_SECONDS": "0.3"}
    with monkeypatch.context() as patched:
        patched.setattr(redis.Redis, "info", loading)
        result = CliRunner().invoke(app, ["--home", str(home), "stats"], env=env)
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert "error: the embedded store's server is still reading" in result.output and "(42.00% read)" in result.output
    assert "run the command again in a while" in result.output
    [kept] = _servers_of(home)
    again = FalkorDBBackend(home, idle_seconds=0)
    try:
        assert again.server_pid == kept and not again.started_server
    finally:
        again.close()
    _nothing_left(home)


def test_the_settings_must_be_seconds(tmp_path: Path) -> None:
    for name in ("KEYTRAIL_STORE_IDLE_SECONDS", "KEYTRAIL_STORE_WAIT_SECONDS"):
        for bad in ("soon", "-1", "nan"):
            result = CliRunner().invoke(app, ["--home", str(tmp_path / "home"), "stats"], env={"NEO4J_URI": None, name: bad})
            assert result.exit_code == 3 and f"{name} must be a number of seconds" in result.output, (name, bad, result.output)
