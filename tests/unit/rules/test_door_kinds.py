"""Door kinds live in one registry (keytrail/rules/doors.py); rules, the walk, containment and the docs agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from keytrail.report.doors import Door, door_actions
from keytrail.rules.doors import DOOR_KINDS, UnknownDoorKind, door_kind, walked

DOCS = Path(__file__).resolve().parents[3] / "docs" / "blast-radius.md"


def test_a_rule_naming_an_unregistered_kind_fails_loudly() -> None:
    with pytest.raises(UnknownDoorKind, match="no-such-door"):
        door_kind("no-such-door")
    # A store written by another version may hold kinds this one does not know: the walk follows them.
    assert walked("no-such-door")


def test_every_kind_is_in_the_docs_doors_table() -> None:
    table = re.search(r"\| door \(`kind`\) \|.*?\n\n", DOCS.read_text(), flags=re.S)
    assert table is not None
    documented = set(re.findall(r"`([a-z]+(?:-[a-z]+)*)`", table.group(0)))
    assert set(DOOR_KINDS) <= documented, sorted(set(DOOR_KINDS) - documented)


@pytest.mark.parametrize("kind", sorted(DOOR_KINDS))
def test_every_open_door_has_its_own_way_to_shut_it(kind: str) -> None:
    door = Door(
        id="e:t",
        kind=kind,
        credential="AKIA1",
        event_id="e",
        time="2026-01-07T00:00:00Z",
        event_name="Call",
        rule="r",
        target="arn:aws:iam::1:role/t",
        target_arn="arn:aws:iam::1:role/t",
        target_type="IAMRole",
        account="1",
        admits=["arn:aws:iam::2:root"],
        external=["arn:aws:iam::2:root"],
        public=False,
        session_name=None,
        role_prefix=None,
        detail={},
        changes=[],
        sessions=[],
    )
    actions = door_actions(door, "2026-01-08T00:00:00Z")
    # A federated user has nothing to delete: revoking its keys' sessions is how it shuts (credential actions).
    assert kind == "federation" or (actions and all(a != "review-door" for a, _, _ in actions))
    assert all(target for _, target, _ in actions)


def test_every_action_has_a_summary_of_its_own() -> None:
    from keytrail.report.containment import CALL_RULES, SUMMARIES

    produced = {action for action, _ in CALL_RULES.values()} | {"deactivate-and-delete-key", "delete-login-profile", "revoke-sessions"}
    for kind in DOOR_KINDS:
        door = Door("e:t", kind, "AKIA1", "e", "t", "Call", "r", "arn:x", "arn:x", None, "1", [], [], False, None, None, {}, [], [])
        produced |= {action for action, _, _ in door_actions(door, None)}
    door = Door(
        "e:t", "admin-policy", "AKIA1", "e", "t", "PutUserPolicy", "r", "arn:x", "arn:x", None, "1", [], [], False, None, None, {"policyName": "p"}, [], []
    )
    [(inline, _, detail)] = door_actions(door, None)
    assert inline == "delete-inline-policy" and "inline policy p" in detail
    assert all(SUMMARIES.get(action, action) != action for action in produced), sorted(a for a in produced if SUMMARIES.get(a, a) == a)


def test_a_permission_removed_by_its_statement_id_shuts_the_resource_policy_door() -> None:
    from keytrail.report.doors import door_status

    def door(removed: str) -> Door:
        change = {"verb": "MODIFIED", "time": "t2", "eventID": "x", "eventName": "RemovePermission20150331v2", "statementId": removed}
        return Door(
            "e:f",
            "resource-policy",
            "AKIA1",
            "e",
            "t1",
            "AddPermission20150331v2",
            "r",
            "arn:f",
            "arn:f",
            None,
            "1",
            ["*"],
            [],
            True,
            None,
            None,
            {"statementId": "s1"},
            [change],
            [],
        )

    assert door_status(door("s1"), {}) == ("closed", door("s1").changes[0])
    # Another statement removed leaves the door's own in place.
    assert door_status(door("s2"), {})[0] == "open"


def test_a_trust_policy_door_shuts_when_what_it_added_is_taken_out() -> None:
    from keytrail.report.doors import door_status

    def trust(admits: list[str]) -> str:
        import json

        return json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": admits}, "Action": "sts:AssumeRole"}]})

    def door(later: list[str]) -> Door:
        change = {"verb": "MODIFIED", "time": "t2", "eventID": "x", "eventName": "UpdateAssumeRolePolicy", "policyDocument": trust(later)}
        # The door let in a user of the same account: not an outsider, yet what it added.
        added = {"added": ["arn:aws:iam::1:user/backdoor"]}
        admits = ["arn:aws:iam::1:user/backdoor", "arn:aws:iam::1:user/ops"]
        return Door(
            "e:r",
            "trust-policy",
            "AKIA1",
            "e",
            "t1",
            "UpdateAssumeRolePolicy",
            "r",
            "arn:r",
            "arn:r",
            "IAMRole",
            "1",
            admits,
            [],
            False,
            None,
            None,
            added,
            [change],
            [],
        )

    assert door_status(door(["arn:aws:iam::1:user/ops"]), {})[0] == "closed"
    assert door_status(door(["arn:aws:iam::1:user/ops", "arn:aws:iam::1:user/backdoor"]), {})[0] == "open"
    [(action, _, detail)] = door_actions(door(["x"]), None)
    assert action == "restore-trust-policy" and "remove arn:aws:iam::1:user/backdoor from" in detail
