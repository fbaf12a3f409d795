"""The Neo4j Browser kit: every query file runs as it is pasted, links carry the report's values, the lineage scales.

Run on the suite's real Neo4j (the Browser's own store); the analysis queries' example values also on the
embedded store.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.graph.backends import Backend
from keytrail.graph.queries import BROWSER_PARAM, analysis_queries, browser_queries, get_query
from keytrail.graph.runner import reset_store
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.report.browser import INVESTIGATION, UnsafeValue, browser_text, investigation_links, style_sheet, values_for, write_kit
from keytrail.sample import workshop_incident
from keytrail.sample.doors import backdoor_role_incident
from keytrail.sample.layout import write_jsonl

WITH_PARAMS = [q for q in [*analysis_queries(), *browser_queries()] if q.params]


def evaluated(neo4j: Backend, map_text: str) -> dict[str, Any]:
    """The values a ``:param`` map sets, as Neo4j (which the Browser asks) evaluates them."""
    value: dict[str, Any] = neo4j.read(f"RETURN {map_text} AS p", {})[0]["p"]
    return value


@pytest.mark.parametrize("query", WITH_PARAMS, ids=lambda q: q.name)
def test_a_query_file_pasted_as_it_is_sets_its_parameters_and_runs(neo4j_backend: Backend, falkordb_backend: Backend, query: Any) -> None:
    lines = query.text.splitlines()
    assert sum(line.startswith(BROWSER_PARAM) for line in lines) == 1 and lines[[line.startswith("//") for line in lines].index(False)].startswith(
        BROWSER_PARAM
    )
    assert query.browser_params is not None
    values = evaluated(neo4j_backend, query.browser_params)
    assert sorted(values) == sorted(p.name for p in query.params)
    neo4j_backend.read(query.body, values)
    if query.kind == "analysis":
        falkordb_backend.read(query.body, values)


@pytest.fixture(scope="module")
def loaded(neo4j_backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    root = tmp_path_factory.mktemp("browser")
    reset_store(neo4j_backend)
    for name, incident in (("workshop", workshop_incident()), ("backdoor", backdoor_role_incident())):
        path = root / f"{name}.jsonl"
        write_jsonl(incident.records, path)
        Ingest(neo4j_backend, name, rejects_path=root / "r.jsonl").run(FileSource([path]), [str(path)])
    return neo4j_backend


def drawn(backend: Backend, name: str, key: str, incident: str | None = None) -> tuple[set[str], list[set[str]]]:
    """The keys a Browser query draws, and the labels of every node it draws."""
    rows = backend.read(get_query(name).body, {"key": key, "incident": incident})
    nodes = [node for row in rows for path in row.values() if path is not None for node in path.nodes]
    return {dict(n)["accessKeyId"] for n in nodes if "AccessKey" in n.labels}, [set(n.labels) for n in nodes]


def test_the_lineage_shows_every_derived_key_and_no_event_but_a_door(loaded: Backend) -> None:
    workshop = workshop_incident().facts
    keys, labels = drawn(loaded, "lineage", workshop.leaked_key.access_key_id)
    assert keys == {workshop.leaked_key.access_key_id, workshop.dormant_key.access_key_id, workshop.active_key.access_key_id}
    assert not any("Event" in found for found in labels), "no event without a door"
    assert drawn(loaded, "lineage", workshop.leaked_key.access_key_id, "workshop")[0] == keys
    # In an incident whose events show none of its steps, the key is drawn alone.
    assert drawn(loaded, "lineage", workshop.leaked_key.access_key_id, "backdoor")[0] == {workshop.leaked_key.access_key_id}
    backdoor = backdoor_role_incident().facts
    keys, labels = drawn(loaded, "lineage", backdoor.leaked_key.access_key_id)
    # Through the door (the role it created): the keys that came in, none minted by a call of the leaked key.
    assert set(backdoor.entry_key_ids) <= keys and backdoor.leaked_key.access_key_id in keys
    events = [found for found in labels if "Event" in found]
    assert 0 < len(events) <= 2 * len(backdoor.door_event_ids)


def test_key_events_are_drawn_on_demand_with_their_targets(loaded: Backend) -> None:
    workshop = workshop_incident()
    key = workshop.facts.leaked_key.access_key_id
    rows = loaded.read(get_query("key-events").body, {"key": key, "incident": None})
    signed = {dict(node)["eventID"] for row in rows for node in row["signed"].nodes if "Event" in node.labels}
    assert signed == {r["eventID"] for r in workshop.records if r["userIdentity"].get("accessKeyId") == key}
    assert loaded.read(get_query("key-events").body, {"key": key, "incident": "backdoor"}) == []


def test_a_link_opens_the_editor_with_the_query_and_the_reports_values(loaded: Backend) -> None:
    key = workshop_incident().facts.leaked_key.access_key_id
    links = investigation_links("http://127.0.0.1:7474/browser/", key, "workshop")
    assert [step for step, _, _ in links] == [step for step, _ in INVESTIGATION]
    for _, name, link in links:
        parts = urlsplit(link)
        assert (parts.netloc, parts.path) == ("127.0.0.1:7474", "/browser/")
        arguments = parse_qs(parts.query)
        assert arguments["cmd"] == ["edit"]
        first, statement = arguments["arg"][0].split("\n", 1)
        query = get_query(name)
        assert statement == query.body and first.startswith(BROWSER_PARAM) and first.endswith(";")
        values = evaluated(loaded, first.removeprefix(BROWSER_PARAM).rstrip(";"))
        assert values == values_for(query, key, "workshop")
        loaded.read(statement, values)


@pytest.mark.parametrize("incident", ["x' }) MATCH (n) DETACH DELETE n //", "a\nb", "back`tick"])
def test_a_value_that_could_change_the_query_is_refused_not_escaped(incident: str) -> None:
    with pytest.raises(UnsafeValue):
        browser_text(get_query("doors-opened"), values_for(get_query("doors-opened"), "AKIAIOSFODNN7EXAMPLE", incident))


def test_the_kit_holds_the_style_and_the_investigation_in_order(tmp_path: Path) -> None:
    style, favourites = write_kit(tmp_path)
    assert style.read_text() == style_sheet() and "node.AccessKey" in style_sheet() and "{caption}" in style_sheet()
    with zipfile.ZipFile(favourites) as archive:
        names = archive.namelist()
        steps = [n for n in names if n.startswith("keytrail investigation/")]
        assert [n.split("(")[-1].removesuffix(").cypher") for n in steps] == [name for _, name in INVESTIGATION]
        for name in names:
            query = get_query(Path(name).stem.split("(")[-1].rstrip(")") if "(" in name else Path(name).stem)
            assert archive.read(name).decode() == query.text
    assert {Path(n).stem for n in names if n.startswith("keytrail queries/")} | {name for _, name in INVESTIGATION} >= {q.name for q in analysis_queries()}


def test_browser_and_blast_radius_print_the_links(loaded: Backend, neo4j_settings: Any, tmp_path: Path) -> None:
    key = workshop_incident().facts.leaked_key.access_key_id
    env = {"NEO4J_USERNAME": neo4j_settings.username or "", "NEO4J_PASSWORD": neo4j_settings.password or ""}
    args = ["--neo4j", neo4j_settings.uri]
    kit = CliRunner().invoke(app, [*args, "browser", key, "-i", "workshop", "--out", str(tmp_path / "kit")], env=env)
    assert kit.exit_code == 0, kit.output
    assert (tmp_path / "kit" / "keytrail.grass").is_file() and kit.stdout.count("?cmd=edit&arg=") == len(INVESTIGATION)
    report = CliRunner().invoke(app, [*args, "blast-radius", key, "-i", "workshop", "--browser"], env={**env, "COLUMNS": "200"})
    assert report.exit_code == 0, report.output
    assert report.stdout.count("?cmd=edit&arg=") == len(INVESTIGATION)
    refused = CliRunner().invoke(app, [*args, "browser", "not-a-key"], env=env)
    assert refused.exit_code == 2 and "not an access key id" in refused.stderr


def test_each_store_gets_the_caption_the_style_shows(loaded: Backend) -> None:
    key = workshop_incident().facts.leaked_key.access_key_id
    assert loaded.read("MATCH (k:AccessKey {accessKeyId: $key}) RETURN k.caption AS caption", {"key": key}) == [{"caption": f"AKIA…{key[-6:]}"}]
