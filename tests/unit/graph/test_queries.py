"""The query registry, and a lint that keeps shared Cypher inside the portable subset."""

from __future__ import annotations

import re

import pytest

from keytrail.graph.effects import EFFECT_QUERY, WRITE_PLAN
from keytrail.graph.queries import (
    QueryParameterError,
    UnknownQueryError,
    _load_all,
    analysis_queries,
    get_query,
    parse_query,
    schema_statements,
)
from keytrail.graph.schema import EFFECTS, NODE_KEYS, RELATIONSHIP_TYPES
from keytrail.graph.transform import WRITE_ORDER

ALL = sorted(_load_all().values(), key=lambda q: q.name)

#: Cypher that Neo4j runs and the embedded FalkorDB does not (or that we keep out of shared files).
NOT_PORTABLE = [
    (re.compile(r"\bEXISTS\s*\{", re.I), "EXISTS {} subquery"),
    (re.compile(r"\bCOUNT\s*\{", re.I), "COUNT {} subquery"),
    (re.compile(r"=~"), "regular expression match"),
    (re.compile(r"\bapoc\.", re.I), "APOC procedure"),
    (re.compile(r"\bCALL\s*\{", re.I), "CALL {} subquery"),
    (re.compile(r"\b(datetime|date|duration|localdatetime)\s*\(", re.I), "temporal function (times are ISO text)"),
    (re.compile(r"\bMATCH\b[^;]*?\bshortestPath\s*\(", re.I | re.S), "shortestPath outside WITH/RETURN"),
]


def test_names_are_unique_and_known() -> None:
    assert "key-first-use" in {q.name for q in analysis_queries()}
    with pytest.raises(UnknownQueryError):
        get_query("no-such-query")


@pytest.mark.parametrize("query", ALL, ids=lambda q: q.name)
def test_every_query_has_a_header(query: object) -> None:
    from keytrail.graph.queries import Query

    assert isinstance(query, Query)
    assert query.purpose
    if query.kind == "analysis":
        assert query.returns, f"{query.name} must say which columns it returns"


@pytest.mark.parametrize("query", ALL, ids=lambda q: q.name)
def test_shared_queries_stay_portable(query: object) -> None:
    from keytrail.graph.queries import Query

    assert isinstance(query, Query)
    for pattern, what in NOT_PORTABLE:
        body = query.body
        if what.startswith("shortestPath"):
            # shortestPath is allowed only as an expression of WITH or RETURN.
            body = "\n".join(line for line in body.splitlines() if not re.match(r"\s*(WITH|RETURN)\b", line, re.I))
        assert not pattern.search(body), f"{query.name} uses {what}"


def test_the_lint_catches_what_it_must() -> None:
    bad = "MATCH (k:AccessKey) WHERE EXISTS { MATCH (k)-->() } AND k.id =~ 'A.*' RETURN k"
    found = [what for pattern, what in NOT_PORTABLE if pattern.search(bad)]
    assert found == ["EXISTS {} subquery", "regular expression match"]


@pytest.mark.parametrize("query", ALL, ids=lambda q: q.name)
def test_labels_and_types_are_declared(query: object) -> None:
    from keytrail.graph.queries import Query

    assert isinstance(query, Query)
    labels = set(re.findall(r"\(\s*\w*\s*:\s*([A-Z]\w*)", query.body))
    types = set(re.findall(r"\[\s*\w*\s*:\s*([A-Z_|]+)", query.body))
    assert labels <= set(NODE_KEYS), f"undeclared labels {labels - set(NODE_KEYS)}"
    flat = {t for group in types for t in group.split("|") if t}
    assert flat <= RELATIONSHIP_TYPES, f"undeclared relationship types {flat - RELATIONSHIP_TYPES}"


def test_every_merge_key_is_backed_by_the_schema() -> None:
    neo4j = "\n".join(schema_statements("neo4j"))
    falkordb = "\n".join(schema_statements("falkordb"))
    for query in ALL:
        for label, key in re.findall(r"MERGE\s*\(\s*\w+\s*:\s*(\w+)\s*\{\s*(\w+)\s*:", query.body):
            assert NODE_KEYS[label] == key, f"{query.name} merges {label} on {key}"
            assert f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE" in neo4j
            assert f"FOR (n:{label}) ON (n.{key})" in falkordb


def test_every_node_created_by_its_key_is_refused_twice_by_the_schema() -> None:
    # A node written with CREATE rather than MERGE relies on the uniqueness constraint to refuse a second copy.
    neo4j = "\n".join(schema_statements("neo4j"))
    created = set()
    for query in ALL:
        for label, key in re.findall(r"CREATE\s*\(\s*\w+\s*:\s*(\w+)\s*\{\s*(\w+)\s*:", query.body):
            assert NODE_KEYS[label] == key, f"{query.name} creates {label} by {key}"
            assert f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE" in neo4j
            created.add(label)
    # The embedded store's constraints are made from NODE_KEYS (FalkorDBBackend.apply_schema).
    assert created == {"Event"}


def test_effect_queries_handle_every_verb_the_transform_can_send() -> None:
    for label, name in EFFECT_QUERY.items():
        body = get_query(name).body
        handled = re.findall(r"row\.verb = '([A-Z_]+)'", body)
        # Exactly one branch per verb of the write plan, each writing the plan's relationship type.
        assert sorted(handled) == sorted(WRITE_PLAN[label]), label
        for verb, rel_type in WRITE_PLAN[label].items():
            # CREATE: the event is new in its unit of writing, and reduce_batch sends one row per edge.
            assert f"row.verb = '{verb}' THEN [1] ELSE [] END |\n  CREATE (e)-[x:{rel_type}]->" in body, (label, verb)
        assert set(WRITE_PLAN[label].values()) <= EFFECTS
        assert name in WRITE_ORDER
        # The landed count counts exactly the rows routed to a branch.
        [counted] = re.findall(r"RETURN sum\(CASE WHEN row\.verb IN \[([^\]]*)\] THEN 1 ELSE 0 END\) AS landed", body)
        assert sorted(re.findall(r"'([A-Z_]+)'", counted)) == sorted(WRITE_PLAN[label]), label
    principals = set(re.findall(r"row\.verb = '([A-Z_]+)'", get_query("merge_effects_on_principals").body))
    assert {"CREATED", "DELETED", "ASSUMED", "ATTACHED_POLICY", "PUT_POLICY"} <= principals


def test_parameters_are_checked_against_the_header() -> None:
    query = get_query("key-first-use")
    query.check_params({"key": "AKIA", "incident": None})
    with pytest.raises(QueryParameterError, match=r"missing \$incident, key"):
        query.check_params({})
    with pytest.raises(QueryParameterError, match=r"missing \$incident"):
        query.check_params({"key": "AKIA"})
    with pytest.raises(QueryParameterError, match=r"unexpected \$user"):
        query.check_params({"key": "x", "incident": None, "user": "y"})
    with pytest.raises(ValueError, match="declares"):
        parse_query("x", "analysis", "// Purpose: p\n// Parameters:\n//   $a: string\n// Returns: n\nRETURN $b AS n")
