"""The README's keytrail commands run, as written, on the embedded store (typer's docs_src habit)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_s3_layout

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_EVENT = "EVENT_ID"


def readme_commands() -> list[str]:
    """``keytrail ...`` lines from the README's bash blocks, comments stripped."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("keytrail ") and "--neo4j" not in line:
                commands.append(line)
    return commands


def test_the_readme_has_commands_to_check() -> None:
    assert {"load", "stats", "queries", "query", "reset"} <= {c.split()[1] for c in readme_commands()}


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    incident = workshop_incident()
    monkeypatch.chdir(tmp_path)
    write_s3_layout(incident.records, tmp_path)  # ./AWSLogs/..., as in the README
    env = {"KEYTRAIL_HOME": str(tmp_path / "home"), "NEO4J_URI": "", "COLUMNS": "200"}
    runner = CliRunner()
    assert runner.invoke(app, ["load", "./AWSLogs/", "--incident", "workshop"], env=env).exit_code == 0
    # The README's event: the leaked key's first call (GetCallerIdentity), a record that holds no session token.
    first = min((r for r in incident.records if r["userIdentity"].get("accessKeyId") == incident.facts.leaked_key.access_key_id), key=lambda r: r["eventTime"])
    words = shlex.split(command.replace(EXAMPLE_KEY, incident.facts.leaked_key.access_key_id).replace(EXAMPLE_EVENT, first["eventID"]))[1:]
    result = runner.invoke(app, words, env=env)
    assert result.exit_code == 0, (command, result.output)
    if words[0] == "event" and "--raw" in words:
        assert json.loads(result.stdout) == first
    if "--json" in words:
        value = json.loads(result.stdout)
        if words[0] == "stats":
            assert {"events", "nodes", "relationships"} <= value.keys() and value["events"] == len(incident.records)
        if words[0] == "query" and words[1] == "key-first-use":
            assert value[0]["eventTime"] == "2026-01-07T02:25:18Z"
