"""``blast-radius --timeline-csv/--timeline-jsonl/--navigator/--evidence`` on the workshop incident, on both stores.

The expected answers come from the generated records: the events signed by the leaked key and the two keys
it made (the sample's facts), each record as it was written to the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import stat
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keytrail.cli.main import app
from keytrail.sample import workshop_incident
from keytrail.sample.layout import write_jsonl

INCIDENT = workshop_incident()
FACTS = INCIDENT.facts
KEY = FACTS.leaked_key.access_key_id
KEYS = {KEY, FACTS.dormant_key.access_key_id, FACTS.active_key.access_key_id}


Loaded = tuple[list[str], dict[str, str], Path, list[dict[str, Any]], str]


def records() -> list[dict[str, Any]]:
    """The workshop's records with eventIDs of this load's own: the suite's Neo4j is not emptied between tests (or
    runs), and an event it already holds keeps the file it was first read from."""
    run = uuid.uuid4().hex
    found = json.loads(json.dumps(INCIDENT.records))
    for record in found:
        record["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"exports/{run}/{record['eventID']}"))
    return found


@pytest.fixture
def loaded(cli_store: tuple[list[str], dict[str, str]], tmp_path: Path) -> Loaded:
    args, env = cli_store
    logs = tmp_path / "logs.jsonl"
    written = records()
    write_jsonl(written, logs)
    # An incident of this test's own: the suite's Neo4j keeps what other tests (and runs) loaded.
    incident = f"exports-{uuid.uuid4().hex[:12]}"
    result = CliRunner().invoke(app, [*args, "load", str(logs), "--incident", incident], env=env)
    assert result.exit_code == 0, result.output
    return args, env, logs, written, incident


def signed(written: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records the blast radius's keys signed, in time order: its timeline."""
    return sorted((r for r in written if r["userIdentity"].get("accessKeyId") in KEYS), key=lambda r: (r["eventTime"], r["eventID"]))


def test_exports_hold_every_event_of_the_blast_radius(loaded: Loaded, tmp_path: Path) -> None:
    args, env, logs, written, incident = loaded
    out = tmp_path / "out"
    out.mkdir()
    words = ["blast-radius", KEY, "-i", incident, "--timeline-csv", str(out / "t.csv"), "--timeline-jsonl", str(out / "t.jsonl")]
    words += ["--navigator", str(out / "layer.json"), "--evidence", str(out / "evidence"), "--json"]
    result = CliRunner().invoke(app, [*args, *words], env=env)
    assert result.exit_code == 0, result.output
    expected = signed(written)

    with (out / "t.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["eventID"] for r in rows] == [r["eventID"] for r in expected]
    assert [r["sourceIPAddress"] for r in rows] == [r["sourceIPAddress"] for r in expected]
    lines = [json.loads(line) for line in (out / "t.jsonl").read_text().splitlines()]
    assert [(line["eventID"], line["userAgent"], line["eventName"]) for line in lines] == [(r["eventID"], r["userAgent"], r["eventName"]) for r in expected]
    assert {line["timestamp_desc"] for line in lines} == {"Event Time"} and all(line["message"] and line["datetime"] for line in lines)

    layer = json.loads((out / "layer.json").read_text())
    report = json.loads(result.stdout)
    findings = report["findings"]
    assert sum(t["score"] for t in layer["techniques"]) == len(findings) > 0
    assert {t["techniqueID"] for t in layer["techniques"]} == {f["technique"] for f in findings}

    evidence = out / "evidence"
    assert stat.S_IMODE(evidence.stat().st_mode) == 0o700 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in evidence.iterdir())
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=evidence, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    kept = [json.loads(line) for line in (evidence / "records.jsonl").read_text().splitlines()]
    by_id = {r["eventID"]: r for r in written}
    assert [k["eventID"] for k in kept] == [r["eventID"] for r in expected]
    digest = hashlib.sha256(logs.read_bytes()).hexdigest()
    for entry in kept:
        # The record exactly as it was read, from the file it was read from, with that file's hash and its place in it.
        assert json.loads(entry["record"]) == by_id[entry["eventID"]]
        assert (entry["source"], entry["sourceSha256"]) == (str(logs), digest)
        assert written[entry["sourceIndex"]]["eventID"] == entry["eventID"]
    manifest = json.loads((evidence / "manifest.json").read_text())
    assert (
        manifest["events"] == len(expected)
        and manifest["not_kept"] == []
        and manifest["sources"] == [{"source": str(logs), "sha256": digest, "size": logs.stat().st_size}]
    )

    # Indicators: the addresses and user agents the records show for those keys, each counted.
    indicators = {(i["kind"], i["value"]): i["events"] for i in report["indicators"]}
    for field, kind in (("sourceIPAddress", "address"), ("userAgent", "user-agent")):
        values = [r[field] for r in expected]
        assert {value: indicators[(kind, value)] for value in values} == {value: values.count(value) for value in values}
    assert {(k, v) for k, v in indicators if k == "access-key"} == {("access-key", k) for k in KEYS}


