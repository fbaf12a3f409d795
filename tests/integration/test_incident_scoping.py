"""Several incidents in one store: each answers what it answers alone in a store of its own, on both stores.

The SANS, Invictus and Stratus incidents of ``../shared/corpus`` and the sample workshop incident are loaded one
at a time into an empty store, and their answers kept; then all four into one store. Per incident, every answer
must be the same: the workshop queries for the keys it names and for its most suspicious credentials, the
blast radius of each of those keys, the findings with their signals, and the incident's row of ``incidents``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keytrail.graph.backends import Backend
from keytrail.graph.runner import reset_store, run_query, store_incidents, tallies_complete
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.loaders.records import SourceRecord
from keytrail.model.identity import valid_key
from keytrail.report.blast_radius import build_blast_radius
from keytrail.report.findings import build_findings_report
from keytrail.report.incidents import build_incidents
from keytrail.report.model import to_json
from keytrail.sample import workshop_incident

pytestmark = pytest.mark.corpus

WORKSHOP = workshop_incident()
LEAKED = WORKSHOP.facts.leaked_key.access_key_id


def _follow_up() -> list[dict[str, Any]]:
    """A second case on the workshop's leaked key: the last half of its calls again (the same events), and new ones.

    The key and its events are in two incidents: an answer for either that drew on the other would differ from
    the answer the incident gives alone.
    """
    calls = sorted((r for r in WORKSHOP.records if r["userIdentity"].get("accessKeyId") == LEAKED), key=lambda r: r["eventTime"])
    # Without the creation of the dormant key: the follow-up knows of one key the leaked one created, not two.
    dormant = WORKSHOP.facts.dormant_key.access_key_id
    again = [r for r in calls[len(calls) // 2 :] if dormant not in json.dumps(r.get("responseElements"))]
    assert len(again) == len(calls) - len(calls) // 2 - 1
    later = []
    for n, record in enumerate(calls[:3]):
        copy = json.loads(json.dumps(record))
        copy["eventID"] = f"5c0e0000-0000-4000-8000-{n:012d}"
        copy["eventTime"] = f"2026-01-09T0{n}:00:00Z"
        copy["sourceIPAddress"] = "198.51.100.77"
        later.append(copy)
    # The dormant key, used at last: born in the workshop incident, used only in this one.
    used = json.loads(json.dumps(calls[0]))
    user = f"arn:aws:iam::{WORKSHOP.facts.account_id}:user/{WORKSHOP.facts.dormant_key.user_name}"
    used["userIdentity"] |= {"accessKeyId": dormant, "userName": WORKSHOP.facts.dormant_key.user_name, "arn": user, "principalId": "AIDAFOLLOWUPDORMANT01"}
    used |= {"eventID": "5c0e0000-0000-4000-8000-000000000099", "eventTime": "2026-01-09T05:00:00Z", "sourceIPAddress": "198.51.100.77"}
    return again + later + [used]


FOLLOW_UP = _follow_up()
CORPUS = {"sans": "sans504-s3-ransomware-lab", "invictus": "invictus-aws-dataset", "stratus": "stratus-red-team"}
SAMPLES = {"workshop": WORKSHOP.records, "workshop-follow-up": FOLLOW_UP}
INCIDENTS = [*CORPUS, *SAMPLES]
#: The keys SOURCES.md (and the sample's facts) name, besides each incident's most suspicious credentials.
NAMED = {
    "sans": ["AKIAU7JNXC7K7XNL3F6J"],
    "invictus": ["AKIATFQR7NSC8Q4X20BJ"],
    "stratus": ["AKIAMUV7B57OZM0RV05D"],
    "workshop": [LEAKED],
    "workshop-follow-up": [LEAKED, WORKSHOP.facts.dormant_key.access_key_id],
}
#: The workshop queries, by the parameter each takes besides the incident.
BY_KEY = ("key-first-use", "key-identity", "key-activity")
BY_USER = ("keys-created-by", "user-deleted")


def _load(backend: Backend, incident: str, corpus: Path, rejects: Path) -> None:
    if incident in SAMPLES:
        items: Any = [SourceRecord(f"sample:{incident}", i, r) for i, r in enumerate(SAMPLES[incident])]
        inputs = [f"sample:{incident}"]
    else:
        items, inputs = FileSource([corpus / CORPUS[incident]]), [CORPUS[incident]]
    summary = Ingest(backend, incident, rejects_path=rejects).run(items, inputs)
    assert summary.ok, summary


def _answers(backend: Backend, incident: str) -> dict[str, Any]:
    findings = build_findings_report(backend, incident)
    suspects = [g.credential for g in findings.groups[:3] if g.credential]
    keys = sorted(set(NAMED[incident]) | set(suspects))
    answers: dict[str, Any] = {"findings": to_json(findings), "keys": keys}
    answers["incidents"] = [row for row in store_incidents(backend) if row["incident"] == incident]
    for key in keys:
        for name in BY_KEY:
            answers[f"{name} {key}"] = run_query(backend, name, {"key": key, "incident": incident})
        for who in answers[f"key-identity {key}"]:
            for name in BY_USER:
                answers[f"{name} {who['arn']}"] = run_query(backend, name, {"user": who["arn"], "incident": incident})
        answers[f"blast-radius {key}"] = to_json(build_blast_radius(backend, key, incident))
    return answers


@pytest.fixture(scope="module")
def compared(backend: Backend, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    rejects = tmp_path_factory.mktemp("rejects") / "rejects.jsonl"
    alone = {}
    for incident in INCIDENTS:
        reset_store(backend)
        _load(backend, incident, corpus, rejects)
        alone[incident] = _answers(backend, incident)
    reset_store(backend)
    for incident in INCIDENTS:
        _load(backend, incident, corpus, rejects)
    together = {incident: _answers(backend, incident) for incident in INCIDENTS}
    return alone, together


@pytest.mark.parametrize("incident", INCIDENTS)
def test_an_incident_answers_alike_alone_and_among_others(compared: tuple[dict[str, Any], dict[str, Any]], incident: str) -> None:
    alone, together = compared
    assert alone[incident]["keys"] == together[incident]["keys"]
    assert alone[incident]["findings"]["total"] > 0 and alone[incident]["incidents"][0]["events"] > 0
    for name in alone[incident]:
        assert together[incident][name] == alone[incident][name], name


def test_the_whole_store_answers_for_every_incident(compared: tuple[dict[str, Any], dict[str, Any]], backend: Backend) -> None:
    """Without an incident, a key's calls are those of every incident that holds it, each once."""
    _, together = compared
    for incident in CORPUS:
        for key in NAMED[incident]:
            assert run_query(backend, "key-activity", {"key": key, "incident": None}) == together[incident][f"key-activity {key}"]
    both = run_query(backend, "key-activity", {"key": LEAKED, "incident": None})
    ids = {r["eventID"] for r in together["workshop"][f"key-activity {LEAKED}"]} | {
        r["eventID"] for r in together["workshop-follow-up"][f"key-activity {LEAKED}"]
    }
    assert sorted(r["eventID"] for r in both) == sorted(ids)
    assert len(ids) == len({r["eventID"] for r in WORKSHOP.records if r["userIdentity"].get("accessKeyId") == LEAKED}) + 3


