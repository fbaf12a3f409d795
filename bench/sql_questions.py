"""The AWS CIRT workshop's questions as DuckDB SQL over CloudTrail S3 log files, and the data they are asked of.

Reusable pieces of ``bench/vs_sql.py`` (and of ``tests/unit/test_vs_sql.py``, which imports this file by path):

- :func:`generate`: N events with the workshop incident inside, written as a trail's S3 bucket holds them,
  with re-delivered records (every k-th record, plus three of the attacker's own calls) as CloudTrail does;
  it returns the facts of what it wrote (which eventIDs were delivered twice).
- :data:`QUESTIONS`: the workshop's eight questions (../shared/seed/), each as the write-up's Athena SQL in
  DuckDB's dialect, with the keytrail command that answers the same question and how both answers are
  reduced to one comparable form.
- :func:`ask_files` (each question reads the files, no de-duplication: as the workshop asks them) and
  :func:`load_table` + :func:`ask_table` (the files read once into a table de-duplicated on eventID).

No SQL text is built from data: file globs, keys and user names are DuckDB parameters (``$files``, ``$key``,
``$user``). The only text put into SQL is this module's own constants (the record schema, the source).
"""

from __future__ import annotations

import heapq
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from keytrail.sample import Incident, WorkshopFacts, synthetic_records, workshop_incident
from keytrail.sample.layout import write_s3_layout

Record = dict[str, Any]
Answer = tuple[tuple[str | None, ...], ...]
"""One question's answer reduced to a comparable value: rows of strings, in order or sorted (per question)."""

LOG_GLOB = "AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
"""The trail's log files under a bucket root (what the workshop's Athena table is defined over); digests are elsewhere."""

# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Generated:
    """What :func:`generate` wrote: the facts the answers are checked against."""

    root: Path
    log_files: tuple[Path, ...]
    digest_files: int
    events: int
    """Distinct events (eventIDs): the N asked for."""
    workshop_events: int
    duplicated: frozenset[str]
    """eventIDs delivered twice (each exactly twice, in two files of its 5-minute window)."""
    chosen: frozenset[str]
    """The attacker's calls chosen to be among them (so the workshop's answers meet re-delivery)."""
    facts: WorkshopFacts
    seconds: float

    @property
    def records_written(self) -> int:
        return self.events + len(self.duplicated)

    @property
    def glob(self) -> str:
        return str(self.root / LOG_GLOB)

    @property
    def gzip_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.log_files)


def chosen_redeliveries(incident: Incident[WorkshopFacts]) -> frozenset[str]:
    """Three of the attacker's calls to deliver twice: the leaked key's first use, its CreateAccessKey for the
    key later used, and that key's DeleteUser. They make the non-de-duplicated counts of the workshop's
    questions differ from the de-duplicated ones, as they do on real trails."""
    facts = incident.facts
    leaked, active = facts.leaked_key.access_key_id, facts.active_key.access_key_id

    def key(record: Record) -> str | None:
        return (record.get("userIdentity") or {}).get("accessKeyId")

    picks = {
        "first use": [r for r in incident.records if key(r) == leaked and r["eventTime"] == facts.first_use_time],
        "CreateAccessKey": [
            r
            for r in incident.records
            if key(r) == leaked and r["eventName"] == "CreateAccessKey" and (r.get("requestParameters") or {}).get("userName") == facts.active_key.user_name
        ],
        "DeleteUser": [r for r in incident.records if key(r) == active and r["eventName"] == "DeleteUser"],
    }
    for what, found in picks.items():
        if len(found) != 1:
            raise ValueError(f"the workshop incident has {len(found)} records for its {what}, expected 1")
    return frozenset(found[0]["eventID"] for found in picks.values())


