"""Bulk load into an empty local Neo4j: the load's rows as CSV files, imported offline by ``neo4j-admin``.

The records are read, checked, de-duplicated and turned into rows by the same code as an online
load (:class:`~keytrail.ingest.Ingest`, :func:`~keytrail.graph.transform.event_rows`,
:func:`~keytrail.graph.transform.reduce_batch`): :class:`BulkStore` stands in for the store and
applies each batch's rows by the rules of the write queries in ``keytrail/cypher/write`` (``MERGE``
keys, ``coalesce``, ``+=``, ``ON CREATE SET``, the earliest evidence, the summed key usage and tallies), in the
order the online load sends them. What is created once per event (the ``Event`` with its edges) is
written to CSV as it comes; the nodes and edges that rows merge into (actions, addresses, agents,
principals, keys, accounts, ownership, usage) are kept in memory and written at the end.

:class:`BulkLoad` then stops the server of a ``scripts/neo4j-local`` home, runs
``neo4j-admin database import full`` on the files (no bad or duplicate entry tolerated), starts the
server, and runs online what an online load runs at its end: the schema, every key's status
(:func:`~keytrail.graph.status.settle_key_statuses`), the S3 manifest and the ``LoadRun`` stamp.
The import replaces the database, so it is refused unless the store holds no node at all.
``tests/integration/test_bulk_load.py`` checks that both ways give the same graph.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

from keytrail.graph.backends import Neo4jBackend, Neo4jSettings, Run
from keytrail.graph.effects import EFFECT_QUERY, WRITE_PLAN
from keytrail.graph.neo4j_local import local_home
from keytrail.graph.queries import _load_all
from keytrail.graph.schema import NODE_KEYS
from keytrail.graph.status import settle_key_statuses
from keytrail.graph.writer import GraphWriter
from keytrail.ingest import Ingest, LoadSummary
from keytrail.loaders.records import LoaderItem

T = TypeVar("T")

#: The script that runs a local server; the import runs through its ``admin`` command (same jars, conf and data).
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "neo4j-local"


class BulkError(RuntimeError):
    """The bulk path cannot be used here, or the rows cannot be imported exactly."""


# -- CSV -------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INT64 = (-(2**63), 2**63 - 1)


def _scalar_type(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return "string"
    if kind is bool:
        return "boolean"
    if kind is int:
        if not _INT64[0] <= value <= _INT64[1]:
            raise BulkError(f"integer {value} does not fit a Neo4j property (64 bits)")
        return "long"
    if kind is float:
        if not math.isfinite(value):
            raise BulkError(f"{value!r} cannot be written to CSV exactly")
        return "double"
    raise BulkError(f"a {kind.__name__} cannot be a Neo4j property")


def _type_of(value: Any) -> str:
    """The import header's type of a property value, as Neo4j would store it from Bolt."""
    if type(value) is not list:
        return _scalar_type(value)
    if not value or value == [""]:
        # The importer reads an empty array field as no property at all: neither can come back exactly.
        raise BulkError(f"the list {value!r} cannot be imported exactly (the CSV importer reads it as no property); use the online load")
    kinds = {_scalar_type(v) for v in value}
    if len(kinds) != 1:
        raise BulkError(f"a list of mixed types cannot be a Neo4j property: {value!r}")
    return kinds.pop() + "[]"


def _quoted(text: str) -> str:
    # RFC 4180 quoting, which the importer reads (without --legacy-style-quoting a backslash is an ordinary character).
    return '"' + text.replace('"', '""') + '"'


def _scalar_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        return repr(value)
    return str(value)