def test_evidence_is_never_written_over(loaded: Loaded, tmp_path: Path) -> None:
    args, env, _, _, incident = loaded
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "ticket-4711.txt").write_text("earlier evidence")
    result = CliRunner().invoke(app, [*args, "blast-radius", KEY, "-i", incident, "--evidence", str(folder)], env=env)
    assert result.exit_code == 2 and "never written over" in result.stderr
    assert [p.name for p in folder.iterdir()] == ["ticket-4711.txt"]


def test_the_exports_page_shows_what_the_exports_write(tmp_path: Path) -> None:
    """docs/exports.md's examples are the sample incident's exports as they are, made again here."""
    import re

    page = (Path(__file__).resolve().parents[2] / "docs" / "exports.md").read_text()
    blocks = re.findall(r"```(csv|json)\n(.*?)\n```", page, flags=re.S)
    logs = tmp_path / "workshop.json"
    logs.write_text(json.dumps({"Records": INCIDENT.records}))
    home, env = ["--home", str(tmp_path / "home")], {"NEO4J_URI": ""}
    try:
        assert CliRunner().invoke(app, [*home, "load", str(logs), "-i", "workshop"], env=env).exit_code == 0
        words = ["blast-radius", KEY, "-i", "workshop", "--timeline-csv", str(tmp_path / "t.csv"), "--timeline-jsonl", str(tmp_path / "t.jsonl")]
        result = CliRunner().invoke(app, [*home, *words, "--navigator", str(tmp_path / "layer.json")], env=env)
        assert result.exit_code == 0, result.output
    finally:
        CliRunner().invoke(app, [*home, "store", "stop"], env=env)
    csv_block, line_block, technique_block = (text for _, text in blocks)
    assert csv_block.splitlines() == (tmp_path / "t.csv").read_text().splitlines()[: len(csv_block.splitlines())]
    assert line_block == (tmp_path / "t.jsonl").read_text().splitlines()[0]
    assert json.loads(technique_block) in json.loads((tmp_path / "layer.json").read_text())["techniques"]


def test_geoip_and_aws_ranges_mark_the_addresses_of_the_report(loaded: Loaded, tmp_path: Path) -> None:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    args, env, _, written, incident = loaded
    addresses = sorted({r["sourceIPAddress"] for r in signed(written)})
    first = addresses[0]
    database = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    database.insert_network(IPSet([f"{first}/32"]), {"country": {"iso_code": "NL", "names": {"en": "Netherlands"}}})
    database.to_db_file(str(tmp_path / "country.mmdb"))
    result = CliRunner().invoke(app, [*args, "blast-radius", KEY, "-i", incident, "--geoip", str(tmp_path / "country.mmdb"), "--json"], env=env)
    assert result.exit_code == 0, result.output
    located = {i["value"]: i["country"] for i in json.loads(result.stdout)["indicators"] if i["kind"] == "address"}
    assert located == {address: "NL (Netherlands)" if address == first else None for address in addresses}
    table = CliRunner().invoke(app, [*args, "blast-radius", KEY, "-i", incident, "--geoip", str(tmp_path / "country.mmdb")], env={**env, "COLUMNS": "80"})
    assert "  country: NL (Netherlands)" in table.stdout.splitlines()
    bad = CliRunner().invoke(app, [*args, "blast-radius", KEY, "--geoip", str(tmp_path / "missing.mmdb")], env=env)
    assert bad.exit_code == 2 and "missing.mmdb" in bad.stderr
