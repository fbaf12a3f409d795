"""Whatever characters a record's text holds, it is stored and read back exactly, on both stores.

FalkorDB's protocol cannot carry some characters (a NUL ends a parameter; its server crashed on
others), so the embedded store encodes them losslessly and decodes them on read
(``backends._encode``); Neo4j carries them as they are. The text goes into node keys (user
agents, addresses, principals), event properties and query parameters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keytrail.graph.backends import Backend
from keytrail.graph.runner import reset_store, run_query
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.sample import workshop_incident

#: Every C0 control character, DEL, the C1 range's first, the escape the embedded store uses
#: (alone and before what its encoding writes), the byte-order mark and a right-to-left override.
HARD = [chr(cp) for cp in range(0x20)] + ["\x7f", "\x80", "\ufdd0", "\ufdd0\u2401", "\ufdd0\ufdd0", "\ufeff", "\u202e"]


def _with_text(base: dict[str, Any], text: str, n: int) -> dict[str, Any]:
    identity = dict(base["userIdentity"], userName=f"user{text}{n}", arn=f"arn:aws:iam::111122223333:user/user{text}{n}")
    return dict(base, eventID=f"any-text-{n}", userAgent=f"agent{text}", sourceIPAddress=f"203.0.113.{n % 250}{text}", userIdentity=identity)


def _load(backend: Backend, records: list[dict[str, Any]], folder: Path) -> None:
    reset_store(backend)
    path = folder / "text.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    summary = Ingest(backend, "text", rejects_path=folder / "rejects.jsonl").run(FileSource([path]), [str(path)])
    assert (summary.loaded, summary.rejected) == (len(records), 0), summary.problems


def _read_back(backend: Backend, records: list[dict[str, Any]]) -> None:
    for record in records:
        [row] = run_query(backend, "event-record", {"eventID": record["eventID"]})
        assert json.loads(row["raw"]) == record
    wanted = {r["eventID"]: r for r in records}
    stored = backend.read(
        "MATCH (p:Principal)-[:MADE]->(e:Event)-[:WITH_AGENT]->(u:UserAgent) MATCH (e)-[:FROM_IP]->(ip:SourceIP) "
        "WHERE e.eventID IN $ids RETURN e.eventID AS id, u.value AS agent, ip.address AS address, p.name AS user, e.userAgent AS onEvent",
        {"ids": list(wanted)},
    )
    assert len(stored) == len(records)
    for row in stored:
        record = wanted[row["id"]]
        assert (row["agent"], row["onEvent"], row["address"], row["user"]) == (
            record["userAgent"],
            record["userAgent"],
            record["sourceIPAddress"],
            record["userIdentity"]["userName"],
        )
        # A parameter holding the same characters finds the node.
        assert backend.read("MATCH (u:UserAgent {value: $v}) RETURN count(u) AS n", {"v": record["userAgent"]}) == [{"n": 1}]


def _base() -> dict[str, Any]:
    return next(r for r in workshop_incident().records if r["userIdentity"].get("type") == "IAMUser" and r["userIdentity"].get("userName"))


def test_every_hard_character_is_stored_and_read_back_exactly(backend: Backend, tmp_path: Path) -> None:
    records = [_with_text(_base(), text, n) for n, text in enumerate(HARD)]
    _load(backend, records, tmp_path)
    _read_back(backend, records)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=40), min_size=1, max_size=8, unique=True))
def test_any_text_is_stored_and_read_back_exactly(backend: Backend, tmp_path: Path, texts: list[str]) -> None:
    records = [_with_text(_base(), text, n) for n, text in enumerate(texts)]
    _load(backend, records, tmp_path)
    _read_back(backend, records)
