"""A bulk load (``neo4j-admin database import`` of the CSV files keytrail writes) stores the same graph as an online load.

The same records go online into the suite's Neo4j and in bulk into a ``scripts/neo4j-local``
server of this module's own (the import replaces the database, and CI's shared server has
the suite's data): the whole-graph snapshots (every node and relationship with every property,
load stamps aside), the load summaries and ``blast-radius --json`` must be identical. The
records are the scenarios with known answers, the real corpus, synthetic ones, and records
made of hostile text, plus duplicates, a conflicting copy and a bad record so that the
accounting is exercised too.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.graph.backends import Neo4jBackend, Neo4jSettings
from keytrail.graph.bulk import BulkError, BulkLoad
from keytrail.graph.runner import reset_store
from keytrail.ingest import Ingest, LoadSummary, new_run_id
from keytrail.loaders.files import FileSource
from keytrail.sample import cross_account_incident, session_token_incident, synthetic_records, workshop_incident
from keytrail.sample.doors import DOOR_INCIDENTS
from keytrail.sample.layout import write_jsonl, write_s3_layout
from keytrail.sample.routine import routine_key_incident

from ..support import free_port
from .snapshot import accounting, load_afresh, snapshot

pytestmark = pytest.mark.neo4j

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "neo4j-local"
CORPUS_PARTS = ("invictus-aws-dataset", "stratus-red-team", "flaws2")


@pytest.fixture(scope="module")
def bulk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Neo4jSettings, Path]]:
    """A neo4j-local server of this module's own: its settings and its home."""
    home = tmp_path_factory.mktemp("bulk-neo4j")
    env = dict(os.environ, KEYTRAIL_NEO4J_HOME=str(home), NEO4J_BOLT_PORT=str(free_port()), NEO4J_HTTP_PORT=str(free_port()), NEO4J_HEAP="1g")
    env["NEO4J_PAGECACHE"] = "256m"
    started = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    if started.returncode != 0:
        message = f"scripts/neo4j-local start failed: {started.stdout[-2000:]}{started.stderr[-2000:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        password = (home / "run" / "password").read_text().strip()
        yield Neo4jSettings(f"bolt://127.0.0.1:{env['NEO4J_BOLT_PORT']}", "neo4j", password), home
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def _empty(settings: Neo4jSettings) -> Neo4jBackend:
    """The bulk server, emptied of everything (as a fresh store is)."""
    backend = Neo4jBackend(settings)
    backend.write("MATCH (n) DETACH DELETE n", {})
    return backend


def bulk_load(settings: Neo4jSettings, home: Path, paths: list[Path], incident: str, rejects: Path, batch_size: int = 2_000) -> LoadSummary:
    backend = _empty(settings)
    try:
        run_id = new_run_id()
        bulk = BulkLoad(backend, settings, run_id, home=home)
        ingest = Ingest(bulk.store, incident, batch_size=batch_size, rejects_path=rejects, run_id=run_id)
        summary = bulk.load(ingest, FileSource(paths), [str(p) for p in paths])
    finally:
        backend.close()
    assert summary.balanced
    return summary


