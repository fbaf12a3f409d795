"""Every named analysis query gives identical rows on Neo4j and on the embedded FalkorDB."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

import keytrail
from keytrail.graph.backends import Backend
from keytrail.graph.queries import analysis_queries
from keytrail.graph.runner import reset_store, run_query
from keytrail.graph.transform import TALLY_KEY_VERSION
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.report.findings import ROUTINE_ACTIONS
from keytrail.report.signals import ATTACK_TOOL_AGENTS, DENIED_ERROR_CODES
from keytrail.sample import cross_account_incident, session_token_incident, workshop_incident
from keytrail.sample.doors import DOOR_INCIDENTS, BackdoorRoleFacts, InstanceProfileFacts
from keytrail.sample.layout import write_jsonl
from keytrail.sample.routine import routine_key_incident
from keytrail.sample.workshop import Incident

SCENARIOS: dict[str, Incident[Any]] = {
    "workshop": workshop_incident(),
    "session-token": session_token_incident(),
    "cross-account": cross_account_incident(),
    **{f"door-{name}": make() for name, make in DOOR_INCIDENTS},
    "routine-key": routine_key_incident(),
}
CORPUS_PARTS = ("invictus-aws-dataset", "stratus-red-team", "flaws2")

#: Values to try for each parameter name; a query with a parameter not listed here fails the test.
KEYS = ["AKIATFQR7NSC8Q4X20BJ", "AKIATFQR7NSC3ZO6PKAZ", "AKIANOTINTHESTORE000"]
USERS = ["bert-jan", "malicious-iam-user", "benjamin", "nobody"]


def _values() -> dict[str, list[Any]]:
    keys = list(KEYS)
    users = list(USERS)
    for incident in SCENARIOS.values():
        for record in incident.records:
            identity = record.get("userIdentity") or {}
            if isinstance(identity.get("accessKeyId"), str):
                keys.append(identity["accessKeyId"])
            if identity.get("type") == "IAMUser" and identity.get("userName"):
                users.append(identity["userName"])
            params = record.get("requestParameters") or {}
            if record["eventName"] == "DeleteUser" and params.get("userName"):
                users.append(params["userName"])
    leaked = [s.facts.leaked_key.access_key_id for s in SCENARIOS.values()] + ["AKIATFQR7NSC8Q4X20BJ"]
    role, instances = SCENARIOS["door-backdoor-role"].facts, SCENARIOS["door-instance-profile"].facts
    assert isinstance(role, BackdoorRoleFacts) and isinstance(instances, InstanceProfileFacts)
    shared = sorted({r["sharedEventID"] for i in SCENARIOS.values() for r in i.records if r.get("sharedEventID")})
    # Calls that act on resources and principals: a launch of several instances, policy attachments, deletions.
    acting = sorted(
        r["eventID"] for i in SCENARIOS.values() for r in i.records if r["eventName"] in ("RunInstances", "AttachUserPolicy", "DeleteUser", "CreateRole")
    )
    routine = SCENARIOS["routine-key"].facts
    door = {"principal": None, "sessionName": None, "rolePrefix": None, "account": None, "since": ""}
    mapping = json.loads((Path(keytrail.__file__).parent / "data" / "attack_mapping.json").read_text())
    # List-valued parameters get a few whole lists each: the product of all of them would be huge.
    return {
        "key": sorted(set(keys)),
        "user": sorted(set(users)),
        "incident": [None, "workshop", "invictus-aws-dataset", "no-such-incident"],
        "category": [None, "persistence", "defense-evasion", "discovery"],
        "since": ["", "2026-01-07T02:30:00Z"],
        "credentials": [[{"id": k, "since": ""} for k in leaked], [{"id": "AKIANOTINTHESTORE000", "since": ""}]],
        "logins": [
            [
                {"user": "arn:aws:iam::444455556666:user/support-audit", "since": ""},
                {"user": "arn:aws:iam::123837392027:user/stratus-red-team-nmfalu-gfjyeaypjt", "since": ""},
            ]
        ],
        "actions": [sorted(mapping["events"]), ["iam:CreateAccessKey"]],
        "keys": [leaked],
        "credential": [*leaked[:2], "arn:aws:iam::444455556666:user/support-audit", "AKIANOTINTHESTORE000"],
        "routine": [sorted(ROUTINE_ACTIONS)],
        "tools": [list(ATTACK_TOOL_AGENTS)],
        "denied": [list(DENIED_ERROR_CODES)],
        "keyVersion": [TALLY_KEY_VERSION, TALLY_KEY_VERSION - 1],
        "byAgent": [False, True],
        "categories": [{action: entry["tactics"][0] for action, entry in mapping["events"].items()}],
        "principals": [["arn:aws:iam::111122223333:user/tdir-workshop-sysdev", "arn:aws:iam::123837392027:user/bert-jan", routine.user_arn]],
        "shared": [[], shared],
        "events": [acting],
        "eventID": [*acting[:3], "no-such-event"],
        "eventIDs": [[*acting[:5], "no-such-event"], []],
        "after": ["", "AKIAT", "ZZZ"],
        "limit": [3, 5000],
        "from": ["2000-01-01T00:00:00Z"],
        "to": ["2030-01-01T00:00:00Z"],
        "maxUses": [5, 1000],
        # One door of each shape: a principal's sessions, sessions named after an instance, Identity Center roles.
        "doors": [
            [
                door | {"door": "role", "principal": role.role_arn},
                door | {"door": "instance", "sessionName": instances.instance_ids[0], "account": instances.account_id},
                door | {"door": "sso", "rolePrefix": "AWSReservedSSO_"},
            ]
        ],
    }


@pytest.fixture(scope="module")
def stores(falkordb_backend: Backend, neo4j_backend: Backend, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Backend]:
    root = tmp_path_factory.mktemp("parity")
    for name, incident in SCENARIOS.items():
        write_jsonl(incident.records, root / f"{name}.jsonl")
    for backend in (falkordb_backend, neo4j_backend):
        reset_store(backend)
        for name in SCENARIOS:
            path = root / f"{name}.jsonl"
            Ingest(backend, name, rejects_path=root / "rejects.jsonl").run(FileSource([path]), [str(path)])
        for part in CORPUS_PARTS:
            Ingest(backend, part, rejects_path=root / "rejects.jsonl").run(FileSource([corpus / part]), [part])
    return [falkordb_backend, neo4j_backend]


@pytest.mark.parametrize("name", [q.name for q in analysis_queries() if q.name not in ("load-runs",)])
def test_identical_rows_on_both_stores(stores: list[Backend], name: str) -> None:
    query = next(q for q in analysis_queries() if q.name == name)
    values = _values()
    unknown = [p.name for p in query.params if p.name not in values]
    assert not unknown, f"add values for parameters {unknown} of {name} to this test"
    combos = list(itertools.product(*(values[p.name] for p in query.params)))
    nonempty = 0
    for combo in combos:
        params = {p.name: v for p, v in zip(query.params, combo, strict=True)}
        falkordb_rows = run_query(stores[0], name, params)
        neo4j_rows = run_query(stores[1], name, params)
        assert falkordb_rows == neo4j_rows, (name, params)
        nonempty += bool(falkordb_rows)
    assert nonempty, f"{name} returned no rows for any parameters: the comparison proved nothing"


def test_load_runs_match_but_for_their_ids(stores: list[Backend]) -> None:
    def comparable(backend: Backend) -> list[tuple[Any, ...]]:
        rows = run_query(backend, "load-runs")
        return sorted((r["incident"], r["read"], r["loaded"], r["duplicates"], r["rejected"]) for r in rows)

    assert comparable(stores[0]) == comparable(stores[1])
