"""``keytrail demo`` answers the workshop's questions offline, in a store of its own."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.sample import workshop_incident


def test_demo_prints_the_workshop_answers_without_any_server(tmp_path: Path) -> None:
    facts = workshop_incident().facts
    # A Neo4j URI that answers nothing: the demo must not need it.
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "demo"], env={"NEO4J_URI": "bolt://127.0.0.1:9", "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2026-01-07T02:25:18Z  GetCallerIdentity" in out
    assert "IAMUser tdir-workshop-sysdev" in out
    assert f"{facts.dormant_key.access_key_id} for tdir-workshop-mmajor-dev" in out and "never used (a sleeper)" in out
    assert f"{facts.active_key.access_key_id} for tdir-workshop-nwolf-dev" in out and "used 5 times" in out
    assert f"DeleteUser by tdir-workshop-nwolf-dev with key {facts.active_key.access_key_id}" in out
    assert "Neo4j Browser" in out
    # It ends with the one-command answer: the blast radius of the leaked key, with the sleeper it left.
    report = out.split(f"The same in one command: keytrail blast-radius {facts.leaked_key.access_key_id}", 1)[1]
    assert "Containment" in report and facts.dormant_key.access_key_id in report.split("Sleepers", 1)[1]
    page = tmp_path / "demo" / "blast-radius.html"
    assert f"{page} (open it in a browser" in out.replace("\n", "") and facts.dormant_key.access_key_id in page.read_text()
    assert (tmp_path / "demo" / "store" / "keytrail.db").is_file()
    again = CliRunner().invoke(app, ["--home", str(tmp_path), "demo"], env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "= 320 loaded" in again.stdout, "a second demo starts from a fresh store"