def _records(incident: str, corpus: Path) -> list[dict[str, Any]]:
    if incident in SAMPLES:
        return list(SAMPLES[incident])
    return [item.record for item in FileSource([corpus / CORPUS[incident]]) if isinstance(item, SourceRecord)]


def test_incidents_lists_what_each_incident_holds(compared: tuple[dict[str, Any], dict[str, Any]], backend: Backend, corpus: Path) -> None:
    """`keytrail incidents`: each incident's events, span, accounts, regions and keys, as its records have them."""
    summaries = {s.name: s for s in build_incidents(backend)}
    assert sorted(summaries) == sorted(INCIDENTS)
    for incident in INCIDENTS:
        records = _records(incident, corpus)
        unique = {r["eventID"]: r for r in records}.values()
        summary = summaries[incident]
        assert summary.events == len(unique), incident
        assert (summary.first_event, summary.last_event) == (min(r["eventTime"] for r in unique), max(r["eventTime"] for r in unique))
        assert summary.accounts == sorted({r["recipientAccountId"] for r in unique if r.get("recipientAccountId")}), incident
        assert summary.regions == sorted({r["awsRegion"] for r in unique if r.get("awsRegion")}), incident
        keys = {valid_key((r.get("userIdentity") or {}).get("accessKeyId")) for r in unique} - {None}
        assert summary.access_keys == len(keys), incident
        assert summary.principals > 0 and summary.loads == 1
    # Counted from the tallies, and over every Event: the same.
    tallied = run_query(backend, "incidents-scope-tallied")
    assert tallies_complete(backend) and [dict(r, accounts=sorted(r["accounts"]), regions=sorted(r["regions"])) for r in tallied] == [
        dict(r, accounts=sorted(r["accounts"]), regions=sorted(r["regions"])) for r in run_query(backend, "incidents-scope")
    ]
