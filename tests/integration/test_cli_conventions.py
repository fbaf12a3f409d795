"""Command-line conventions: ``--version``, shell completion, the exit codes, a closed pipe, ``load -``."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keytrail import __version__
from keytrail.cli import exits
from keytrail.cli.demo import browser_hint
from keytrail.cli.main import app
from keytrail.cli.settings import make_settings
from keytrail.graph.backends import open_backend
from keytrail.sample import workshop_incident

ROOT = Path(__file__).resolve().parents[2]
#: The console script pip installed beside this Python (completion is keyed by the program's name).
KEYTRAIL = [str(Path(sys.executable).with_name("keytrail"))]
KEY = workshop_incident().facts.leaked_key.access_key_id


def test_version_is_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert result.exit_code == 0 and result.stdout == f"keytrail {project['version']}\n" and __version__ == project["version"]


def test_shell_completion_completes_commands_and_options() -> None:
    env = {**os.environ, "_KEYTRAIL_COMPLETE": "complete_bash", "COMP_WORDS": "keytrail bl", "COMP_CWORD": "1"}
    commands = subprocess.run(KEYTRAIL, env=env, capture_output=True, text=True, timeout=60)
    assert commands.stdout.split() == ["blast-radius"], commands
    env.update(COMP_WORDS="keytrail blast-radius --mark", COMP_CWORD="2")
    options = subprocess.run(KEYTRAIL, env=env, capture_output=True, text=True, timeout=60)
    assert options.stdout.split() == ["--markdown"], options
    script = CliRunner().invoke(app, ["--show-completion", "bash"])
    assert script.exit_code == 0 and "_KEYTRAIL_COMPLETE=complete_bash" in script.stdout


def test_the_exit_codes_documented_are_the_ones_the_code_uses() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    table = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = [tuple(cell.strip() for cell in line.strip("|").split("|")) for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1:] == [(status, name, meaning) for status, name, meaning in exits.EXIT_CODES]
    used = {int(m) for path in (ROOT / "keytrail" / "cli").glob("*.py") for m in re.findall(r"typer\.Exit\((\d+)\)", path.read_text())}
    assert used == set(), f"exit statuses written as numbers instead of keytrail.cli.exits names: {used}"


@pytest.fixture(scope="module")
def embedded_home(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("conventions") / "home"
    logs = home.parent / "workshop.json"
    logs.write_text(json.dumps({"Records": workshop_incident().records}))
    env = {**os.environ, "NEO4J_URI": ""}
    loaded = subprocess.run([*KEYTRAIL, "--home", str(home), "load", str(logs), "-i", "w"], env=env, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    yield home, env
    subprocess.run([*KEYTRAIL, "--home", str(home), "store", "stop"], env=env, capture_output=True, timeout=120)


@pytest.mark.parametrize(
    "words",
    [["findings"], ["findings", "--json"], ["blast-radius", KEY], ["blast-radius", KEY, "--markdown"], ["stats"], ["store", "status"]],
    ids=" ".join,
)
def test_a_closed_pipe_ends_the_command_quietly_with_its_own_status(embedded_home: tuple[Path, dict[str, str]], words: list[str]) -> None:
    home, env = embedded_home
    # The reading end is closed before the command writes anything, as `| head` leaves it once it has its lines:
    # the first write meets EPIPE, whatever the pipe's buffer holds.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([*KEYTRAIL, "--home", str(home), *words], env=env, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (exits.BROKEN_PIPE, ""), words


def test_a_key_not_in_the_store_is_still_not_all_with_output_to_a_pipe(embedded_home: tuple[Path, dict[str, str]]) -> None:
    home, env = embedded_home
    done = subprocess.run([*KEYTRAIL, "--home", str(home), "blast-radius", "AKIAXXXXXXXXXXXXXXXX"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == exits.NOT_ALL and "AKIAXXXXXXXXXXXXXXXX" in done.stdout


def test_load_dash_reads_standard_input(cli_store: tuple[list[str], dict[str, str]]) -> None:
    args, env = cli_store
    records = workshop_incident().records
    piped = gzip.compress("\n".join(json.dumps(r) for r in records).encode())
    result = CliRunner().invoke(app, [*args, "load", "-", "--incident", "piped", "--json"], input=piped, env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["read"] == len(records) and summary["loaded"] + summary["duplicates"] == len(records) and summary["origins"] == 1
    # The load keeps what it read, as for a file: the stream's SHA-256 and size, under the origin <stdin>.
    neo4j = args[1] if args[0] == "--neo4j" else None
    settings = make_settings(neo4j, env.get("NEO4J_USERNAME") or None, env.get("NEO4J_PASSWORD") or None, "neo4j", None if neo4j else Path(args[1]))
    backend = open_backend(settings.neo4j, settings.home)
    try:
        run = backend.read("MATCH (r:LoadRun {runId: $id}) RETURN r.inputDigests AS digests, r.inputs AS inputs", {"id": summary["run_id"]})
    finally:
        backend.close()
    assert run == [{"digests": [f"sha256:{hashlib.sha256(piped).hexdigest()} {len(piped)} <stdin>"], "inputs": ["-"]}]


def test_load_dash_with_nothing_on_standard_input_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--home", str(tmp_path / "h"), "load", "-", "--json"], input=b"", env={"NEO4J_URI": ""})
    summary = json.loads(result.stdout)
    assert summary["read"] == 0 and summary["skipped"] == ["<stdin>: empty file"], result.output
    CliRunner().invoke(app, ["--home", str(tmp_path / "h"), "store", "stop"], env={"NEO4J_URI": ""})


def test_the_demo_hint_for_an_installed_keytrail_needs_no_checkout(tmp_path: Path) -> None:
    hint = browser_hint(tmp_path / "logs", KEY, checkout=False)
    assert "scripts/" not in hint and "docker run" in hint and "neo4j:5.26" in hint and f"accessKeyId: '{KEY}'" in hint
    assert str(ROOT / "scripts" / "neo4j-local") in browser_hint(tmp_path / "logs", KEY, checkout=True)
