"""``blast-radius --html``: one page, opened in headless Chromium as a person would, with no console message.

The graph's nodes are checked against how the incidents were generated: the workshop's three keys, the backdoor
role incident's door and the keys that came in through it, and each failed attempt against the records.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.sample import workshop_incident
from keytrail.sample.doors import backdoor_role_incident
from keytrail.sample.layout import write_jsonl
from tests.integration.test_literal_output import AGENT, USER, hostile_records
from tests.support import open_page

ROOT = Path(__file__).resolve().parents[2]
#: Where the README's picture of the page is kept; KEYTRAIL_SCREENSHOTS=1 writes it again.
README_PICTURE = ROOT / "docs" / "images" / "blast-radius-html.png"


def page_of(tmp_path: Path, records: list[dict[str, Any]], key: str, incident: str = "html") -> Path:
    logs = tmp_path / "logs.jsonl"
    write_jsonl(records, logs)
    home, env = ["--home", str(tmp_path / "home")], {"NEO4J_URI": ""}
    page = tmp_path / "report.html"
    try:
        assert CliRunner().invoke(app, [*home, "load", str(logs), "-i", incident], env=env).exit_code == 0
        result = CliRunner().invoke(app, [*home, "blast-radius", key, "-i", incident, "--html", str(page)], env=env)
        assert result.exit_code == 0, result.output
    finally:
        CliRunner().invoke(app, [*home, "store", "stop"], env=env)
    return page


def drawn(dom: str, name: str) -> Any:
    found = re.search(rf'data-{name}="([^"]*)"', dom)
    assert found, f"the page did not record {name}: its script did not run to the end"
    return json.loads(html.unescape(found.group(1)))


def failed_attempts(records: list[dict[str, Any]], keys: set[str], findings: set[str]) -> set[str]:
    return {
        f"failed:{r['userIdentity']['accessKeyId']}:{r['eventName']}:{r['errorCode']}"
        for r in records
        if r.get("errorCode") and r["userIdentity"].get("accessKeyId") in keys and r["eventID"] in findings
    }


def test_the_workshop_page_draws_its_keys_and_failed_attempts(tmp_path: Path) -> None:
    incident = workshop_incident()
    facts = incident.facts
    keys = {facts.leaked_key.access_key_id, facts.dormant_key.access_key_id, facts.active_key.access_key_id}
    page = page_of(tmp_path, incident.records, facts.leaked_key.access_key_id)
    text = page.read_text()
    # Nothing to load: no src or href in the markup, and a policy that would refuse any request anyway.
    markup = re.sub(r"<script\b.*?</script>", "", text, flags=re.S)
    assert not re.search(r"\s(src|href)=", markup) and "default-src &#x27;none&#x27;" in markup
    shot = tmp_path / "report.png"
    dom, console = open_page(page, tmp_path, screenshot=shot)
    assert console == [] and "data-errors" not in dom
    nodes = set(drawn(dom, "graph-nodes"))
    findings = {r["eventID"] for r in incident.records if r.get("errorCode")}  # every failed call of these keys is mapped
    assert {n for n in nodes if not n.startswith("failed:")} == keys
    assert {n for n in nodes if n.startswith("failed:")} == failed_attempts(incident.records, keys, findings) != set()
    assert set(drawn(dom, "graph-edges")) >= {f"{facts.leaked_key.access_key_id} > {k}" for k in keys - {facts.leaked_key.access_key_id}}
    assert shot.stat().st_size > 20_000
    if README_PICTURE.parent.is_dir() and __import__("os").environ.get("KEYTRAIL_SCREENSHOTS"):
        shutil.copyfile(shot, README_PICTURE)


def test_a_door_and_the_keys_that_came_through_it_are_drawn(tmp_path: Path) -> None:
    incident = backdoor_role_incident()
    facts = incident.facts
    page = page_of(tmp_path, incident.records, facts.leaked_key.access_key_id)
    dom, console = open_page(page, tmp_path)
    assert console == []
    nodes, edges = set(drawn(dom, "graph-nodes")), set(drawn(dom, "graph-edges"))
    doors = {n for n in nodes if n.startswith("door:")}
    assert doors and any(facts.role_arn in door for door in doors)
    for key in facts.entry_key_ids:
        assert key in nodes and any(edge.endswith(f" > {key}") and edge.startswith("door:") for edge in edges), key


def test_log_text_in_the_page_is_shown_never_run(tmp_path: Path) -> None:
    key = workshop_incident().facts.leaked_key.access_key_id
    page = page_of(tmp_path, hostile_records(), key)
    text = page.read_text()
    # Three scripts, all the page's own: the graph's data (JSON, never run), Cytoscape and the page's script.
    assert len(re.findall(r"<script\b", text)) == 3 and "<script>alert(1)" not in text
    dom, console = open_page(page, tmp_path)
    assert console == [] and len(re.findall(r"<script\b", dom)) == 3
    # The user's name is in the tables as text: every character escaped, the bidirectional override shown as its escape.
    assert html.escape(USER.replace("\u202e", "\\u202e").replace("\x1b", "\\x1b"))[:40] in text
    assert AGENT not in text


@pytest.mark.parametrize("width", [800, 1600])
def test_the_page_fits_the_window_it_is_opened_in(tmp_path: Path, width: int) -> None:
    incident = workshop_incident()
    page = page_of(tmp_path, incident.records, incident.facts.leaked_key.access_key_id)
    dom, console = open_page(page, tmp_path, width=width)
    assert console == [] and drawn(dom, "graph-nodes")
