"""The evidence as it was read: every record recoverable exactly, and two records that disagree
about one eventID both kept, the conflict reported. On both stores, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keytrail.sample import session_token_incident, workshop_incident

from .test_cli import cli, run  # noqa: F401  (cli is a fixture)

Cli = tuple[list[str], dict[str, str]]


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _rejected(output: str) -> list[dict[str, Any]]:
    path = json.loads(output)["rejects_path"]
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_event_raw_prints_the_record_as_read_every_field_kept(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    records = workshop_incident().records
    # Fields no analysis reads are kept too; one record gains a field keytrail has never heard of.
    chosen = next(r for r in records if "tlsDetails" in r)
    chosen = dict(chosen, vpcEndpointId="vpce-0a1b2c3d", someFieldFromTheFuture={"nested": [1, 2.5, None, "\u202e"]})
    path = _jsonl(tmp_path / "w.jsonl", [chosen, *(r for r in records if r["eventID"] != chosen["eventID"])])
    assert run(cli, "load", str(path), "-i", "w").exit_code == 0
    shown = run(cli, "event", chosen["eventID"], "--raw")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == chosen
    assert list(json.loads(shown.output)) == list(chosen)  # the fields in the order they were read
    described = json.loads(run(cli, "event", chosen["eventID"]).output)
    assert described["record"] == chosen and described["source"] == str(path) and described["incidents"] == ["w"]
    missing = run(cli, "event", "no-such-event", "--raw")
    assert missing.exit_code == 1 and "no event 'no-such-event'" in missing.output


def test_event_raw_never_shows_a_session_token(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    records = session_token_incident().records
    minted = next(r for r in records if ((r.get("responseElements") or {}).get("credentials") or {}).get("sessionToken"))
    token = minted["responseElements"]["credentials"]["sessionToken"]
    path = _jsonl(tmp_path / "t.jsonl", records)
    assert run(cli, "load", str(path), "-i", "t").exit_code == 0
    shown = run(cli, "event", minted["eventID"], "--raw").output
    assert token not in shown
    assert json.loads(shown)["responseElements"]["credentials"]["sessionToken"] == "<redacted>"


def test_two_records_with_one_event_id_and_different_content_are_a_conflict_both_kept(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    records = workshop_incident().records
    real = next(r for r in records if r["eventName"] == "ListBuckets")
    forged = dict(real, eventName="CreateUser", eventSource="iam.amazonaws.com", requestParameters={"userName": "backdoor"})
    reordered = dict(reversed(list(real.items())))  # the same record, its fields in another order: a duplicate
    # In one load: the real record first, then a re-delivery, then the forgery.
    one = _jsonl(tmp_path / "one.jsonl", [real, reordered, forged])
    loaded = run(cli, "load", str(one), "-i", "c", "--json")
    assert loaded.exit_code == 1, loaded.output
    summary = json.loads(loaded.output)
    assert (summary["read"], summary["loaded"], summary["duplicates"], summary["rejected"], summary["conflicts"]) == (3, 1, 1, 1, 1)
    [kept_aside] = _rejected(loaded.output)
    assert kept_aside["record"] == forged and kept_aside["index"] == 2 and "conflicting duplicate" in kept_aside["reason"]
    assert json.loads(run(cli, "event", real["eventID"], "--raw").output) == real
    # In a later load: the stored record is kept, the forgery goes aside, the real one again is a duplicate.
    later = _jsonl(tmp_path / "later.jsonl", [forged, real])
    again = run(cli, "load", str(later), "-i", "c", "--json")
    assert again.exit_code == 1, again.output
    summary = json.loads(again.output)
    assert (summary["loaded"], summary["duplicates"], summary["conflicts"]) == (0, 1, 1)
    assert [entry["record"] for entry in _rejected(again.output)] == [forged]
    assert json.loads(run(cli, "event", real["eventID"], "--raw").output) == real
    text = " ".join(run(cli, "load", str(later), "-i", "c").output.split())
    assert "+ 1 rejected (1 conflicting duplicates);" in text


def test_every_skipped_file_is_named_with_its_reason(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    evidence = tmp_path / "evidence"
    digests = evidence / "AWSLogs" / "111122223333" / "CloudTrail-Digest" / "us-east-1"
    digests.mkdir(parents=True)
    digest = {"digestStartTime": "2026-01-07T00:00:00Z", "digestEndTime": "2026-01-07T01:00:00Z", "digestS3Bucket": "b", "logFiles": []}
    (digests / "111122223333_CloudTrail-Digest_us-east-1_x.json").write_text(json.dumps(digest))
    (evidence / "README").write_text("notes about the case, not JSON\n")
    _jsonl(evidence / "w.jsonl", workshop_incident().records[:5])
    summary = json.loads(run(cli, "load", str(evidence), "-i", "s", "--json").output)
    assert summary["skipped_origins"] == 2 and len(summary["skipped"]) == 2
    assert {line.split(": ", 1)[0] for line in summary["skipped"]} == {str(p) for p in evidence.rglob("*") if p.is_file() and p.suffix != ".jsonl"}
    text = run(cli, "load", str(evidence), "-i", "s").output
    assert "2 skipped (why: on stderr)" in " ".join(text.split())
    # Long paths fold at the terminal's width: compared without whitespace.
    flat = "".join(text.split())
    assert all("".join(f"skipped {line}".split()) in flat for line in summary["skipped"])


def test_each_load_records_every_file_it_read_with_its_sha256(cli: Cli, tmp_path: Path, monkeypatch: Any) -> None:  # noqa: F811
    import hashlib

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    records = workshop_incident().records
    _jsonl(evidence / "one.jsonl", records[:10])
    _jsonl(evidence / "two.jsonl", records[10:20])
    monkeypatch.chdir(tmp_path)
    assert run(cli, "load", "evidence", "-i", "d").exit_code == 0  # named relatively
    [latest, *_] = json.loads(run(cli, "query", "load-runs", "--json").output)
    expected = sorted(f"sha256:{hashlib.sha256(p.read_bytes()).hexdigest()} {p.stat().st_size} {p}" for p in evidence.iterdir())
    assert sorted(latest["inputDigests"]) == expected
    described = json.loads(run(cli, "event", records[0]["eventID"]).output)
    assert described["source"] == str(evidence / "one.jsonl")
