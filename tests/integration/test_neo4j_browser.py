"""The real Neo4j Browser, served by the suite's scripts/neo4j-local server, in headless Chromium.

A responder's steps: connect, apply keytrail.grass with ``:style``, set the lineage query's parameters and run it.
What the Browser draws is checked against how the workshop incident was made: its three keys, captioned as the
style says, and their owners; no error frame. The screenshot is saved (``KEYTRAIL_SCREENSHOTS=1`` writes the one
docs/neo4j-browser.md shows).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from keytrail.graph.backends import Backend
from keytrail.graph.neo4j_local import local_home
from keytrail.graph.queries import get_query
from keytrail.graph.runner import reset_store
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.report.browser import browser_text, style_sheet, values_for
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_jsonl
from tests.support import chromium

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "browser" / "neo4j-browser.mjs"
#: Where .ci/run installs playwright-core (npm), which drives the chromium.
NODE_PREFIX = ROOT / ".cache" / "node"
PICTURE = ROOT / "docs" / "images" / "neo4j-browser-lineage.png"


def _driver() -> None:
    if shutil.which("node") is None or not (NODE_PREFIX / "node_modules" / "playwright-core").is_dir():
        if os.environ.get("CI"):
            pytest.fail("node and playwright-core are needed (.ci/run installs playwright-core into .cache/node)")
        pytest.skip("npm install --prefix .cache/node playwright-core")


def test_the_lineage_draws_in_the_browser_with_keytrails_style(neo4j_backend: Backend, neo4j_settings: Any, tmp_path: Path) -> None:
    _driver()
    browser = chromium()
    home = local_home(neo4j_settings.uri)
    if home is None:
        pytest.skip("the suite's Neo4j is not a scripts/neo4j-local server: no Browser to open")
    http = (home / "run" / "neo4j-local.ports").read_text().split()[1]
    incident = workshop_incident()
    facts = incident.facts
    logs = tmp_path / "workshop.jsonl"
    write_jsonl(incident.records, logs)
    reset_store(neo4j_backend)
    Ingest(neo4j_backend, "browser", rejects_path=tmp_path / "r.jsonl").run(FileSource([logs]), [str(logs)])

    query = get_query("lineage")
    param_line, statement = browser_text(query, values_for(query, facts.leaked_key.access_key_id, None)).split("\n", 1)
    (tmp_path / "style.grass").write_text(style_sheet())
    (tmp_path / "1-param.txt").write_text(param_line.rstrip(";"))
    (tmp_path / "2-lineage.txt").write_text(statement)
    shot = tmp_path / "browser.png"
    files = [str(tmp_path / name) for name in ("style.grass", "browser.png", "1-param.txt", "2-lineage.txt")]
    done = subprocess.run(
        ["node", str(SCRIPT), f"http://127.0.0.1:{http}/browser/", neo4j_settings.username or "neo4j", *files],
        input=neo4j_settings.password or "",
        env={**os.environ, "KEYTRAIL_NODE_PREFIX": str(NODE_PREFIX), "KEYTRAIL_CHROMIUM": browser},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    drawn = json.loads(done.stdout.strip().splitlines()[-1])
    keys = (facts.leaked_key.access_key_id, facts.dormant_key.access_key_id, facts.active_key.access_key_id)
    # Three keys and their three owners; each key captioned by the style (prefix, last characters; the Browser may cut them).
    assert drawn["errors"] == [] and drawn["nodes"] == 6, drawn
    for key in keys:
        shown = [c.removeprefix("AKIA…").rstrip("…") for c in drawn["captions"] if c.startswith("AKIA…")]
        assert any(part and key[-6:].startswith(part) for part in shown), (key, drawn)
    assert shot.stat().st_size > 30_000
    if os.environ.get("KEYTRAIL_SCREENSHOTS"):
        shutil.copyfile(shot, PICTURE)