def _blast_radius(settings: Neo4jSettings, key: str, incident: str) -> Any:
    env = {"NEO4J_USERNAME": settings.username or "", "NEO4J_PASSWORD": settings.password or ""}
    result = CliRunner().invoke(app, ["--neo4j", settings.uri, "blast-radius", key, "--incident", incident, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _differences(online: dict[str, Any], bulk: dict[str, Any]) -> list[str]:
    out = []
    for part in ("nodes", "relationships"):
        out += [f"{part} online only: {str(x)[:300]}" for x in list((online[part] - bulk[part]).items())[:3]]
        out += [f"{part} bulk only: {str(x)[:300]}" for x in list((bulk[part] - online[part]).items())[:3]]
    return out


@pytest.fixture(scope="module")
def records_folder(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """Scenarios, synthetic S3 log files, the real corpus (copied), duplicates, a conflicting copy and a bad record."""
    root = tmp_path_factory.mktemp("bulk-records")
    scenarios = {
        "workshop": workshop_incident(),
        "session-token": session_token_incident(),
        "cross-account": cross_account_incident(),
        "routine-key": routine_key_incident(),
        **{f"door-{name}": make() for name, make in DOOR_INCIDENTS},
    }
    for name, incident in scenarios.items():
        write_jsonl(incident.records, root / f"{name}.jsonl")
    write_s3_layout(synthetic_records(6_000, seed=7), root / "synthetic")
    first = scenarios["workshop"].records
    # The same records again (duplicates), one with other content under its eventID (a conflict), one without an eventID (a rejection).
    changed = dict(first[1], errorMessage="not what was read first")
    bad = {k: v for k, v in first[2].items() if k != "eventID"}
    write_jsonl([*first[:5], changed, bad], root / "zz-again.jsonl")
    # Read first: a call of a known action under another service name. An Action keeps the source it was first stored with.
    renamed = dict(first[3], eventID="bulk-renamed-source", eventSource=first[3]["eventSource"].split(".", 1)[0] + ".example.com")
    write_jsonl([renamed], root / "0-renamed.jsonl")
    for part in CORPUS_PARTS:
        subprocess.run(["cp", "-r", str(corpus / part), str(root / part)], check=True)
    return root


def test_a_bulk_load_stores_the_same_graph_as_an_online_load(
    bulk_server: tuple[Neo4jSettings, Path], neo4j_backend: Neo4jBackend, neo4j_settings: Neo4jSettings, records_folder: Path, tmp_path: Path
) -> None:
    settings, home = bulk_server
    paths = [records_folder]
    # Small batches, so that nodes and edges met again are merged across batches (online by the write queries themselves).
    # The same size for both: which copy a conflict is said to meet first (the store, or a record of the batch) depends on it.
    online = load_afresh(neo4j_backend, paths, "parity", tmp_path / "online-rejects.jsonl", batch_size=50)
    bulk = bulk_load(settings, home, paths, "parity", tmp_path / "bulk-rejects.jsonl", batch_size=50)
    assert accounting(bulk) == accounting(online)
    assert (online.duplicates, online.conflicts, online.rejected) == (5, 1, 2), "the records were meant to hold duplicates, a conflict and a bad record"
    assert (tmp_path / "bulk-rejects.jsonl").read_text() == (tmp_path / "online-rejects.jsonl").read_text()

    backend = Neo4jBackend(settings)
    try:
        bulk_graph = snapshot(backend)
    finally:
        backend.close()
    online_graph = snapshot(neo4j_backend)
    assert sum(online_graph["nodes"].values()) > online.loaded, "the snapshot should hold every event and more"
    assert bulk_graph == online_graph, _differences(online_graph, bulk_graph)

    keys = [workshop_incident().facts.leaked_key.access_key_id, session_token_incident().facts.leaked_key.access_key_id]
    for key in keys:
        online_report = _blast_radius(neo4j_settings, key, "parity")
        assert online_report["timeline"], f"blast-radius {key} found nothing: the comparison would prove nothing"
        assert _blast_radius(settings, key, "parity") == online_report


def test_a_bulk_load_refuses_a_store_that_is_not_empty(bulk_server: tuple[Neo4jSettings, Path], tmp_path: Path) -> None:
    settings, home = bulk_server
    backend = _empty(settings)
    try:
        backend.write("CREATE (:Evidence {kept: true})", {})
        with pytest.raises(BulkError, match=r"not empty.*online load.*keytrail reset"):
            BulkLoad(backend, settings, new_run_id(), home=home)
        assert backend.read("MATCH (n:Evidence) RETURN n.kept AS kept", {}) == [{"kept": True}]
        assert not any((home / "import").glob("keytrail-bulk-*")), "a refused bulk load leaves no files"
    finally:
        backend.close()


#: Text CloudTrail may carry, and that CSV or its importer could change: quotes, delimiters, line ends,
#: backslashes (the importer's legacy escaping), every control character, the array delimiters,
#: unicode beyond the BMP, and strings that look like numbers, arrays, booleans or nothing.
HOSTILE = [
    "\x1f",
    "\x1e;",
    '"',
    '""',
    '"quoted"',
    "a,b",
    ",",
    "a\nb",
    "a\r\nb",
    "\r",
    "trailing\n",
    "\\",
    '\\"',
    'x\\",y',
    "\\n",
    ";",
    "a;b",
    "|",
    *[chr(cp) for cp in range(0x20) if chr(cp) not in "\n\r"],
    "\x7f",
    "\x85",
    "\u2028\u2029",
    "\ufeffbom",
    "\ufdd0",
    "\u202eevil",
    "😀🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "\U0010fffd",
    "12",
    "-0",
    "1e5",
    "0x1F",
    "3.0",
    "[1,2]",
    '["a","b"]',
    "{}",
    "true",
    "null",
    "NaN",
    " padded ",
    "\t",
    "é",
    "e\u0301",
]


def _hostile(base: dict[str, Any], text: str, n: int) -> dict[str, Any]:
    identity = dict(base["userIdentity"], userName=f"u{text}{n}", arn=f"arn:aws:iam::111122223333:user/u{text}{n}")
    return dict(
        base,
        # The eventID too: a node key, an import id, an edge's property, and (the first ten, one key) the elements of USED's eventIDs.
        eventID=f"{n:03d}{text}",
        userAgent=f"agent{text}",
        sourceIPAddress=f"{text}",
        requestParameters={"userName": text, "text": [text, text + text], "n": n},
        userIdentity=identity,
    )


def test_hostile_text_comes_back_byte_identical_and_typed(bulk_server: tuple[Neo4jSettings, Path], neo4j_backend: Neo4jBackend, tmp_path: Path) -> None:
    settings, home = bulk_server
    base = next(r for r in workshop_incident().records if r["userIdentity"].get("type") == "IAMUser" and r["eventName"] == "CreateAccessKey")
    records = [_hostile(base, text, n) for n, text in enumerate(HOSTILE)]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    online = load_afresh(neo4j_backend, [path], "hostile\x1f;", tmp_path / "online-rejects.jsonl")
    bulk = bulk_load(settings, home, [path], "hostile\x1f;", tmp_path / "bulk-rejects.jsonl")
    assert (online.loaded, online.rejected) == (len(records), 0), online.problems
    assert accounting(bulk) == accounting(online)

    backend = Neo4jBackend(settings)
    try:
        bulk_graph = snapshot(backend)
        # Read back without the snapshot's JSON: each value as the driver gives it, type included.
        for record in records:
            [row] = backend.read(
                "MATCH (e:Event {eventID: $id})-[:WITH_AGENT]->(u:UserAgent) MATCH (e)-[:FROM_IP]->(ip:SourceIP) "
                "MATCH (p:Principal)-[:MADE]->(e) RETURN e AS event, u.value AS agent, ip.address AS address, p.name AS user",
                {"id": record["eventID"]},
            )
            event = row["event"]
            assert json.loads(event["raw"]) == record
            assert (row["agent"], row["address"], row["user"]) == (record["userAgent"], record["sourceIPAddress"], record["userIdentity"]["userName"])
            assert (event["eventID"], event["userAgent"], event["incidents"]) == (record["eventID"], record["userAgent"], ["hostile\x1f;"])
            assert type(event["sourceIndex"]) is int and type(event["ts"]) is int and type(event["succeeded"]) is bool
        [used] = backend.read("MATCH (:AccessKey)-[u:USED]->(:Action) RETURN u.eventIDs AS ids, u.count AS count", {})
        assert used == {"ids": sorted(r["eventID"] for r in records)[:10], "count": len(records)}
        assert "000\x1f" in used["ids"], "an array element holding U+001F: the import's array delimiter must be another"
    finally:
        backend.close()
    online_graph = snapshot(neo4j_backend)
    assert bulk_graph == online_graph, _differences(online_graph, bulk_graph)


def _cli(settings: Neo4jSettings, home: Path | None, *words: str) -> Any:
    env = {"NEO4J_USERNAME": settings.username or "", "NEO4J_PASSWORD": settings.password or ""}
    if home is not None:
        env["KEYTRAIL_NEO4J_HOME"] = str(home)
    return CliRunner().invoke(app, ["--neo4j", settings.uri, *words], env=env)


def test_load_bulk_prints_the_summary_an_online_load_prints_and_refuses_a_second_time(
    bulk_server: tuple[Neo4jSettings, Path], neo4j_backend: Neo4jBackend, neo4j_settings: Neo4jSettings, records_folder: Path, tmp_path: Path
) -> None:
    settings, home = bulk_server
    _empty(settings).close()
    reset_store(neo4j_backend)
    target = str(records_folder / "workshop.jsonl")
    online = _cli(neo4j_settings, None, "load", target, "-i", "cli", "--json", "--rejects", str(tmp_path / "online.jsonl"))
    bulk = _cli(settings, home, "load", target, "-i", "cli", "--json", "--bulk", "--rejects", str(tmp_path / "bulk.jsonl"))
    assert (online.exit_code, bulk.exit_code) == (0, 0), bulk.output
    comparable = [{k: v for k, v in json.loads(r.stdout).items() if k not in ("run_id", "seconds")} for r in (online, bulk)]
    assert comparable[1] == comparable[0] and comparable[0]["loaded"] == len(workshop_incident().records)

    again = _cli(settings, home, "load", target, "-i", "cli", "--bulk", "--rejects", str(tmp_path / "again.jsonl"))
    assert again.exit_code == 1
    assert "is not empty" in again.stderr and "keytrail reset" in again.stderr and len(again.stderr.strip().splitlines()) == 1, again.stderr
    backend = Neo4jBackend(settings)
    try:
        assert backend.read("MATCH (e:Event) RETURN count(e) AS n", {}) == [{"n": len(workshop_incident().records)}]
    finally:
        backend.close()

    embedded = CliRunner().invoke(app, ["--home", str(tmp_path / "home"), "load", target, "--bulk"], env={"NEO4J_URI": ""})
    assert embedded.exit_code == 1 and "--bulk imports into Neo4j" in embedded.stderr, embedded.output
