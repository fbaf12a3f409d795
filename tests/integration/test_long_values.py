"""Long text in the logs: a caller's 1 MB user agent or a 5,000-character user name loads, and every command answers.

Both stores index their nodes' keys and fail on a long one (Neo4j refuses the transaction; the embedded store's
server stopped), so before keys were bounded (keytrail/graph/keys.py) one such call stopped the whole load. The
workshop incident is loaded with its attacker's user agent 1 MB long, one call's source address 9,000 characters
long, and the user its leaked key made a dormant key for named with 5,000 characters. The answers must be the same
ones, with the long keys shown bounded and the events' own text kept whole.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.graph.keys import KEY_BYTES, bounded
from keytrail.loaders.records import INDEXED_FIELD_BYTES
from keytrail.sample import workshop_incident

INCIDENT = workshop_incident()
FACTS = INCIDENT.facts
KEY = FACTS.leaked_key.access_key_id
AGENT = "Boto3/1.34 " + "A" * (1 << 20)
USER = "mmajor-" + "d" * 5_000
#: Unique to this module, so that its answers are its own in the suite's shared stores.
INCIDENT_NAME = "long-values"
#: The records the fixture loaded last.
LOADED: list[dict[str, Any]] = []


def long_records() -> list[dict[str, Any]]:
    text = json.dumps(INCIDENT.records).replace(FACTS.dormant_key.user_name, USER)
    records: list[dict[str, Any]] = json.loads(text)
    run = uuid.uuid4()
    for r in records:
        # Events of their own, new at each run: the suite's stores may already hold the workshop's, or this test's.
        r["eventID"] = str(uuid.uuid5(run, r["eventID"]))
        if (r.get("userIdentity") or {}).get("accessKeyId") == KEY:
            r["userAgent"] = AGENT
    records[0]["sourceIPAddress"] = "203.0.113." + "9" * 9_000
    return records


@pytest.fixture
def cli(cli_store: tuple[list[str], dict[str, str]], tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    args, env = cli_store
    path = tmp_path / "long.json"
    records = long_records()
    LOADED[:] = records
    path.write_text(json.dumps({"Records": records}))
    result = CliRunner().invoke(app, [*args, "load", str(path), "--incident", INCIDENT_NAME, "--rejects", str(tmp_path / "r.jsonl"), "--json"], env=env)
    assert result.exit_code == 0, result.output[-2000:]
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["loaded"], summary["rejected"]) == (len(records), len(records), 0)
    return args, env


def run(cli: tuple[list[str], dict[str, str]], *command: str) -> str:
    args, env = cli
    result = CliRunner().invoke(app, [*args, *command], env=env)
    assert result.exit_code == 0, (command, result.output[-2000:])
    return result.stdout


def test_every_command_answers_with_the_keys_bounded_and_the_events_whole(cli: tuple[list[str], dict[str, str]]) -> None:
    for command in (
        ["blast-radius", KEY, "--incident", INCIDENT_NAME],
        ["blast-radius", KEY, "--markdown"],
        ["findings", "--incident", INCIDENT_NAME],
        ["stats"],
    ):
        run(cli, *command)
    data = json.loads(run(cli, "blast-radius", KEY, "--incident", INCIDENT_NAME, "--json"))
    # The dormant key the leaked key made for the long-named user is still found, its owner's key bounded.
    dormant = [c for c in data["credentials"] if c["id"] == FACTS.dormant_key.access_key_id]
    assert dormant, [c["id"] for c in data["credentials"]]
    owner = str(dormant[0]["owner"])
    owner_id = f"arn:aws:iam::{FACTS.account_id}:user/{USER}"
    assert len(owner.encode()) <= KEY_BYTES and owner == bounded(owner_id), owner[:80]
    # The events keep the text as the log has it.
    mine = [r for r in LOADED if (r.get("userIdentity") or {}).get("accessKeyId") == KEY]
    assert mine
    raw = json.loads(run(cli, "event", mine[0]["eventID"], "--raw"))
    assert raw["userAgent"] == AGENT and raw == mine[0]


def test_a_record_whose_indexed_field_no_cloudtrail_record_could_hold_is_refused_and_kept(cli_store: tuple[list[str], dict[str, str]], tmp_path: Path) -> None:
    args, env = cli_store
    record = dict(INCIDENT.records[0], eventID=str(uuid.uuid4()), eventName="Get" + "X" * INDEXED_FIELD_BYTES)
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"Records": [record]}))
    rejects = tmp_path / "r.jsonl"
    result = CliRunner().invoke(app, [*args, "load", str(path), "--incident", INCIDENT_NAME, "--rejects", str(rejects)], env=env)
    assert result.exit_code == 1, result.output
    kept = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [k["record"]["eventID"] for k in kept] == [record["eventID"]] and "field eventName is 1,027 bytes long" in kept[0]["reason"]


def test_an_incident_name_too_long_to_index_is_refused_before_anything_is_read(cli_store: tuple[list[str], dict[str, str]], tmp_path: Path) -> None:
    args, env = cli_store
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"Records": INCIDENT.records[:1]}))
    name = "case-" + "n" * KEY_BYTES
    result = CliRunner().invoke(app, [*args, "load", str(path), "--incident", name], env=env | {"COLUMNS": "300"})
    assert result.exit_code == 2 and f"at most {KEY_BYTES:,} bytes" in result.output and f"this one is {len(name):,}" in result.output
    stats = json.loads(run((args, env), "stats", "--json"))
    assert name not in json.dumps(stats)