def delivered(records: Iterable[Record], every: int, chosen: frozenset[str], duplicated: set[str]) -> Iterator[Record]:
    """``records`` in the order to hand to ``write_s3_layout(..., duplicate_every=every)``, which delivers
    every ``every``-th record (1-based position) a second time; each eventID so placed is added to
    ``duplicated``. A record in ``chosen`` is held back (fewer than ``every`` positions) until it falls on
    such a position: its file is still its own 5-minute window, whatever its place in the stream."""
    held: deque[Record] = deque()
    position = 0

    def place(record: Record) -> Record:
        nonlocal position
        position += 1
        if every > 0 and position % every == 0:
            duplicated.add(str(record["eventID"]))
        return record

    for record in records:
        if every > 0 and record["eventID"] in chosen:
            held.append(record)
        else:
            yield place(record)
        while held and (position + 1) % every == 0:
            yield place(held.popleft())
    while held:
        yield place(held.popleft())


def workshop_stream(events: int, seed: int, incident: Incident[WorkshopFacts]) -> Iterator[Record]:
    """``events`` records in time order: the synthetic background (``synthetic_records``, the whole of
    2026-01-07) with the workshop incident (the same day, 02:25-02:38 for the attack) merged in by eventTime."""
    workshop = sorted(incident.records, key=lambda r: str(r["eventTime"]))
    if events < len(workshop):
        raise ValueError(f"--events must be at least {len(workshop)} (the workshop incident alone)")
    return heapq.merge(synthetic_records(events - len(workshop), seed), workshop, key=lambda r: str(r["eventTime"]))


def generate(root: Path, events: int, seed: int = 1, duplicate_every: int = 100) -> Generated:
    """Write ``events`` distinct events with the workshop inside under ``root`` (S3 layout, gzip, digests),
    every ``duplicate_every``-th record and three of the attacker's calls delivered twice (0: none)."""
    began = time.perf_counter()
    incident = workshop_incident()
    chosen = chosen_redeliveries(incident) if duplicate_every > 0 else frozenset()
    duplicated: set[str] = set()
    stream = delivered(workshop_stream(events, seed, incident), duplicate_every, chosen, duplicated)
    paths = write_s3_layout(stream, root, duplicate_every=duplicate_every, seed=seed)
    logs = tuple(p for p in paths if "CloudTrail-Digest" not in p.parts)
    return Generated(
        root=root,
        log_files=logs,
        digest_files=len(paths) - len(logs),
        events=events,
        workshop_events=len(incident.records),
        duplicated=frozenset(duplicated),
        chosen=chosen,
        facts=incident.facts,
        seconds=time.perf_counter() - began,
    )


# --------------------------------------------------------------------------- the SQL

RECORD_SCHEMA = json.dumps(
    {
        "Records": [
            {
                "eventID": "VARCHAR",
                "eventTime": "VARCHAR",
                "eventName": "VARCHAR",
                "userIdentity": {"type": "VARCHAR", "arn": "VARCHAR", "accountId": "VARCHAR", "accessKeyId": "VARCHAR", "userName": "VARCHAR"},
                "requestParameters": "JSON",
                "responseElements": "JSON",
            }
        ]
    },
    separators=(",", ":"),
)
"""The fields the eight questions read, typed as the workshop's Athena table has them (``useridentity`` a
ROW, ``requestparameters``/``responseelements`` JSON text). Naming only these is what DuckDB does fastest;
DuckDB resolves the questions' lower-case names (``useridentity.accesskeyid``) case-insensitively."""

CLOUDTRAIL_MACRO = (
    "CREATE OR REPLACE MACRO cloudtrail(files) AS TABLE "
    "SELECT r.* FROM ("
    f"SELECT unnest(from_json(json, '{RECORD_SCHEMA}').Records) AS r "
    "FROM read_json_objects(files, format = 'unstructured', maximum_object_size = 67108864))"
)
"""``cloudtrail($files)``: every record of the log files (each a gzip of ``{"Records": [...]}``) as a row,
re-deliveries included, like the workshop's ``irworkshopgluetablecloudtrail``. ``read_json_objects`` with
``from_json`` was several times faster here than ``read_json`` with ``columns=``; a file's JSON may be up
to 64 MiB (a 5,000-record file is about 15 MB)."""

