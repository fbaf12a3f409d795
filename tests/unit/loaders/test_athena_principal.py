"""``--principal`` on Athena targets: the SQL it adds (one disjunction with ``--key``, parameters only), the
tables it needs, and the ARNs ``check_options`` accepts."""

from __future__ import annotations

import pytest
from sqlglot import exp

from keytrail.loaders import athena
from keytrail.loaders.athena import build_query, plan_partitions, shape_from_glue
from keytrail.loaders.base import SourceError, SourceOptions
from keytrail.loaders.sources import check_options, lookup_events, s3

from .test_athena import DOCS_TABLE, KEY, WINDOW, parsed, predicates, workshop_shape

USER = "arn:aws:iam::111122223333:user/division/ops/alice"
ROLE = "arn:aws:iam::111122223333:role/service-role/deploy+ci@team"


def path(node: exp.Expression) -> str:
    """A column as written, dotted path and all: ``useridentity.sessioncontext.sessionissuer.arn``."""
    return node.sql(dialect="trino").replace('"', "")


def identity_conjunct(tree: exp.Expression) -> exp.Expression:
    """The one WHERE conjunct that is a disjunction: the identity filter (sqlglot drops its parentheses)."""
    where = tree.args["where"].this
    [found] = [c for c in (where.flatten() if isinstance(where, exp.And) else [where]) if isinstance(c, exp.Paren | exp.Or)]
    return found


def _disjuncts(node: exp.Expression) -> list[exp.In]:
    inner = node.this if isinstance(node, exp.Paren) else node
    assert isinstance(inner, exp.Or | exp.In), inner
    found = list(inner.flatten()) if isinstance(inner, exp.Or) else [inner]
    assert all(isinstance(d, exp.In) for d in found), found
    return found  # type: ignore[return-value]


def test_a_principal_is_its_own_arn_or_its_sessions_issuer() -> None:
    shape = workshop_shape()
    query = build_query(shape, plan_partitions(shape), WINDOW, principals=[USER, ROLE])
    tree = parsed(query.sql)
    assert list(tree.find_all(exp.Literal)) == []
    found = predicates(tree)
    assert set(found) - {k for k in found if k.startswith("(")} == {"date_partition", "eventtime"} and len(found) == 3
    disjuncts = _disjuncts(identity_conjunct(tree))
    assert [path(d.this) for d in disjuncts] == ["useridentity.arn", "useridentity.sessioncontext.sessionissuer.arn"]
    assert all(len(d.expressions) == 2 and all(isinstance(e, exp.Placeholder) for e in d.expressions) for d in disjuncts)
    # The days, the times, then the ARNs once for each column they are compared with.
    assert query.parameters[4:] == (f"'{USER}'", f"'{ROLE}'", f"'{USER}'", f"'{ROLE}'")
    assert len(list(tree.find_all(exp.Placeholder))) == len(query.parameters) == 8


def test_keys_and_principals_are_one_disjunction_anded_with_the_rest() -> None:
    shape = workshop_shape()
    query = build_query(
        shape, plan_partitions(shape), WINDOW, regions=["us-east-1"], keys=[KEY], principals=[ROLE], event_names=["CreateUser"], accounts=["111122223333"]
    )
    tree = parsed(query.sql)
    assert list(tree.find_all(exp.Literal)) == []
    found = predicates(tree)
    # Every other filter is its own conjunct: the identity filter is one of them, not spread over the AND.
    assert {k for k in found if not k.startswith("(")} == {"date_partition", "eventtime", "region_partition", "account_partition", "eventname"}
    assert len(found) == 6
    disjuncts = _disjuncts(identity_conjunct(tree))
    assert [path(d.this) for d in disjuncts] == ["useridentity.accesskeyid", "useridentity.arn", "useridentity.sessioncontext.sessionissuer.arn"]
    assert query.parameters[4:] == ("'us-east-1'", "'111122223333'", f"'{KEY}'", f"'{ROLE}'", f"'{ROLE}'", "'CreateUser'")
    assert len(list(tree.find_all(exp.Placeholder))) == len(query.parameters)


def test_keys_alone_keep_their_plain_filter() -> None:
    shape = workshop_shape()
    found = predicates(parsed(build_query(shape, plan_partitions(shape), WINDOW, keys=[KEY]).sql))
    assert isinstance(found["useridentity.accesskeyid"], exp.In)


def test_a_table_without_the_issuer_filters_on_the_arn_and_one_without_arn_is_refused() -> None:
    columns = [{"Name": n, "Type": "string"} for n in ("eventid", "eventtime", "eventname", "eventsource")]
    flat = {"Table": {"Name": "t", "StorageDescriptor": {"Columns": [*columns, {"Name": "useridentity", "Type": "struct<arn:string,accesskeyid:string>"}]}}}
    shape = shape_from_glue("db", "t", flat)
    query = build_query(shape, plan_partitions(shape), WINDOW, principals=[USER])
    assert isinstance(predicates(parsed(query.sql))["useridentity.arn"], exp.In) and query.parameters[-1] == f"'{USER}'"
    bare = {"Table": {"Name": "t", "StorageDescriptor": {"Columns": columns}}}
    shape = shape_from_glue("db", "t", bare)
    with pytest.raises(SourceError, match=r"no useridentity\.arn to filter --principal"):
        build_query(shape, plan_partitions(shape), WINDOW, principals=[USER])


def test_the_documented_table_takes_principals_too() -> None:
    shape = shape_from_glue("db", "cloudtrail_logs", DOCS_TABLE)
    query = build_query(shape, plan_partitions(shape), WINDOW, principals=[ROLE])
    assert [path(d.this) for d in _disjuncts(identity_conjunct(parsed(query.sql)))] == ["useridentity.arn", "useridentity.sessioncontext.sessionissuer.arn"]


@pytest.mark.parametrize(
    "arn",
    [
        USER,
        ROLE,
        "arn:aws:sts::111122223333:assumed-role/deploy/i-0abc",
        "arn:aws:sts::111122223333:federated-user/bob",
        "arn:aws:iam::111122223333:root",
        "arn:aws-cn:iam::111122223333:user/alice",
    ],
)
def test_principal_arns_are_accepted(arn: str) -> None:
    check_options(athena.KIND, SourceOptions(window=WINDOW, principals=(arn,)))


@pytest.mark.parametrize(
    "arn",
    [
        "alice",
        "arn:aws:iam::1111:user/alice",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::111122223333:user/alice' OR '1'='1",
        "arn:aws:iam::111122223333:group/admins",
        "service:cloudtrail.amazonaws.com",
    ],
)
def test_what_is_not_a_principal_arn_is_refused_clearly(arn: str) -> None:
    with pytest.raises(SourceError, match="is not a principal ARN such as"):
        check_options(athena.KIND, SourceOptions(window=WINDOW, principals=(arn,)))


def test_principal_applies_to_athena_only() -> None:
    for kind in (s3.KIND, lookup_events.KIND):
        with pytest.raises(SourceError, match="--principal does not apply"):
            check_options(kind, SourceOptions(window=WINDOW, principals=(USER,)))
