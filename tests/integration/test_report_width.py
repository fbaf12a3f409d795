"""The terminal report as a responder reads it: the summary on the first screen, cards at 80 columns, tables when wider.

Run on the SANS incident of ../shared/corpus (the leaked key AKIAU7JNXC7K7XNL3F6J and the key it made,
AKIAU7JNXC7KZLY6XYHJ, per its SOURCES.md) in an embedded store of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from keytrail.cli.main import app

KEY, MADE = "AKIAU7JNXC7K7XNL3F6J", "AKIAU7JNXC7KZLY6XYHJ"


@pytest.fixture(scope="module")
def sans(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = ["--home", str(tmp_path_factory.mktemp("width") / "home")]
    loaded = CliRunner().invoke(app, [*home, "load", str(corpus / "sans504-s3-ransomware-lab"), "-i", "sans"], env={"NEO4J_URI": ""})
    assert loaded.exit_code == 0, loaded.output
    yield home
    CliRunner().invoke(app, [*home, "store", "stop"], env={"NEO4J_URI": ""})


def report(home: list[str], columns: int, *words: str) -> str:
    result = CliRunner().invoke(app, [*home, "blast-radius", KEY, *words], env={"NEO4J_URI": "", "COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_at_80_columns_the_summary_comes_first_and_every_line_fits(sans: list[str]) -> None:
    text = report(sans, 80)
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    summary = lines[: lines.index("Credentials")]
    assert len(summary) <= 24, "the summary is one screen"
    joined = " ".join(summary)
    for words in ("Identity: IAMUser jmerckle", f"Still alive at the end of the evidence: {KEY} (jmerckle)", "Findings: privilege-escalation", "Containment:"):
        assert words in joined, words
    # Ids are never folded: each is whole on a line of its own card, ready to copy.
    assert f"• {KEY}" in lines and f"• {MADE}" in lines
    assert not any(line.startswith(("┏", "│")) for line in lines), "cards, not tables, at 80 columns"


def test_discovery_findings_are_counted_unless_all_asks_for_them(sans: list[str]) -> None:
    data = json.loads(CliRunner().invoke(app, [*sans, "blast-radius", KEY, "--json"], env={"NEO4J_URI": ""}).stdout)
    discovery = [f for f in data["findings"] if f["category"] == "discovery"]
    others = [f for f in data["findings"] if f["category"] != "discovery"]
    assert discovery and others

    def cards(text: str) -> list[str]:
        section = text.split("\nFindings\n", 1)[1].split("\nSleepers", 1)[0]
        return [line for line in section.splitlines() if line.startswith("• ")]

    default, everything = report(sans, 80, "--no-timeline"), report(sans, 80, "--no-timeline", "--all")
    assert len(cards(default)) == len(others) and all(" discovery " not in card for card in cards(default))
    assert f"{len(discovery)} discovery calls" in " ".join(default.split("\nFindings\n", 1)[1].splitlines()[:6])
    assert len(cards(everything)) == len(data["findings"])


def test_wider_output_uses_the_width_it_is_given(sans: list[str]) -> None:
    text = report(sans, 140, "--no-timeline")
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= 140 and any(line.startswith("┏") for line in lines)
    assert max(cell_len(line) for line in lines) > 100, "tables spread to the width"