class _Table:
    """One CSV data file and its header file: rows of one label or type with the same properties and types."""

    def __init__(self, folder: Path, stem: str, header: list[str]) -> None:
        self.header_path = folder / f"{stem}.header.csv"
        self.data_path = folder / f"{stem}.csv"
        self.header_path.write_text(",".join(header) + "\n", encoding="utf-8")
        self._handle: IO[str] = open(self.data_path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by close()
        self.multiline = False
        self.rows = 0
        self._lines: list[str] = []

    def add(self, line: str) -> None:
        self._lines.append(line)
        self.rows += 1
        if len(self._lines) >= 1000:
            self._write()

    def _write(self) -> None:
        text = "\n".join(self._lines) + "\n"
        # Each row ends with one line break; any more lie inside quoted fields.
        if not self.multiline and (text.count("\n") > len(self._lines) or "\r" in text):
            self.multiline = True
        self._lines = []
        self._handle.write(text)

    def close(self) -> None:
        if self._lines:
            self._write()
        self._handle.close()


class CsvFiles:
    """The files an import reads: per node label and per relationship type, one table per property signature.

    Every property keeps its type: a table's header names each column's type, and rows whose
    properties differ in names or types go to different tables. Strings are always quoted, so a
    missing property (an empty unquoted field never occurs) and an empty string stay apart.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._nodes: dict[tuple[str, tuple[tuple[str, str], ...]], _Table] = {}
        self._relationships: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], _Table] = {}
        #: Every character met in the elements of string arrays: the array delimiter must be none of them.
        self.array_chars: set[str] = set()
        #: Arrays of more than one element are joined with this; the import is told the same.
        self.array_delimiter = "\x1f"
        #: Whether an array of more than one element was written: then the delimiter can no longer change.
        self.delimiter_used = False
        self._count = 0

    def _stem(self, what: str) -> str:
        self._count += 1
        return f"{self._count:04d}-{what}"

    def _columns(self, signature: tuple[tuple[str, str], ...]) -> list[str]:
        columns = []
        for name, kind in signature:
            if not _NAME.match(name):
                raise BulkError(f"property name {name!r} cannot be an import header column")
            columns.append(f"{name}:{kind}")
        return columns

    def _encode(self, properties: dict[str, Any]) -> tuple[tuple[tuple[str, str], ...], list[str]]:
        """The signature (each property's name and import type) and the CSV fields of ``properties``, nulls left out.

        One pass over the properties: the CSV of a million events is written here, and a
        function call per property (type, then text) cost a third of the bulk load's own time.
        """
        signature: list[tuple[str, str]] = []
        fields: list[str] = []
        for name, value in properties.items():
            kind = type(value)
            if kind is str:
                signature.append((name, "string"))
                fields.append('"' + value.replace('"', '""') + '"')
            elif value is None:
                continue
            elif kind is list:
                signature.append((name, _type_of(value)))
                fields.append(self._array(value))
            else:
                signature.append((name, _scalar_type(value)))
                fields.append(_scalar_text(value))
        return tuple(signature), fields

    def _array(self, value: list[Any]) -> str:
        if type(value[0]) is str:
            for element in value:
                self.array_chars.update(element)
            if len(value) > 1:
                # Joined now, so the delimiter is fixed from here on (choose_array_delimiter checks every element against it).
                self.delimiter_used = True
            return _quoted(self.array_delimiter.join(value))
        return self.array_delimiter.join(_scalar_text(v) for v in value)

    def node(self, label: str, properties: dict[str, Any]) -> None:
        """One node; its key property (``NODE_KEYS``) is its import id in the label's id space."""
        key = NODE_KEYS[label]
        identity = properties.get(key)
        if type(identity) is not str:
            raise BulkError(f"{label} key {key} must be a string, not {identity!r}")
        signature, fields = self._encode({k: v for k, v in properties.items() if k != key} if key in properties else properties)
        table = self._nodes.get((label, signature))
        if table is None:
            table = _Table(self.folder, self._stem(label), [f"{key}:ID({label})", *self._columns(signature)])
            self._nodes[(label, signature)] = table
        fields.insert(0, _quoted(identity))
        table.add(",".join(fields))

    def relationship(self, start_label: str, start: str, kind: str, end_label: str, end: str, properties: dict[str, Any]) -> None:
        """One relationship between two nodes named by their keys."""
        if not properties:
            # Most edges (INVOKED, FROM_IP, WITH_AGENT, MADE, SIGNED, ...) have none: the same table, no signature to work out.
            plain = self._relationships.get((start_label, kind, end_label, ()))
            if plain is not None:
                plain.add(_quoted(start) + "," + _quoted(end))
                return
        signature, fields = self._encode(properties)
        group = (start_label, kind, end_label, signature)
        table = self._relationships.get(group)
        if table is None:
            header = [f":START_ID({start_label})", *self._columns(signature), f":END_ID({end_label})"]
            table = _Table(self.folder, self._stem(kind), header)
            self._relationships[group] = table
        table.add(",".join([_quoted(start), *fields, _quoted(end)]))

    def close(self) -> None:
        for table in [*self._nodes.values(), *self._relationships.values()]:
            table.close()

    def choose_array_delimiter(self, arrays: Iterable[list[Any]]) -> None:
        """Before the last tables: a delimiter that no string array element written or still to write holds.

        An array of one element is written the same whatever the delimiter; once a longer one
        was written, the delimiter stays (and every element so far was checked against it).
        """
        chars = set(self.array_chars)
        for array in arrays:
            for element in array:
                if type(element) is str:
                    chars.update(element)
        if self.delimiter_used:
            if self.array_delimiter in chars:
                raise BulkError(f"an array element holds the array delimiter U+{ord(self.array_delimiter):04X}; use the online load")
            return
        for candidate in ["\x1f", "\x1e", "\x1d", "\x1c", *(chr(c) for c in range(0xE000, 0xF900))]:
            if candidate not in chars:
                self.array_delimiter = candidate
                return
        raise BulkError("every candidate array delimiter occurs in the data; use the online load")

    def import_arguments(self) -> list[str]:
        """The ``--nodes``, ``--relationships`` and multiline arguments of ``neo4j-admin database import full``."""
        args = [f"--nodes={label}={t.header_path},{t.data_path}" for (label, _), t in self._nodes.items()]
        args += [f"--relationships={kind}={t.header_path},{t.data_path}" for (_, kind, _, _), t in self._relationships.items()]
        multiline = [t.data_path for t in [*self._nodes.values(), *self._relationships.values()] if t.multiline]
        if multiline:
            args += ["--multiline-fields-format=v2", "--multiline-fields=" + ",".join(str(p) for p in multiline)]
        return args

    @property
    def counts(self) -> tuple[int, int]:
        """Nodes and relationships written."""
        return sum(t.rows for t in self._nodes.values()), sum(t.rows for t in self._relationships.values())


# -- The rows, applied by the write queries' rules ---------------------------------------

_QUERY_NAMES: dict[str, str] = {}


def _query_name(statement: str) -> str:
    if not _QUERY_NAMES:
        _QUERY_NAMES.update({q.body: name for name, q in _load_all().items()})
    name = _QUERY_NAMES.get(statement)
    if name is None:
        raise BulkError("the bulk load met a statement it does not implement (not one of keytrail/cypher's)")
    return name


#: The properties merge_principals sets (coalesce: a known value is never replaced by an unknown one).
_PRINCIPAL_FIELDS = ("type", "name", "arn", "accountId", "principalId", "roleName", "path")
#: merge_key_owners, merge_login_profile_owners and merge_sessions: (row fields of the pair), start label, type, end label.
_EARLIEST = {
    "merge_key_owners": (("accessKeyId", "principal"), "AccessKey", "BELONGS_TO", "Principal"),
    "merge_login_profile_owners": (("profile", "principal"), "LoginProfile", "BELONGS_TO", "Principal"),
    "merge_sessions": (("session", "parent"), "Principal", "SESSION_OF", "Principal"),
}
_EFFECT_LABEL = {query: label for label, query in EFFECT_QUERY.items()}
#: What BulkStore leaves to the online steps after the import.
_DEFERRED = ("record_load_run", "merge_loaded_objects")
#: The file of the load's EventIndex, in the load's folder beside the CSV files (not one of them).
EVENT_INDEX = "events-taken.sqlite"


def _set_map(properties: dict[str, Any], changes: dict[str, Any]) -> None:
    """``SET n += changes``: a null removes the property."""
    for name, value in changes.items():
        if value is None:
            properties.pop(name, None)
        else:
            properties[name] = value


class EventIndex:
    """The events a bulk load has taken, eventID to (incident, record sha256), kept on disk.

    A bulk load must answer ``find_existing_events`` for every event it has read, and in memory that took
    about 380 bytes an event (550 MiB for a million). The events of the unit being written stay in memory,
    because their edges look them up row by row. :meth:`settle` moves them to an SQLite table at the end of
    each unit. Older events are looked up there, in one query per batch. The table's file sits in the load's
    owner-only folder and goes with it.
    """

    _CHUNK = 500  # ids per lookup query, well under SQLite's limit on parameters
    # One fixed statement: a shorter chunk is padded with NULL, which equals no id.
    _LOOKUP = "SELECT id, incident, sha256 FROM event WHERE id IN (" + ",".join(["?"] * _CHUNK) + ")"

    def __init__(self, path: Path) -> None:
        # Units are written on Ingest's writer thread, one at a time; the lock keeps any other caller out meanwhile.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        # Nothing here needs to survive a crash: a bulk load that stops imports nothing and deletes the folder.
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA cache_size=-65536")  # KiB: the page cache is bounded at 64 MiB
        self._db.execute("CREATE TABLE event (id TEXT PRIMARY KEY, incident TEXT NOT NULL, sha256 TEXT) WITHOUT ROWID")
        self._recent: dict[str, tuple[str, str | None]] = {}
        self._stored = 0

    def __len__(self) -> int:
        return self._stored + len(self._recent)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._recent or (isinstance(event_id, str) and bool(self._from_disk([event_id])))

    def add(self, event_id: str, incident: str, sha256: str | None) -> None:
        self._recent[event_id] = (incident, sha256)

    def find(self, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """The ids among ``ids`` already taken, with their incident and sha256."""
        found: dict[str, tuple[str, str | None]] = {}
        older = []
        for event_id in ids:
            if (taken := self._recent.get(event_id)) is not None:
                found[event_id] = taken
            else:
                older.append(event_id)
        found.update(self._from_disk(older))
        return found

    def _from_disk(self, ids: list[str]) -> dict[str, tuple[str, str | None]]:
        found: dict[str, tuple[str, str | None]] = {}
        if not self._stored:
            return found
        with self._lock:
            for start in range(0, len(ids), self._CHUNK):
                chunk: list[str | None] = [*ids[start : start + self._CHUNK]]
                chunk += [None] * (self._CHUNK - len(chunk))
                for event_id, incident, sha256 in self._db.execute(self._LOOKUP, chunk):
                    found[event_id] = (incident, sha256)
        return found

    def settle(self) -> None:
        """Move the events taken since the last call to disk."""
        if not self._recent:
            return
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO event (id, incident, sha256) VALUES (?, ?, ?)", ((i, inc, sha) for i, (inc, sha) in self._recent.items()))
        self._stored += len(self._recent)
        self._recent = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass(slots=True)
class BulkStore:
    """A stand-in for an empty Neo4j that :class:`~keytrail.ingest.Ingest` loads into: rows become CSV files.

    It answers ``find_existing_events`` from the events it has taken, applies every write query
    as Neo4j would (a row whose nodes do not exist lands nothing, so the writer's check stops the
    load as online), and keeps for later what must run online (``record_load_run``, the S3 manifest).
    """

    csv: CsvFiles
    location: str
    name: str = "neo4j"
    deferred: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    events: EventIndex = field(init=False)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    addresses: dict[str, None] = field(default_factory=dict)
    agents: dict[str, None] = field(default_factory=dict)
    principals: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, None] = field(default_factory=dict)
    in_account: dict[tuple[str, str], None] = field(default_factory=dict)
    access_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    login_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    earliest: dict[tuple[str, tuple[str, str]], dict[str, Any]] = field(default_factory=dict)
    issued: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    usage: dict[tuple[str, str, bool], dict[str, Any]] = field(default_factory=dict)
    tallies: dict[str, dict[str, Any]] = field(default_factory=dict)
    loaded_objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Set by :meth:`finish`: no row is taken after the files are complete.
    finished: bool = False

    def __post_init__(self) -> None:
        self.events = EventIndex(self.csv.folder / EVENT_INDEX)

    # -- the Backend interface

    def read(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._run(statement, params)

    def write(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._run(statement, params)

    def write_unit(self, work: Callable[[Run], T], holder: str) -> T:
        try:
            return work(self._run)
        finally:
            self.events.settle()

    def apply_schema(self) -> None:
        """The schema is created online after the import."""

    def flush(self) -> None:
        """Nothing is durable before the import."""

    def close(self) -> None:
        self.csv.close()
        self.events.close()

    # -- statements

    def _run(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.finished:
            raise BulkError("the bulk load's files are complete: nothing more can be written")
        name = _query_name(statement)
        if name == "take_write_lock":
            return [{"taken": 1}]
        if name == "find_existing_events":
            taken = self.events.find(params["ids"])
            return [{"eventID": i, "incidents": [incident], "recordSha256": sha256} for i, (incident, sha256) in taken.items()]
        if name == "access-keys-page":
            # Key statuses are decided online after the import, from the whole store (status.settle_key_statuses).
            return []
        if name == "find_loaded_objects":
            return [{"uri": u, "etag": o["etag"], "incidents": list(o["incidents"])} for u in params["uris"] if (o := self.loaded_objects.get(u))]
        if name in _DEFERRED:
            self.deferred.append((name, params))
            if name == "merge_loaded_objects":
                return self._loaded_objects(params["rows"])
            return []
        apply = getattr(self, f"_{name}", None)
        if apply is None:
            raise BulkError(f"the bulk load does not implement write query {name}")
        rows: list[dict[str, Any]] = params["rows"]
        landed: int = apply(rows)
        return [{"landed": landed}]

    def _loaded_objects(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows:
            kept = self.loaded_objects.get(row["uri"])
            previous = kept["incidents"] if kept and kept["etag"] == row["etag"] else []
            incidents = previous if row["incident"] in previous else [*previous, row["incident"]]
            self.loaded_objects[row["uri"]] = {"etag": row["etag"], "incidents": incidents}
        return [{"landed": len(rows)}]

    def _merge_events(self, rows: list[dict[str, Any]]) -> int:
        taken = self.events.find(row["eventID"] for row in rows)
        for row in rows:
            event_id = row["eventID"]
            if event_id in taken:
                raise BulkError(f"event {event_id!r} sent twice (the Event(eventID) uniqueness constraint would refuse it)")
            if row["action"] not in self.actions:
                self.actions[row["action"]] = {"name": row["action"], "eventSource": row["eventSource"], "eventName": row["eventName"]}
            node = {"eventID": event_id}
            _set_map(node, row["props"])
            node["eventID"] = event_id
            node["incidents"] = [row["incident"]]
            self.events.add(event_id, row["incident"], node.get("recordSha256"))
            taken[event_id] = (row["incident"], node.get("recordSha256"))
            self.csv.node("Event", node)
            self.csv.relationship("Event", event_id, "INVOKED", "Action", row["action"], {})
            if row["ip"] is not None:
                self.addresses[row["ip"]] = None
                self.csv.relationship("Event", event_id, "FROM_IP", "SourceIP", row["ip"], {})
            if row["agent"] is not None:
                self.agents[row["agent"]] = None
                self.csv.relationship("Event", event_id, "WITH_AGENT", "UserAgent", row["agent"], {})
        return len(rows)

    def _merge_principals(self, rows: list[dict[str, Any]]) -> int:
        for row in rows:
            node = self.principals.setdefault(row["id"], {"id": row["id"]})
            for name in _PRINCIPAL_FIELDS:
                if row.get(name) is not None:
                    node[name] = row[name]
            if row.get("accountId") is not None:
                self.accounts[row["accountId"]] = None
                self.in_account[(row["id"], row["accountId"])] = None
        return len(rows)

    def _merge_access_keys(self, rows: list[dict[str, Any]]) -> int:
        for row in rows:
            node = self.access_keys.setdefault(row["accessKeyId"], {"accessKeyId": row["accessKeyId"]})
            node["kind"] = row["kind"]
            node["caption"] = row["caption"]
            _set_map(node, row["props"])
        return len(rows)

    def _merge_login_profiles(self, rows: list[dict[str, Any]]) -> int:
        for row in rows:
            _set_map(self.login_profiles.setdefault(row["id"], {"id": row["id"]}), row["props"])
        return len(rows)

    def _merge_resources(self, rows: list[dict[str, Any]]) -> int:
        for row in rows:
            _set_map(self.resources.setdefault(row["id"], {"id": row["id"]}), row["props"])
        return len(rows)

    def _merge_made(self, rows: list[dict[str, Any]]) -> int:
        landed = 0
        for row in rows:
            if row["eventID"] in self.events and row["principal"] in self.principals:
                self.csv.relationship("Principal", row["principal"], "MADE", "Event", row["eventID"], {})
                landed += 1
        return landed

    def _merge_signed(self, rows: list[dict[str, Any]]) -> int:
        landed = 0
        for row in rows:
            if row["eventID"] in self.events and row["accessKeyId"] in self.access_keys:
                self.csv.relationship("AccessKey", row["accessKeyId"], "SIGNED", "Event", row["eventID"], {})
                landed += 1
        return landed

    def _earliest(self, query: str, rows: list[dict[str, Any]]) -> int:
        fields, start_label, _, end_label = _EARLIEST[query]
        starts = self._nodes_of(start_label)
        landed = 0
        for row in rows:
            pair = (row[fields[0]], row[fields[1]])
            if pair[0] not in starts or pair[1] not in self._nodes_of(end_label):
                continue
            landed += 1
            kept = self.earliest.get((query, pair))
            if kept is None or row["eventTime"] < kept["firstSeen"] or (row["eventTime"] == kept["firstSeen"] and row["eventID"] < kept["eventID"]):
                self.earliest[(query, pair)] = {"eventID": row["eventID"], "rule": row["rule"], "firstSeen": row["eventTime"]}
        return landed

    def _merge_key_owners(self, rows: list[dict[str, Any]]) -> int:
        return self._earliest("merge_key_owners", rows)

    def _merge_login_profile_owners(self, rows: list[dict[str, Any]]) -> int:
        return self._earliest("merge_login_profile_owners", rows)

    def _merge_sessions(self, rows: list[dict[str, Any]]) -> int:
        return self._earliest("merge_sessions", rows)

    def _merge_issued(self, rows: list[dict[str, Any]]) -> int:
        landed = 0
        for row in rows:
            if row["parent"] in self.access_keys and row["child"] in self.access_keys:
                edge = self.issued.setdefault((row["parent"], row["child"], row["eventID"]), {"eventID": row["eventID"]})
                edge.update(eventTime=row["eventTime"], via=row["via"], rule=row["rule"])
                landed += 1
        return landed

    def _merge_key_usage(self, rows: list[dict[str, Any]]) -> int:
        landed = 0
        for row in rows:
            if row["accessKeyId"] not in self.access_keys or row["action"] not in self.actions:
                continue
            landed += 1
            group = (row["accessKeyId"], row["action"], bool(row["succeeded"]))
            edge = self.usage.get(group)
            if edge is None:
                rule = "userIdentity.accessKeyId" if group[2] else "userIdentity.accessKeyId+failed"
                edge = self.usage[group] = {"count": 0, "eventIDs": [], "firstSeen": row["firstSeen"], "lastSeen": row["lastSeen"], "rule": rule}
            edge["count"] += row["count"]
            # The statement's reduce: each id inserted in order unless present, then the first ten.
            edge["eventIDs"] = sorted(set(edge["eventIDs"]) | set(row["eventIDs"]))[:10]
            if row["firstSeen"] < edge["firstSeen"]:
                edge["firstSeen"] = row["firstSeen"]
            if row["lastSeen"] > edge["lastSeen"]:
                edge["lastSeen"] = row["lastSeen"]
        return landed

    def _merge_tallies(self, rows: list[dict[str, Any]]) -> int:
        for row in rows:
            node = self.tallies.get(row["id"])
            if node is None:
                # ON CREATE SET: a null field is no property at all, as in Neo4j.
                node = self.tallies[row["id"]] = {k: v for k, v in row.items() if v is not None} | {"count": 0, "firstCount": 0}
            node["count"] += row["count"]
            node["firstCount"] += row["firstCount"]
            node["firstEvent"] = min(node["firstEvent"], row["firstEvent"])
            node["lastEvent"] = max(node["lastEvent"], row["lastEvent"])
        return len(rows)

    def _effects(self, query: str, rows: list[dict[str, Any]]) -> int:
        label = _EFFECT_LABEL[query]
        targets = self._nodes_of(label)
        landed = 0
        for row in rows:
            if row["eventID"] not in self.events or row["target"] not in targets:
                continue
            kind = WRITE_PLAN[label].get(row["verb"])
            if kind is None:
                continue  # no branch of the statement writes it: the writer's check stops the load
            properties = {"rule": row["rule"], "eventID": row["eventID"], "eventTime": row["eventTime"]}
            _set_map(properties, row["detail"])
            self.csv.relationship("Event", row["eventID"], kind, label, row["target"], properties)
            landed += 1
        return landed

    def _merge_effects_on_access_keys(self, rows: list[dict[str, Any]]) -> int:
        return self._effects("merge_effects_on_access_keys", rows)

    def _merge_effects_on_principals(self, rows: list[dict[str, Any]]) -> int:
        return self._effects("merge_effects_on_principals", rows)

    def _merge_effects_on_login_profiles(self, rows: list[dict[str, Any]]) -> int:
        return self._effects("merge_effects_on_login_profiles", rows)

    def _merge_effects_on_resources(self, rows: list[dict[str, Any]]) -> int:
        return self._effects("merge_effects_on_resources", rows)

    def _add_incident_to_events(self, rows: list[dict[str, Any]]) -> int:
        # One load, one incident, an empty store: an event met again already carries the load's incident.
        if rows:
            raise BulkError("the bulk load cannot tag events it has already written with another incident")
        return 0

    def _nodes_of(self, label: str) -> dict[str, Any]:
        return {"Principal": self.principals, "AccessKey": self.access_keys, "LoginProfile": self.login_profiles, "Resource": self.resources}[label]

    def finish(self) -> None:
        """Write the merged nodes and edges; then the files are complete."""
        csv = self.csv
        hubs = [*self.principals.values(), *self.access_keys.values(), *self.login_profiles.values(), *self.resources.values()]
        hubs += [*self.earliest.values(), *self.issued.values(), *self.usage.values()]
        csv.choose_array_delimiter(v for properties in hubs for v in properties.values() if type(v) is list)
        for node in self.actions.values():
            csv.node("Action", node)
        for address in self.addresses:
            csv.node("SourceIP", {"address": address})
        for agent in self.agents:
            csv.node("UserAgent", {"value": agent})
        for account in self.accounts:
            csv.node("Account", {"accountId": account})
        for label in ("Principal", "AccessKey", "LoginProfile", "Resource"):
            for node in self._nodes_of(label).values():
                csv.node(label, node)
        for principal, account in self.in_account:
            csv.relationship("Principal", principal, "IN_ACCOUNT", "Account", account, {})
        for (query, (start, end)), properties in self.earliest.items():
            _, start_label, kind, end_label = _EARLIEST[query]
            csv.relationship(start_label, start, kind, end_label, end, properties)
        for (parent, child, _), properties in self.issued.items():
            csv.relationship("AccessKey", parent, "ISSUED", "AccessKey", child, properties)
        for (key, action, succeeded), properties in self.usage.items():
            csv.relationship("AccessKey", key, "USED" if succeeded else "ATTEMPTED", "Action", action, properties)
        for node in self.tallies.values():
            csv.node("Tally", node)
        csv.close()
        self.finished = True


# -- The server ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalServer:
    """A ``scripts/neo4j-local`` home, found from the URI keytrail was given."""

    home: Path
    bolt_port: int
    http_port: int

    @classmethod
    def of(cls, uri: str, home: Path | None = None) -> LocalServer:
        """The server of ``home``, or of the home whose Bolt port ``uri`` names (``KEYTRAIL_NEO4J_HOME``, or the checkout's default)."""
        home = home or local_home(uri)
        if home is None:
            raise BulkError(
                f"--bulk imports into a local scripts/neo4j-local server, and {uri} is not one (set KEYTRAIL_NEO4J_HOME to its home); use the online load"
            )
        try:
            bolt, http = (home / "run" / "neo4j-local.ports").read_text().split()[:2]
        except (OSError, ValueError):
            raise BulkError(f"no scripts/neo4j-local server is running in {home}; start it, or use the online load") from None
        if urlsplit(uri).port != int(bolt):
            raise BulkError(f"the server of {home} listens on Bolt port {bolt}, not the one {uri} names")
        return cls(home, int(bolt), int(http))

    def script(self, *words: str, timeout: float = 3600.0) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KEYTRAIL_NEO4J_HOME=str(self.home), NEO4J_BOLT_PORT=str(self.bolt_port), NEO4J_HTTP_PORT=str(self.http_port))
        done = subprocess.run(["bash", str(SCRIPT), *words], env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise BulkError(f"scripts/neo4j-local {words[0]} {' '.join(words[1:4])} failed (exit {done.returncode}): {(done.stdout + done.stderr)[-3000:]}")
        return done


# -- The load --------------------------------------------------------------------------


@dataclass(slots=True)
class BulkTimes:
    """Seconds per step, for the summary and ``bench/bulk.py``."""

    rows_and_csv: float = 0.0
    csv_hubs: float = 0.0
    stop: float = 0.0
    import_tool: float = 0.0
    start: float = 0.0
    online: dict[str, float] = field(default_factory=dict)
    nodes: int = 0
    relationships: int = 0
    csv_bytes: int = 0

    @property
    def total(self) -> float:
        return self.rows_and_csv + self.csv_hubs + self.stop + self.import_tool + self.start + sum(self.online.values())


def count_everything(backend: Neo4jBackend) -> int:
    """Nodes plus relationships in the store (from Neo4j's count store: instant)."""
    nodes = backend.read("MATCH (n) RETURN count(n) AS n", {})
    relationships = backend.read("MATCH ()-[r]->() RETURN count(r) AS n", {})
    return int(nodes[0]["n"]) + int(relationships[0]["n"])


class BulkLoad:
    """One bulk load: check the store is empty, collect the rows as CSV, import, finish online.

    ``backend`` is the live connection to the server (used for the emptiness check only).
    The CSV files go to an owner-only folder in the server's home (they hold the evidence) and are
    deleted once the import has run, whatever its outcome, unless ``keep_files``.
    """

    def __init__(self, backend: Neo4jBackend, settings: Neo4jSettings, run_id: str, *, home: Path | None = None, keep_files: bool = False) -> None:
        self.server = LocalServer.of(settings.uri, home)
        self.settings = settings
        if count_everything(backend):
            raise BulkError(
                f"the Neo4j store at {settings.uri} is not empty, and a bulk import replaces the whole database: "
                "use the online load (without --bulk), or empty it first with `keytrail reset`"
            )
        self.folder = self.server.home / "import" / f"keytrail-bulk-{run_id}"
        self.folder.mkdir(parents=True, mode=0o700)
        self.folder.chmod(0o700)
        self.keep_files = keep_files
        self.store = BulkStore(CsvFiles(self.folder), settings.uri)
        self.times = BulkTimes()
        self._began = time.perf_counter()

    def load(self, ingest: Ingest, items: Iterable[LoaderItem], inputs: list[str]) -> LoadSummary:
        """Run ``ingest`` (made on :attr:`store`) over ``items``, then import what it read and finish online.

        A load stopped by a signal imports nothing: the store stays as it was (empty), and the
        summary says what was read (``stopped_by`` set). Whatever fails, the files are deleted.
        """
        try:
            summary = ingest.run(items, inputs)
            if summary.stopped_by is not None:
                self.discard()
                return summary
        except BaseException:
            self.discard()
            raise
        self.finish()
        summary.seconds = self.times.total
        return summary

    def discard(self) -> None:
        """Give up before the import: the store was not touched; the files go."""
        self.store.close()
        if not self.keep_files:
            shutil.rmtree(self.folder, ignore_errors=True)

    def finish(self) -> BulkTimes:
        """Write the last files, replace the database with them, start the server, and run the online steps."""
        self.times.rows_and_csv = time.perf_counter() - self._began
        began = time.perf_counter()
        self.store.finish()
        csv = self.store.csv
        self.times.csv_hubs = time.perf_counter() - began
        self.times.nodes, self.times.relationships = csv.counts
        self.times.csv_bytes = sum(p.stat().st_size for p in self.folder.iterdir() if p.name != EVENT_INDEX)
        try:
            self._import(csv.import_arguments(), csv.array_delimiter)
        finally:
            if not self.keep_files:
                shutil.rmtree(self.folder, ignore_errors=True)
        self._online()
        return self.times

    def _import(self, arguments: list[str], delimiter: str) -> None:
        began = time.perf_counter()
        self.server.script("stop")
        self.times.stop = time.perf_counter() - began
        began = time.perf_counter()
        report = self.folder / "import.report"
        try:
            self.server.script(
                "admin",
                "database",
                "import",
                "full",
                self.settings.database,
                # The emptiness check passed: the database holds nothing to lose.
                "--overwrite-destination=true",
                "--id-type=string",
                f"--array-delimiter=U+{ord(delimiter):04X}",
                # Nothing is dropped: a bad or duplicate entry, or an edge to a missing node, fails the import.
                "--bad-tolerance=0",
                "--skip-duplicate-nodes=false",
                "--skip-bad-relationships=false",
                "--strict=true",
                "--ignore-empty-strings=false",
                "--trim-strings=false",
                "--legacy-style-quoting=false",
                "--normalize-types=false",
                f"--report-file={report}",
                *arguments,
            )
        except BulkError as exc:
            problems = report.read_text(errors="replace")[-2000:] if report.exists() else ""
            raise BulkError(f"{exc}\n{problems}".strip()) from exc
        finally:
            self.times.import_tool = time.perf_counter() - began
            began = time.perf_counter()
            self.server.script("start")
            self.times.start = time.perf_counter() - began

    def _online(self) -> None:
        backend = Neo4jBackend(self.settings)
        try:
            writer = GraphWriter(backend)
            steps: list[tuple[str, Callable[[], object]]] = [
                ("schema", backend.apply_schema),
                ("key statuses", lambda: settle_key_statuses(backend, writer)),
            ]
            # In the order the load sent them: the S3 manifest as objects completed, the LoadRun last.
            for name, params in self.store.deferred:
                if name == "merge_loaded_objects":
                    steps.append(("loaded objects", partial(writer.write, "merge_loaded_objects", params["rows"])))
                else:
                    steps.append(("load run", partial(writer.run, "record_load_run", params)))
            for name, step in steps:
                began = time.perf_counter()
                step()
                self.times.online[name] = self.times.online.get(name, 0.0) + time.perf_counter() - began
        finally:
            backend.close()


def open_bulk(backend: object, settings: Neo4jSettings | None, run_id: str) -> BulkLoad:
    """The bulk load ``keytrail load --bulk`` asks for, or why there can be none (:class:`BulkError`)."""
    if settings is None or not isinstance(backend, Neo4jBackend):
        raise BulkError("--bulk imports into Neo4j: give --neo4j bolt://127.0.0.1:PORT of a scripts/neo4j-local server (the embedded store loads online)")
    return BulkLoad(backend, settings, run_id)


def describe(times: BulkTimes, events: int) -> list[str]:
    """Lines saying where a bulk load's time went."""

    def rate(seconds: float) -> str:
        return f"{events / seconds:,.0f} events/s" if seconds > 0 else "-"

    lines = [
        f"read + rows + event CSV {times.rows_and_csv:.1f} s ({rate(times.rows_and_csv)}), merged nodes and edges CSV {times.csv_hubs:.1f} s; "
        f"{times.nodes:,} nodes, {times.relationships:,} relationships, {times.csv_bytes / 2**20:,.0f} MiB",
        f"stop {times.stop:.1f} s, neo4j-admin import {times.import_tool:.1f} s ({rate(times.import_tool)}), start {times.start:.1f} s",
        "online: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in times.online.items()),
        f"total {times.total:.1f} s ({rate(times.total)})",
    ]
    return lines


__all__ = ["BulkError", "BulkLoad", "BulkStore", "BulkTimes", "CsvFiles", "LocalServer", "describe", "open_bulk"]
