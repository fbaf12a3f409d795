"""``findings`` signals and ranking, on both stores, from records made to carry (or to just miss) each signal.

Every expectation comes from how the records below are made: which user called from which address when, which
calls were refused, which user agent and which policy a call carried.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from keytrail.graph.backends import Backend
from keytrail.graph.runner import tallies_complete
from keytrail.graph.transform import TALLY_KEY_VERSION
from keytrail.ingest import Ingest
from keytrail.loaders.records import SourceRecord
from keytrail.report.findings import build_findings_report
from keytrail.report.signals import build_signals

ACCOUNT = "210987654321"
INCIDENT = "signals"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
HOME, ELSEWHERE, INSIDE = "20.14.7.1", "45.83.12.9", "10.0.4.7"
KEYS = {
    "alice": "AKIAQX7SIGNALSALICE1",
    "alice2": "AKIAQX7SIGNALSALICE2",
    "bob": "AKIAQX7SIGNALSBOB001",
    "carol": "AKIAQX7SIGNALSCAROL1",
    "dave": "AKIAQX7SIGNALSDAVE01",
    "frank": "AKIAQX7SIGNALSFRANK1",
}


def _record(n: int, user: str, key: str, name: str, source: str, address: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventVersion": "1.09",
        "eventID": str(uuid.UUID(int=n + 7_000_000)),
        "eventTime": f"2026-03-02T{n // 60:02d}:{n % 60:02d}:00Z",
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": address,
        "userAgent": extra.pop("userAgent", "aws-cli/2.15.0 Python/3.11"),
        "userIdentity": {
            "type": "IAMUser",
            "principalId": f"AIDA{user.upper():0<16}",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
            "accountId": ACCOUNT,
            "accessKeyId": key,
            "userName": user,
        },
        "requestParameters": extra.pop("requestParameters", None),
        "responseElements": None,
        "readOnly": name.startswith(("List", "Get", "Describe")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        **extra,
    }


def _denied(code: str) -> dict[str, str]:
    return {"errorCode": code, "errorMessage": "not authorized"}


def records() -> list[dict[str, Any]]:
    """Six keys, each meant to carry one signal, or to come close to one without carrying it."""
    made = []

    def add(user: str, key: str, name: str, source: str, address: str, **extra: Any) -> None:
        made.append(_record(len(made), user, key, name, source, address, **extra))

    # alice: her first calls from HOME; later her key from ELSEWHERE (new), and from INSIDE (private: never new).
    for _ in range(3):
        add("alice", KEYS["alice"], "ListUsers", "iam", HOME)
    add("alice", KEYS["alice"], "ListUsers", "iam", ELSEWHERE)
    add("alice", KEYS["alice"], "ListRoles", "iam", INSIDE)
    # Her second key, later, from the address she had used first: not new.
    add("alice", KEYS["alice2"], "ListUsers", "iam", HOME)
    # bob: refused in three services (a key trying what it may do).
    add("bob", KEYS["bob"], "ListBuckets", "s3", HOME, **_denied("AccessDenied"))
    add("bob", KEYS["bob"], "DescribeInstances", "ec2", HOME, **_denied("Client.UnauthorizedOperation"))
    add("bob", KEYS["bob"], "DescribeLogGroups", "logs", HOME, **_denied("AccessDeniedException"))
    add("bob", KEYS["bob"], "ListUsers", "iam", HOME)
    # carol: refused in two services only (a console page's widgets, a call she may not make), and once for a
    # name taken: no signal.
    add("carol", KEYS["carol"], "GetCostAndUsage", "ce", HOME, **_denied("AccessDeniedException"))
    add("carol", KEYS["carol"], "GetCostForecast", "ce", HOME, **_denied("AccessDeniedException"))
    add("carol", KEYS["carol"], "ListRoles", "iam", HOME, **_denied("AccessDenied"))
    add("carol", KEYS["carol"], "CreateUser", "iam", HOME, requestParameters={"userName": "taken"}, **_denied("EntityAlreadyExists"))
    # dave: an administrator policy on himself (a signal), and one on erin (a finding, no signal).
    add("dave", KEYS["dave"], "AttachUserPolicy", "iam", HOME, requestParameters={"userName": "dave", "policyArn": ADMIN})
    add("dave", KEYS["dave"], "AttachUserPolicy", "iam", HOME, requestParameters={"userName": "erin", "policyArn": ADMIN})
    # frank: an attack tool's user agent and refusals in three services: two kinds of signal.
    add("frank", KEYS["frank"], "ListUsers", "iam", HOME, userAgent="Boto3/1.34 Python/3.11 Linux/6.5.0-kali3-amd64")
    add("frank", KEYS["frank"], "ListSecrets", "secretsmanager", HOME, **_denied("AccessDeniedException"))
    add("frank", KEYS["frank"], "ListFunctions20150331", "lambda", HOME, **_denied("AccessDeniedException"))
    add("frank", KEYS["frank"], "DescribeInstances", "ec2", HOME, **_denied("Client.UnauthorizedOperation"))
    return made


RECORDS = records()


@pytest.fixture(scope="module")
def store(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    items = [SourceRecord("sample:signals", i, r) for i, r in enumerate(RECORDS)]
    summary = Ingest(backend, INCIDENT, rejects_path=tmp_path_factory.mktemp("rejects") / "rejects.jsonl").run(items, ["sample:signals"])
    assert summary.ok, summary
    return backend


def _kinds(signals: dict[str, Any]) -> dict[str, list[str]]:
    return {key: [s.kind for s in found] for key, found in signals.items()}


@pytest.mark.parametrize("tallies", [True, False])
def test_each_key_carries_the_signals_its_records_were_made_with(store: Backend, tallies: bool) -> None:
    signals = build_signals(store, INCIDENT, tallies=tallies)
    assert _kinds(signals) == {
        KEYS["alice"]: ["new-address"],
        KEYS["bob"]: ["denied"],
        KEYS["dave"]: ["self-admin"],
        KEYS["frank"]: ["attack-tool", "denied"],
    }
    [new] = signals[KEYS["alice"]]
    assert new.detail.startswith(f"{ELSEWHERE}: not used by arn:aws:iam::{ACCOUNT}:user/alice before")
    [grant] = signals[KEYS["dave"]]
    own = next(r["eventID"] for r in RECORDS if (r["requestParameters"] or {}).get("userName") == "dave")
    assert grant.detail.endswith(f"(eventID {own})")
    assert "3 calls refused for lack of permission in 3 actions of 3 services" in signals[KEYS["bob"]][0].detail
    assert "kali" in signals[KEYS["frank"]][0].detail


def test_the_tallies_and_the_events_give_the_same_signals(store: Backend) -> None:
    assert tallies_complete(store)
    assert build_signals(store, INCIDENT, tallies=True) == build_signals(store, INCIDENT, tallies=False)
    assert build_signals(store, "no-such-incident", tallies=True) == {}


def test_findings_rank_by_signals_then_by_harm(store: Backend) -> None:
    report = build_findings_report(store, INCIDENT)
    order = [g.credential for g in report.groups]
    # frank has two kinds of signal; then one kind each, the most harmful tactic first: dave's privilege escalation,
    # then alice's and bob's discovery (by findings, then by key); then no signal, most harmful first.
    assert order[0] == KEYS["frank"]
    assert order[1] == KEYS["dave"]
    assert set(order[2:4]) == {KEYS["alice"], KEYS["bob"]}
    assert set(order[4:]) == {KEYS["carol"], KEYS["alice2"]}
    assert order[4] == KEYS["carol"], "carol's CreateUser attempt is persistence, alice2 only discovery"
    one = build_findings_report(store, INCIDENT, credential=KEYS["frank"])
    assert [s.kind for s in one.groups[0].signals] == ["attack-tool", "denied"]


def test_tallies_counted_by_other_fields_are_not_trusted(store: Backend) -> None:
    """A store whose tallies an older keytrail counted (no address, no error code) is read event by event.

    The last test of the module: it leaves the tallies as an older keytrail wrote them.
    """
    expected = build_signals(store, INCIDENT, tallies=False)
    assert tallies_complete(store)
    store.write("MATCH (t:Tally) SET t.keyVersion = $old REMOVE t.sourceIPAddress, t.errorCode", {"old": TALLY_KEY_VERSION - 1})
    assert not tallies_complete(store)
    assert build_signals(store, INCIDENT, tallies=True) != expected, "read from these tallies, the signals would be short"
    groups = build_findings_report(store, INCIDENT).groups
    assert {g.credential: g.signals for g in groups if g.signals} == expected
