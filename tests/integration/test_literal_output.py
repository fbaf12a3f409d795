"""Hostile text in the logs through every command and format, on both stores: shown literally, never acted on.

The workshop incident with its attacker's user agent, a created user's name and a read secret's id replaced by
strings that markup, links, escape sequences, Markdown or HTML would act on.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.sample import workshop_incident

INCIDENT = workshop_incident()
KEY = INCIDENT.facts.leaked_key.access_key_id
AGENT = "\x1b]8;;https://evil.example\x1b\\aws-cli\x1b]8;;\x1b\\ \x1b[2J [link=https://evil.example]x[/link] :smile: a|b <script>"
NAME = "[/bold]x[bold]"
#: The name of the user the leaked key made a dormant key for, everywhere the records name it.
USER = "mm|dev <script>alert(1)</script> [x](https://evil.example) `c` \u202eoops \x1b[2J"


def hostile_records() -> list[dict[str, Any]]:
    text = json.dumps(INCIDENT.records).replace(INCIDENT.facts.dormant_key.user_name, json.dumps(USER)[1:-1])
    records: list[dict[str, Any]] = json.loads(text)
    for r in records:
        # Events of their own: a shared Neo4j may already hold the workshop's eventIDs, with the original text.
        r["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hostile/{r['eventID']}"))
        if (r.get("userIdentity") or {}).get("accessKeyId") == KEY:
            r["userAgent"] = AGENT
    return records


@pytest.fixture
def cli(cli_store: tuple[list[str], dict[str, str]], tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    args, env = cli_store
    # The suite's Neo4j holds other copies of the workshop's events (other eventIDs, the plain user agent), and
    # key-first-use asks the whole store: empty it first.
    assert CliRunner().invoke(app, [*args, "reset", "--yes"], env=env).exit_code == 0
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"Records": hostile_records()}))
    result = CliRunner().invoke(app, [*args, "load", str(path), "--incident", NAME, "--rejects", str(tmp_path / "r.jsonl")], env=env)
    assert result.exit_code == 0, result.output
    # The load's own summary names the incident as it was typed, markup and all.
    assert f"into incident {NAME} " in result.stdout
    return args, env


def run(cli: tuple[list[str], dict[str, str]], *command: str) -> str:
    args, env = cli
    result = CliRunner().invoke(app, [*args, *command], env=env)
    assert result.exit_code == 0, (command, result.output)
    return result.stdout


def acts(text: str) -> list[str]:
    """What in ``text`` would act on a terminal: escape and control characters."""
    return [c for c in text if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) < 0xA0]


def test_terminal_output_shows_log_text_literally(cli: tuple[list[str], dict[str, str]]) -> None:
    outputs = {
        "blast-radius": run(cli, "blast-radius", KEY, "--incident", NAME),
        "findings": run(cli, "findings", "--incident", NAME),
        "query": run(cli, "query", "key-first-use", "-p", f"key={KEY}"),
        "stats": run(cli, "stats"),
    }
    for command, out in outputs.items():
        assert acts(out) == [] and "\u202e" not in out, command
    # Shown as its escape (cells fold at the table's width: compare without layout).
    assert "\\u202eoops" in "".join(c for c in outputs["blast-radius"] if not c.isspace() and c not in "│┃─━┏┓┗┛┡┩└┘╇╈┳┻╭╮╰╯")
    # The markup and emoji codes are printed as written, not interpreted (an interpreted link would leave only "x").
    agent = "".join(line.strip() for line in outputs["query"].splitlines())
    assert "[link=https://evil.example]x[/link]" in agent.replace("│", "").replace(" ", "") or "[link=" in agent
    assert ":smile:" in agent and "\\x1b]8;;" in agent
    # The incident's name, typed with markup, is shown as typed wherever it appears.
    for command in ("blast-radius", "findings", "stats"):
        assert NAME in outputs[command], command


def test_markdown_escapes_and_json_keeps_the_exact_text(cli: tuple[list[str], dict[str, str]]) -> None:
    md = run(cli, "blast-radius", KEY, "--incident", NAME, "--markdown")
    assert acts(md) == [] and "<script>" not in md and "&lt;script&gt;" in md and "\u202e" not in md
    # The link is written out with its brackets escaped, so Markdown shows it and makes no link of it.
    assert "[x](https://evil" not in md and "\\[x\\](https://evil.example)" in md
    table_rows = [line for line in md.splitlines() if line.startswith("| ")]
    widths = {line.count(" | ") for line in table_rows if "---" not in line}
    assert table_rows and len({line.split(" | ")[0] for line in table_rows}) >= 1
    # Every row of one table has as many cells as its header: no | from the logs made another.
    for block in md.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("| ")]
        assert len({row.count(" | ") for row in rows}) <= 1, block[:200]
    assert widths
    data = json.loads(run(cli, "blast-radius", KEY, "--incident", NAME, "--json"))
    assert data["incident"] == NAME
    assert any(str(c["owner"]).endswith(f":user/{USER}") for c in data["credentials"])
    events = json.loads(run(cli, "query", "key-first-use", "-p", f"key={KEY}", "--json"))
    assert events[0]["userAgent"] == AGENT


def test_an_unknown_incident_named_with_markup_is_a_clean_error(cli: tuple[list[str], dict[str, str]]) -> None:
    args, env = cli
    for command in (["findings"], ["blast-radius", KEY]):
        result = CliRunner().invoke(app, [*args, *command, "--incident", "[/bold]\x1b[2J"], env=env)
        assert result.exit_code == 1 and "no incident" in result.stderr and "\x1b[2J" not in result.stderr
        assert NAME in result.stderr


def test_every_new_output_shows_the_hostile_text_literally(cli: tuple[list[str], dict[str, str]], tmp_path: Path) -> None:
    """Cards at 80 columns, the HTML page, the Timesketch files, the Navigator layer and the indicators."""
    import csv

    args, env = cli
    cards = CliRunner().invoke(app, [*args, "blast-radius", KEY, "--incident", NAME], env={**env, "COLUMNS": "80"})
    assert cards.exit_code == 0 and acts(cards.stdout) == [] and "\u202e" not in cards.stdout
    assert "\\u202eoops" in cards.stdout.replace("\n", "").replace(" ", "")
    page, timeline, lines, layer = (tmp_path / name for name in ("r.html", "t.csv", "t.jsonl", "layer.json"))
    words = ["blast-radius", KEY, "--incident", NAME, "--html", str(page), "--timeline-csv", str(timeline), "--timeline-jsonl", str(lines)]
    result = CliRunner().invoke(app, [*args, *words, "--navigator", str(layer), "--json"], env=env)
    assert result.exit_code == 0, result.output
    html_text = page.read_text()
    assert "<script>alert(1)" not in html_text and acts(html_text.split("<script")[0]) == []
    # Programs get the exact text: the JSON lines, and the indicators of the JSON report.
    assert AGENT in {json.loads(line)["userAgent"] for line in lines.read_text().splitlines()}
    assert ("user-agent", AGENT) in {(i["kind"], i["value"]) for i in json.loads(result.stdout)["indicators"]}
    with timeline.open(newline="") as handle:
        assert AGENT in {row["userAgent"] for row in csv.DictReader(handle)}  # starts with ESC, not a formula: kept
    assert NAME in json.loads(layer.read_text())["name"]


def test_a_megabyte_of_text_in_a_field_goes_through_every_format(cli_store: tuple[list[str], dict[str, str]], tmp_path: Path) -> None:
    args, env = cli_store
    agent = "<b>" + "A" * 1_000_000 + "\x1b[2J[/b]"
    records = hostile_records()
    for record in records:
        record["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"megabyte/{record['eventID']}"))
        if (record.get("userIdentity") or {}).get("accessKeyId") == KEY:
            record["userAgent"] = agent
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"Records": records}))
    incident = f"megabyte-{uuid.uuid4().hex[:8]}"
    assert CliRunner().invoke(app, [*args, "load", str(path), "--incident", incident], env=env).exit_code == 0
    for columns, words in (("80", []), ("160", []), ("160", ["--markdown"]), ("160", ["--html", str(tmp_path / "big.html")])):
        result = CliRunner().invoke(app, [*args, "blast-radius", KEY, "--incident", incident, "--no-timeline", *words], env={**env, "COLUMNS": columns})
        assert result.exit_code == 0, (words, result.output[-500:])
        shown = "\\x1b\\[2J" if "--markdown" in words else "\\x1b[2J"
        assert acts(result.stdout) == [] and shown in result.stdout.replace("\n", "").replace(" ", "").replace("│", "")
    data = json.loads(CliRunner().invoke(app, [*args, "blast-radius", KEY, "--incident", incident, "--json"], env=env).stdout)
    assert ("user-agent", agent) in {(i["kind"], i["value"]) for i in data["indicators"]}
    assert "<b>AAAA" not in (tmp_path / "big.html").read_text()


def test_findings_markdown_escapes_the_logs_and_counts_as_the_json_does(cli: tuple[list[str], dict[str, str]]) -> None:
    md = run(cli, "findings", "--incident", NAME, "--markdown")
    data = json.loads(run(cli, "findings", "--incident", NAME, "--json"))
    assert acts(md) == [] and "<script>" not in md and md.startswith("# Findings in incident ")
    assert f"- {data['total']:,} findings ({data['failed']:,} failed), {len(data['credentials']):,} credentials" in md
    rows = [line for line in md.split("## Credentials to start from", 1)[1].split("\n## ", 1)[0].splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) - 1 == len(data["credentials"])