FILES_SOURCE = "cloudtrail($files)"
TABLE_SOURCE = "events"

CREATE_TABLE = f"CREATE OR REPLACE TABLE {TABLE_SOURCE} AS SELECT DISTINCT ON (eventid) * FROM {FILES_SOURCE}"
"""The strong SQL user's table: the files read once, one row per eventID."""


def connect(threads: int = 2) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``threads`` threads and the ``cloudtrail(files)`` macro."""
    con = duckdb.connect(config={"threads": threads})
    con.execute(CLOUDTRAIL_MACRO)
    return con


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def _dig(value: Any, *path: str) -> str | None:
    for step in path:
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return None if value is None else str(value)


Row = tuple[Any, ...]
Reduce = Callable[[list[Row], WorkshopFacts], Answer]
ReduceKeytrail = Callable[[list[dict[str, Any]], WorkshopFacts], Answer]


@dataclass(frozen=True)
class Question:
    """One workshop question: its Athena SQL in DuckDB's dialect and the keytrail command that answers it."""

    number: int
    name: str
    asks: str
    sql: str
    """The question with ``{source}`` for where the records come from (:data:`FILES_SOURCE` or :data:`TABLE_SOURCE`)."""
    params: Callable[[WorkshopFacts], dict[str, str]]
    reduce_sql: Reduce
    query: str
    """The named keytrail query."""
    query_params: Callable[[WorkshopFacts], dict[str, str]]
    reduce_keytrail: ReduceKeytrail
    evidence_sql: str
    """The same WHERE, selecting eventid: shown when keytrail and DuckDB disagree."""
    compares: str = ""

    def text(self, source: str) -> str:
        if source not in (FILES_SOURCE, TABLE_SOURCE):
            raise ValueError(f"unknown source {source!r}")
        return self.sql.format(source=source)

    def keytrail_args(self, facts: WorkshopFacts) -> list[str]:
        """``keytrail query NAME --param k=v ... --json`` arguments (after the store options)."""
        args = ["query", self.query]
        for name, value in self.query_params(facts).items():
            args += ["--param", f"{name}={value}"]
        return [*args, "--json"]


def _leaked(f: WorkshopFacts) -> dict[str, str]:
    return {"key": f.leaked_key.access_key_id}


def _dormant(f: WorkshopFacts) -> dict[str, str]:
    return {"key": f.dormant_key.access_key_id}


def _active(f: WorkshopFacts) -> dict[str, str]:
    return {"key": f.active_key.access_key_id}


def _leaked_user(f: WorkshopFacts) -> dict[str, str]:
    return {"user": f.leaked_key.user_name}


def _deleted_user(f: WorkshopFacts) -> dict[str, str]:
    return {"user": f.deleted_user}


def _rows(rows: list[Row], _: WorkshopFacts) -> Answer:
    return tuple(tuple(None if v is None else str(v) for v in row) for row in rows)


def _sorted_rows(rows: list[Row], facts: WorkshopFacts) -> Answer:
    return tuple(sorted(_rows(rows, facts), key=lambda r: tuple(v or "" for v in r)))


def _kt(columns: tuple[str, ...], ordered: bool) -> ReduceKeytrail:
    def reduce(rows: list[dict[str, Any]], _: WorkshopFacts) -> Answer:
        out = tuple(tuple(None if row.get(c) is None else str(row[c]) for c in columns) for row in rows)
        return out if ordered else tuple(sorted(out, key=lambda r: tuple(v or "" for v in r)))

    return reduce


def _created_sql(rows: list[Row], facts: WorkshopFacts) -> Answer:
    # requestparameters names the user the key is for; the key id is in responseelements (the write-up lists both).
    return _sorted_rows([(_dig(_json(req), "userName"), _dig(_json(resp), "accessKey", "accessKeyId")) for req, resp in rows], facts)


