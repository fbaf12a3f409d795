"""Every effect of the write plan lands as its edge on both stores, and a row that lands nothing fails the load."""

from __future__ import annotations

import pytest

from keytrail.graph.backends import Backend, BackendError
from keytrail.graph.effects import EFFECT_QUERY, WRITE_PLAN
from keytrail.graph.runner import run_query
from keytrail.graph.writer import GraphWriter, WriteIncomplete

TIME = "2026-01-07T02:25:18Z"
NODE_QUERY = {"AccessKey": "merge_access_keys", "Principal": "merge_principals", "LoginProfile": "merge_login_profiles", "Resource": "merge_resources"}


def _node_row(label: str, key: str) -> dict[str, object]:
    if label == "AccessKey":
        return {"accessKeyId": key, "kind": "temporary", "props": {}}
    if label == "Principal":
        return {"id": key, "type": "IAMRole", "name": key.rsplit("/", 1)[-1]}
    return {"id": key, "props": {}}


def _target(label: str) -> str:
    return {
        "AccessKey": "ASIAPLANTESTKEY00001",
        "Principal": "arn:aws:iam::999900001111:role/plan-test",
        "LoginProfile": "arn:aws:iam::999900001111:user/plan-test/login-profile",
        "Resource": "arn:aws:s3:::plan-test",
    }[label]


def _event(event_id: str) -> dict[str, object]:
    props = {"eventTime": TIME, "eventName": "PlanTest", "eventSource": "test.amazonaws.com"}
    return {
        "eventID": event_id,
        "props": props,
        "incident": "plan-test",
        "action": "test:PlanTest",
        "eventSource": "test.amazonaws.com",
        "eventName": "PlanTest",
        "ip": None,
        "agent": None,
    }


@pytest.mark.parametrize(("label", "verb"), [(label, verb) for label, verbs in WRITE_PLAN.items() for verb in verbs])
def test_every_verb_of_the_plan_lands_as_its_edge(backend: Backend, label: str, verb: str) -> None:
    writer = GraphWriter(backend)
    event_id = f"plan-{label}-{verb}"
    target = _target(label)
    rows = {
        "merge_events": [_event(event_id)],
        NODE_QUERY[label]: [_node_row(label, target)],
        EFFECT_QUERY[label]: [{"eventID": event_id, "target": target, "verb": verb, "rule": "test.plan", "eventTime": TIME, "detail": {"door": "x"}}],
    }
    writer.write_rows(rows)
    found = backend.read("MATCH (e:Event {eventID: $id})-[x]->() RETURN type(x) AS type, x.rule AS rule, x.door AS door", {"id": event_id})
    wanted = WRITE_PLAN[label][verb]
    assert {"type": wanted, "rule": "test.plan", "door": "x"} in found


def test_a_row_that_lands_nothing_fails_the_write(backend: Backend) -> None:
    writer = GraphWriter(backend)
    event_id = "plan-unwritable"
    target = _target("Resource")
    base = {"merge_events": [_event(event_id)], "merge_resources": [_node_row("Resource", target)]}
    # A verb with no branch in the statement writes nothing: the store says so and the writer refuses.
    with pytest.raises(WriteIncomplete, match="merge_effects_on_resources: 1 of 1 rows"):
        writer.write_rows(
            base | {"merge_effects_on_resources": [{"eventID": event_id, "target": target, "verb": "RESTORED", "rule": "t", "eventTime": TIME, "detail": {}}]}
        )
    # So does a row whose target node is missing. (Another event: the embedded store has no rollback, and keeps the first.)
    other = "plan-unwritable-2"
    with pytest.raises(WriteIncomplete, match="merge_signed"):
        writer.write_rows({"merge_events": [_event(other)], "merge_signed": [{"eventID": other, "accessKeyId": "AKIANOSUCHKEY0000001"}]})
    assert run_query(backend, "key-first-use", {"key": "AKIANOSUCHKEY0000001", "incident": None}) == []


def test_an_event_sent_again_is_refused_never_stored_twice(backend: Backend) -> None:
    # Events and their edges are created, not merged (the loader sends only events it found missing, under the
    # write lock): the uniqueness constraint on Event(eventID) is what refuses a copy, on both stores.
    writer = GraphWriter(backend)
    event_id = "plan-twice"
    writer.write_rows({"merge_events": [_event(event_id)]})
    with pytest.raises(BackendError):
        writer.write_rows({"merge_events": [_event(event_id)]})
    found = backend.read(
        "MATCH (e:Event {eventID: $id}) OPTIONAL MATCH (e)-[r:INVOKED]->() RETURN count(DISTINCT e) AS events, count(r) AS invoked", {"id": event_id}
    )
    assert found == [{"events": 1, "invoked": 1}]