def _deleted_sql(rows: list[Row], facts: WorkshopFacts) -> Answer:
    key = facts.active_key.access_key_id
    return _sorted_rows([(_dig(_json(req), "userName"), actor, key) for req, actor in rows], facts)


def _deleted_keytrail(rows: list[dict[str, Any]], facts: WorkshopFacts) -> Answer:
    return _sorted_rows([(facts.deleted_user, r.get("actor"), r.get("credential")) for r in rows], facts)


_BY_KEY_EVIDENCE = "SELECT eventid, eventtime, eventname FROM {source} WHERE useridentity.accesskeyid = $key ORDER BY eventtime, eventid"

QUESTIONS: tuple[Question, ...] = (
    Question(
        1,
        "first-use",
        "When was the exposed key first used, and for what?",
        # The write-up: ORDER BY eventtime ASC LIMIT 1. eventid breaks ties in time, as key-first-use does.
        "SELECT eventtime, eventname FROM {source} WHERE useridentity.accesskeyid = $key ORDER BY eventtime ASC, eventid LIMIT 1",
        _leaked,
        _rows,
        "key-first-use",
        _leaked,
        _kt(("eventTime", "eventName"), ordered=True),
        _BY_KEY_EVIDENCE,
        "(eventTime, eventName), the first row",
    ),
    Question(
        2,
        "first-calls",
        "Which API calls did the key make first (its calls in time order)?",
        "SELECT eventtime, eventname FROM {source} WHERE useridentity.accesskeyid = $key ORDER BY eventtime ASC, eventid",
        _leaked,
        _rows,
        "key-activity",
        _leaked,
        _kt(("eventTime", "eventName"), ordered=True),
        _BY_KEY_EVIDENCE,
        "(eventTime, eventName) rows in order",
    ),
    Question(
        3,
        "identity",
        "Whose key is it (the userIdentity of its calls)?",
        # The write-up queries the useridentity object without printing the SQL; this is the query.
        "SELECT DISTINCT useridentity.type, useridentity.username, useridentity.arn, useridentity.accountid FROM {source} "
        "WHERE useridentity.accesskeyid = $key",
        _leaked,
        _sorted_rows,
        "key-identity",
        _leaked,
        _kt(("type", "userName", "arn", "accountId"), ordered=False),
        _BY_KEY_EVIDENCE,
        "(type, userName, arn, accountId) set",
    ),
    Question(
        4,
        "what-it-did",
        "What did the key do (the names of its calls)?",
        "SELECT eventname FROM {source} WHERE useridentity.accesskeyid = $key",
        _leaked,
        _sorted_rows,
        "key-activity",
        _leaked,
        _kt(("eventName",), ordered=False),
        _BY_KEY_EVIDENCE,
        "eventName multiset",
    ),
    Question(
        5,
        "keys-created",
        "Which access keys did the key's user create, and for whom (CreateAccessKey)?",
        "SELECT requestparameters, responseelements FROM {source} WHERE useridentity.username = $user AND eventname = 'CreateAccessKey'",
        _leaked_user,
        _created_sql,
        "keys-created-by",
        _leaked_user,
        _kt(("owner", "accessKeyId"), ordered=False),
        "SELECT eventid, eventtime, eventname FROM {source} WHERE useridentity.username = $user AND eventname = 'CreateAccessKey' ORDER BY eventtime, eventid",
        "(user the key is for, accessKeyId) set",
    ),
    Question(
        6,
        "dormant-key",
        "What did the first created key (mmajor-dev) do?",
        "SELECT eventname FROM {source} WHERE useridentity.accesskeyid = $key",
        _dormant,
        _sorted_rows,
        "key-activity",
        _dormant,
        _kt(("eventName",), ordered=False),
        _BY_KEY_EVIDENCE,
        "eventName multiset (none: a sleeper)",
    ),
    Question(
        7,
        "active-key",
        "What did the other created key (nwolf-dev) do?",
        "SELECT eventname FROM {source} WHERE useridentity.accesskeyid = $key",
        _active,
        _sorted_rows,
        "key-activity",
        _active,
        _kt(("eventName",), ordered=False),
        _BY_KEY_EVIDENCE,
        "eventName multiset",
    ),
    Question(
        8,
        "delete-user",
        "Whom did that key delete (DeleteUser), as which user?",
        "SELECT requestparameters, useridentity.username FROM {source} WHERE useridentity.accesskeyid = $key AND eventname = 'DeleteUser'",
        _active,
        _deleted_sql,
        "user-deleted",
        _deleted_user,
        _deleted_keytrail,
        "SELECT eventid, eventtime, eventname FROM {source} WHERE useridentity.accesskeyid = $key AND eventname = 'DeleteUser' ORDER BY eventtime, eventid",
        "(deleted user, actor, key) set",
    ),
)


@dataclass(frozen=True)
class Asked:
    """One question asked of DuckDB: how long it took, how many rows came back, the reduced answer."""

    question: Question
    seconds: float
    rows: int
    answer: Answer


def ask(con: duckdb.DuckDBPyConnection, question: Question, source: str, facts: WorkshopFacts, files: str | list[str] | None = None) -> Asked:
    params: dict[str, Any] = dict(question.params(facts))
    if source == FILES_SOURCE:
        if files is None:
            raise ValueError("asking the files needs the files")
        params["files"] = files
    began = time.perf_counter()
    rows = con.execute(question.text(source), params).fetchall()
    seconds = time.perf_counter() - began
    return Asked(question, seconds, len(rows), question.reduce_sql(rows, facts))


def ask_files(con: duckdb.DuckDBPyConnection, files: str | list[str], facts: WorkshopFacts) -> list[Asked]:
    """Every question, each reading the files (a glob or a list), records as delivered (no de-duplication)."""
    return [ask(con, q, FILES_SOURCE, facts, files) for q in QUESTIONS]


def load_table(con: duckdb.DuckDBPyConnection, files: str | list[str]) -> tuple[float, int]:
    """Read the files once into the table ``events``, one row per eventID; (seconds, rows)."""
    began = time.perf_counter()
    con.execute(CREATE_TABLE, {"files": files})
    seconds = time.perf_counter() - began
    row = con.execute(f"SELECT count(*) FROM {TABLE_SOURCE}").fetchone()
    return seconds, int(row[0]) if row else 0


def ask_table(con: duckdb.DuckDBPyConnection, facts: WorkshopFacts) -> list[Asked]:
    """Every question, of the de-duplicated table (after :func:`load_table`)."""
    return [ask(con, q, TABLE_SOURCE, facts) for q in QUESTIONS]


def evidence(con: duckdb.DuckDBPyConnection, question: Question, facts: WorkshopFacts) -> list[tuple[str, str, str]]:
    """The (eventid, eventtime, eventname) rows behind a question, from the de-duplicated table."""
    rows = con.execute(question.evidence_sql.format(source=TABLE_SOURCE), dict(question.params(facts))).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


@dataclass
class Comparison:
    """keytrail's answer to one question next to DuckDB's."""

    question: Question
    keytrail: Answer
    deduplicated: Answer
    as_delivered: Answer
    keytrail_rows: int
    keytrail_event_ids: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return self.keytrail == self.deduplicated


def compare(question: Question, keytrail_rows: list[dict[str, Any]], table: Asked, files: Asked, facts: WorkshopFacts) -> Comparison:
    return Comparison(
        question,
        question.reduce_keytrail(keytrail_rows, facts),
        table.answer,
        files.answer,
        len(keytrail_rows),
        [str(r["eventID"]) for r in keytrail_rows if r.get("eventID")],
    )
