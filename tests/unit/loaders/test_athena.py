"""The Athena source: the SQL it builds (parsed with sqlglot's Trino dialect), partition
discovery on real CloudTrail table shapes, rows back to records on real Athena result
shapes, and one run end to end through pyathena against moto's Athena and Glue."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests
import sqlglot
from sqlglot import exp

from keytrail.loaders.athena import (
    AthenaSource,
    PartitionPlan,
    TableShape,
    build_query,
    cost_of,
    parse_athena_uri,
    parse_hive_type,
    plan_partitions,
    record_from_row,
    shape_from_glue,
)
from keytrail.loaders.base import SourceError, SourceOptions, TimeWindow
from keytrail.loaders.records import SourceRecord, check_record
from keytrail.sample import workshop_incident

from ...support import DOCS_TABLE_COLUMNS, docs_table_input

# The seed workshop's table, as its CDK stack declares it (partition projection on three keys).
WORKSHOP_COLUMNS = [
    ("eventversion", "string"),
    (
        "useridentity",
        "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,userName:string,"
        "sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,sessionissuer:struct<type:string,"
        "principalId:string,arn:string,accountId:string,userName:string>>>",
    ),
    ("eventtime", "string"),
    ("eventsource", "string"),
    ("eventname", "string"),
    ("awsregion", "string"),
    ("sourceipaddress", "string"),
    ("useragent", "string"),
    ("errorcode", "string"),
    ("errormessage", "string"),
    ("requestparameters", "string"),
    ("responseelements", "string"),
    ("additionaleventdata", "string"),
    ("eventid", "string"),
    ("resources", "array<struct<ARN:string,accountId:string,type:string>>"),
    ("eventtype", "string"),
    ("apiversion", "string"),
    ("readonly", "string"),
    ("recipientaccountid", "string"),
    ("serviceeventdetails", "string"),
    ("sharedeventid", "string"),
    ("vpcendpointid", "string"),
]
WORKSHOP_TABLE = {
    "Table": {
        "Name": "irworkshopgluetablecloudtrail",
        "DatabaseName": "irworkshopgluedatabase",
        "PartitionKeys": [
            {"Name": "date_partition", "Type": "string"},
            {"Name": "region_partition", "Type": "string"},
            {"Name": "account_partition", "Type": "string"},
        ],
        "Parameters": {
            "projection.enabled": "true",
            "projection.date_partition.type": "date",
            "projection.date_partition.format": "yyyy/MM/dd",
            "projection.region_partition.type": "enum",
            "projection.account_partition.type": "enum",
        },
        "StorageDescriptor": {"Columns": [{"Name": n, "Type": t} for n, t in WORKSHOP_COLUMNS]},
    }
}
# The table the CloudTrail documentation creates today (tests/support.py).
DOCS_COLUMNS = DOCS_TABLE_COLUMNS
DOCS_TABLE = {"Table": docs_table_input()}
MANUAL_TABLE = {
    "Table": {
        "Name": "cloudtrail_manual",
        "PartitionKeys": [{"Name": n, "Type": "string"} for n in ("region", "year", "month", "day")],
        "StorageDescriptor": {"Columns": [{"Name": n, "Type": t} for n, t in DOCS_COLUMNS]},
    }
}
WINDOW = TimeWindow(datetime(2026, 1, 7, 2, 0, tzinfo=UTC), datetime(2026, 1, 7, 3, 0, tzinfo=UTC))
KEY = "AKIAIOSFODNN7EXAMPLE"


def workshop_shape() -> TableShape:
    return shape_from_glue("irworkshopgluedatabase", "irworkshopgluetablecloudtrail", WORKSHOP_TABLE)


def parsed(sql: str) -> exp.Expression:
    tree = sqlglot.parse_one(sql, read="trino")
    assert isinstance(tree, exp.Select)
    return tree


def column_name(node: exp.Expression) -> str:
    assert isinstance(node, exp.Column), node
    return ".".join(part for part in (node.table, node.name) if part)


def predicates(tree: exp.Expression) -> dict[str, Any]:
    """Every WHERE conjunct, by the column it tests."""
    where = tree.args["where"].this
    found: dict[str, Any] = {}
    for conjunct in where.flatten() if isinstance(where, exp.And) else [where]:
        if isinstance(conjunct, exp.Paren | exp.Or):
            found["(" + column_name(next(conjunct.find_all(exp.Column))) + ")"] = conjunct
        else:
            found[column_name(conjunct.this)] = conjunct
    return found


# --------------------------------------------------------------------------- table shapes


def test_hive_types_parse() -> None:
    identity = parse_hive_type(WORKSHOP_COLUMNS[1][1])
    assert identity.kind == "struct"
    assert [name for name, _ in identity.fields][-3:] == ["accesskeyid", "username", "sessioncontext"]
    issuer = identity.field("sessioncontext")
    assert issuer is not None and issuer.field("sessionissuer") is not None
    resources = parse_hive_type("array<struct<ARN:string,accountId:string,type:string>>")
    assert resources.kind == "array" and resources.element is not None and [n for n, _ in resources.element.fields] == ["arn", "accountid", "type"]
    assert parse_hive_type("map<string,array<decimal(10,2)>>").kind == "map"
    with pytest.raises(ValueError):
        parse_hive_type("struct<a:string")


def test_partitions_of_the_workshop_table() -> None:
    plan = plan_partitions(workshop_shape())
    assert (plan.date_column, plan.date_format) == ("date_partition", "yyyy/MM/dd")
    assert (plan.region_column, plan.region_is_partition) == ("region_partition", True)
    assert (plan.account_column, plan.account_is_partition) == ("account_partition", True)
    assert not plan.warnings


def test_partitions_of_the_documented_and_manual_tables() -> None:
    docs = plan_partitions(shape_from_glue("db", "cloudtrail_logs", DOCS_TABLE))
    assert (docs.date_column, docs.region_column, docs.region_is_partition, docs.account_column) == ("timestamp", "awsregion", False, "recipientaccountid")
    manual = plan_partitions(shape_from_glue("db", "cloudtrail_manual", MANUAL_TABLE))
    assert (manual.date_column, manual.date_parts, manual.region_column) == (None, ("year", "month", "day"), "region")


def test_named_partitions_must_exist() -> None:
    shape = workshop_shape()
    plan = plan_partitions(shape, date_partition="account_partition", date_format="yyyy-MM-dd")
    assert (plan.date_column, plan.date_format) == ("account_partition", "yyyy-MM-dd")
    with pytest.raises(SourceError, match="not a partition column"):
        plan_partitions(shape, region_partition="awsregion")
    with pytest.raises(SourceError, match="not a plain identifier"):
        plan_partitions(shape, date_partition='date_partition" OR 1=1 --')
    with pytest.raises(SourceError, match="only yyyy, MM, dd and HH"):
        plan_partitions(shape, date_format="yyyy/MMM/dd")


def test_a_table_without_date_partition_is_scanned_whole_with_a_warning() -> None:
    bare = {"Table": {"Name": "t", "StorageDescriptor": DOCS_TABLE["Table"]["StorageDescriptor"]}}
    plan = plan_partitions(shape_from_glue("db", "t", bare))
    assert plan.date_column is None and plan.date_parts is None
    assert "scans (and bills) the whole table" in plan.warnings[0]


# --------------------------------------------------------------------------- the SQL


def test_the_query_filters_partitions_and_time_with_parameters_only() -> None:
    shape = workshop_shape()
    query = build_query(
        shape,
        plan_partitions(shape),
        WINDOW,
        regions=["us-east-1", "us-west-2"],
        accounts=["111122223333"],
        keys=[KEY],
        event_names=["CreateAccessKey", "GetCallerIdentity"],
    )
    tree = parsed(query.sql)
    # No value is ever part of the SQL text: every one is a placeholder.
    assert list(tree.find_all(exp.Literal)) == []
    placeholders = list(tree.find_all(exp.Placeholder))
    assert len(placeholders) == len(query.parameters) == 2 + 2 + 2 + 1 + 1 + 2
    found = predicates(tree)
    assert set(found) == {"date_partition", "eventtime", "region_partition", "account_partition", "useridentity.accesskeyid", "eventname"}
    assert isinstance(found["date_partition"], exp.Between) and isinstance(found["eventtime"], exp.Between)
    assert all(isinstance(found[c], exp.In) for c in ("region_partition", "account_partition", "useridentity.accesskeyid", "eventname"))
    # The values, in placeholder order: the days (one of margin for late delivery), the times, then the filters.
    assert query.parameters == (
        "'2026/01/07'",
        "'2026/01/08'",
        "'2026-01-07T02:00:00Z'",
        "'2026-01-07T03:00:00Z'",
        "'us-east-1'",
        "'us-west-2'",
        "'111122223333'",
        f"'{KEY}'",
        "'CreateAccessKey'",
        "'GetCallerIdentity'",
    )
    table = tree.find(exp.Table)
    assert table is not None and (table.db, table.name) == ("irworkshopgluedatabase", "irworkshopgluetablecloudtrail")


def test_row_columns_are_selected_as_json() -> None:
    shape = workshop_shape()
    tree = parsed(build_query(shape, plan_partitions(shape), WINDOW).sql)
    selected = {e.alias_or_name: e for e in tree.expressions}
    partitions = {"date_partition", "region_partition", "account_partition"}
    assert set(selected) == {name for name, _ in WORKSHOP_COLUMNS} and not partitions & set(selected)
    for name in ("useridentity", "resources"):
        call = selected[name].this
        assert isinstance(call, exp.JSONFormat) or call.sql(dialect="trino").lower().startswith("json_format(cast(")
        cast = call.find(exp.Cast)
        assert cast is not None and cast.to.this == exp.DataType.Type.JSON
    assert isinstance(selected["requestparameters"], exp.Column)


def test_a_manual_table_gets_one_conjunct_per_day() -> None:
    shape = shape_from_glue("db", "cloudtrail_manual", MANUAL_TABLE)
    query = build_query(
        shape, plan_partitions(shape), TimeWindow(datetime(2026, 1, 30, tzinfo=UTC), datetime(2026, 2, 1, 12, tzinfo=UTC)), regions=["us-east-1"]
    )
    tree = parsed(query.sql)
    assert list(tree.find_all(exp.Literal)) == []
    found = predicates(tree)
    days = next(v for k, v in found.items() if k.startswith("("))
    assert {column_name(c) for c in days.find_all(exp.Column)} == {"year", "month", "day"}
    assert all(isinstance(eq.expression, exp.Placeholder) for eq in days.find_all(exp.EQ)) and len(list(days.find_all(exp.EQ))) == 12
    assert isinstance(found["region"], exp.In)
    # Four days (30, 31, 1 and the margin day 2), three values each.
    assert query.parameters[:12] == ("'2026'", "'01'", "'30'", "'2026'", "'01'", "'31'", "'2026'", "'02'", "'01'", "'2026'", "'02'", "'02'")


def test_without_a_window_there_is_no_where() -> None:
    shape = workshop_shape()
    query = build_query(shape, plan_partitions(shape), TimeWindow())
    assert parsed(query.sql).args.get("where") is None and query.parameters == ()


def test_values_that_are_not_what_they_claim_are_refused() -> None:
    shape = workshop_shape()
    plan = plan_partitions(shape)
    with pytest.raises(SourceError, match="refusing value"):
        build_query(shape, plan, WINDOW, event_names=["x' OR '1'='1"])
    with pytest.raises(SourceError, match="refusing value"):
        build_query(shape, plan, WINDOW, regions=["us-east-1'--"])
    with pytest.raises(SourceError, match="plain identifier"):
        parse_athena_uri('athena://db.tab"le')
    with pytest.raises(SourceError, match=r"athena://DATABASE\.TABLE"):
        parse_athena_uri("athena://just_a_table")
    assert parse_athena_uri("athena://IRWorkshopGlueDatabase.irworkshopgluetablecloudtrail") == ("irworkshopgluedatabase", "irworkshopgluetablecloudtrail")


def test_a_key_filter_needs_the_column() -> None:
    bare = {
        "Table": {"Name": "t", "StorageDescriptor": {"Columns": [{"Name": n, "Type": "string"} for n in ("eventid", "eventtime", "eventname", "eventsource")]}}
    }
    shape = shape_from_glue("db", "t", bare)
    with pytest.raises(SourceError, match=r"useridentity\.accesskeyid"):
        build_query(shape, PartitionPlan(), WINDOW, keys=[KEY])


def test_refuses_to_scan_without_a_window() -> None:
    with pytest.raises(SourceError, match="without a time window"):
        AthenaSource.prepare("db", "t", SourceOptions(), session=None)  # type: ignore[arg-type]


def test_cost() -> None:
    assert cost_of(0) == pytest.approx(10 * 1024 * 1024 / 1e12 * 5)
    assert cost_of(2 * 10**12) == pytest.approx(10.0, rel=1e-3)


# --------------------------------------------------------------------------- rows to records


def athena_value(value: Any, hive: str) -> Any:
    """What json_format(CAST(value AS JSON)) gives for a ROW/ARRAY value (engine 3):
    lower-case field names, every declared field present (null when absent), undeclared fields gone."""
    shape = parse_hive_type(hive)

    def render(v: Any, t: Any) -> Any:
        if v is None:
            return None
        if t.kind == "struct":
            lowered = {k.lower(): x for k, x in v.items()}
            return {name: render(lowered.get(name), ft) for name, ft in t.fields}
        if t.kind == "array":
            return [render(x, t.element) for x in v]
        return v if t.kind == "map" or isinstance(v, str) else json.dumps(v)

    return render(value, shape)


def athena_row(record: dict[str, Any], columns: list[tuple[str, str]], *, engine: int = 3) -> dict[str, Any]:
    """One row as Athena returns it for `SELECT col, json_format(CAST(rowcol AS JSON)) AS rowcol …` (varchar or NULL)."""
    lowered = {k.lower(): v for k, v in record.items()}
    row: dict[str, Any] = {}
    for name, hive in columns:
        value = lowered.get(name)
        if value is None:
            row[name] = None
        elif hive.startswith(("struct", "array")):
            rendered = athena_value(value, hive)
            if engine == 2:
                rendered = _as_arrays(rendered, parse_hive_type(hive))
            row[name] = json.dumps(rendered)
        elif isinstance(value, bool):
            row[name] = "true" if value else "false"
        elif isinstance(value, dict | list):
            row[name] = json.dumps(value)  # the CloudTrail SerDe keeps nested objects as JSON text
        else:
            row[name] = str(value)
    return row


def _as_arrays(value: Any, t: Any) -> Any:
    """Engine 2 (Presto 0.217) casts a ROW to a JSON array of its field values."""
    if value is None:
        return None
    if t.kind == "struct":
        return [_as_arrays(value[name], ft) for name, ft in t.fields]
    if t.kind == "array":
        return [_as_arrays(v, t.element) for v in value]
    return value


def projected(record: dict[str, Any], columns: list[tuple[str, str]]) -> dict[str, Any]:
    """The part of a record a table with these columns can hold, nulls left out."""
    types = dict(columns)

    def keep(v: Any, t: Any) -> Any:
        if t is None or v is None:
            return v
        if t.kind == "struct" and isinstance(v, dict):
            declared = {n: ft for n, ft in t.fields}
            return {k: keep(x, declared[k.lower()]) for k, x in v.items() if k.lower() in declared and x is not None}
        if t.kind == "array" and isinstance(v, list):
            return [keep(x, t.element) for x in v]
        return v

    return {k: keep(v, parse_hive_type(types[k.lower()])) for k, v in record.items() if k.lower() in types and v is not None}


def shape_columns(columns: list[tuple[str, str]]) -> Any:
    return shape_from_glue("db", "t", {"Table": {"Name": "t", "StorageDescriptor": {"Columns": [{"Name": n, "Type": t} for n, t in columns]}}}).columns


@pytest.mark.parametrize("engine", [3, 2])
@pytest.mark.parametrize("table", ["docs", "workshop"])
def test_rows_become_the_records_of_the_files(engine: int, table: str) -> None:
    columns = DOCS_COLUMNS if table == "docs" else WORKSHOP_COLUMNS
    shape = shape_columns(columns)
    for record in workshop_incident().records:
        row = athena_row(record, columns, engine=engine)
        assert record_from_row(row, shape) == projected(record, columns), record["eventID"]


def test_a_realistic_row() -> None:
    row = {
        "eventversion": "1.09",
        "useridentity": json.dumps(
            {
                "type": "AssumedRole",
                "principalid": "AROAEXAMPLE:session",
                "arn": "arn:aws:sts::111122223333:assumed-role/admin/session",
                "accountid": "111122223333",
                "invokedby": None,
                "accesskeyid": "ASIAEXAMPLEEXAMPLE01",
                "username": None,
                "onbehalfof": None,
                "sessioncontext": {
                    "attributes": {"mfaauthenticated": "false", "creationdate": "2026-01-07T02:00:00Z"},
                    "sessionissuer": {
                        "type": "Role",
                        "principalid": "AROAEXAMPLE",
                        "arn": "arn:aws:iam::111122223333:role/admin",
                        "accountid": "111122223333",
                        "username": "admin",
                    },
                    "ec2roledelivery": None,
                    "webidfederationdata": {"federatedprovider": None, "attributes": {"cognito-identity.amazonaws.com:amr": "authenticated"}},
                    "sourceidentity": None,
                },
            }
        ),
        "eventtime": "2026-01-07T02:25:18Z",
        "eventsource": "s3.amazonaws.com",
        "eventname": "GetObject",
        "requestparameters": '{"bucketName":"b","key":"k","Host":"b.s3.amazonaws.com"}',
        "responseelements": None,
        "eventid": "e-1",
        "resources": json.dumps(
            [
                {"arn": "arn:aws:s3:::b/k", "accountid": "111122223333", "type": "AWS::S3::Object"},
                {"arn": "arn:aws:s3:::b", "accountid": None, "type": "AWS::S3::Bucket"},
            ]
        ),
        "readonly": "true",
        "eventcategory": "Data",
    }
    record = record_from_row(row, shape_columns(DOCS_COLUMNS))
    assert record["userIdentity"]["accessKeyId"] == "ASIAEXAMPLEEXAMPLE01"
    assert record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == "admin"
    assert record["userIdentity"]["sessionContext"]["attributes"] == {"mfaAuthenticated": "false", "creationDate": "2026-01-07T02:00:00Z"}
    # A MAP keeps its keys as they are.
    assert record["userIdentity"]["sessionContext"]["webIdFederationData"] == {"attributes": {"cognito-identity.amazonaws.com:amr": "authenticated"}}
    assert "invokedBy" not in record["userIdentity"] and "responseElements" not in record
    assert record["resources"] == [
        {"ARN": "arn:aws:s3:::b/k", "accountId": "111122223333", "type": "AWS::S3::Object"},
        {"ARN": "arn:aws:s3:::b", "type": "AWS::S3::Bucket"},
    ]
    assert record["requestParameters"] == {"bucketName": "b", "key": "k", "Host": "b.s3.amazonaws.com"}
    assert record["readOnly"] is True and record["eventID"] == "e-1" and record["eventCategory"] == "Data"
    assert check_record(record) is None


# --------------------------------------------------------------------------- end to end through pyathena and moto


@pytest.fixture(scope="module")
def moto_endpoint(moto_env: dict[str, str]) -> str:
    return moto_env["AWS_ENDPOINT_URL"]


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> boto3.Session:
    """A session that reaches moto only through AWS_ENDPOINT_URL, as a user's would."""
    for name, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return boto3.Session()


def seed_results(endpoint: str, names: list[str], rows: list[dict[str, Any]]) -> None:
    """Queue the result moto's Athena returns for the next query: a header row, then the rows."""

    def datum(value: Any) -> dict[str, str]:
        return {} if value is None else {"VarCharValue": value}

    result: dict[str, Any] = {
        "rows": [{"Data": [{"VarCharValue": n} for n in names]}] + [{"Data": [datum(row[n]) for n in names]} for row in rows],
        "column_info": [
            {"Name": n, "Label": n, "Type": "varchar", "Precision": 2147483647, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": True} for n in names
        ],
    }
    response = requests.post(f"{endpoint}/moto-api/static/athena/query-results", json={"region": "us-east-1", "results": [result]}, timeout=10)
    assert response.status_code == 201


def create_table(session: boto3.Session, database: str, table: dict[str, Any]) -> None:
    glue = session.client("glue")
    with contextlib.suppress(glue.exceptions.AlreadyExistsException):
        glue.create_database(DatabaseInput={"Name": database})
    found = table["Table"]
    glue.create_table(
        DatabaseName=database,
        TableInput={k: found[k] for k in ("Name", "PartitionKeys", "Parameters", "StorageDescriptor") if k in found},
    )


def test_end_to_end_through_pyathena(aws: boto3.Session, moto_endpoint: str) -> None:
    create_table(aws, "irworkshopgluedatabase", WORKSHOP_TABLE)
    incident = workshop_incident()
    key = incident.facts.leaked_key.access_key_id
    options = SourceOptions(window=WINDOW, keys=(key,), regions=("us-east-1",), output="s3://athena-results-keytrail/")
    source = AthenaSource.prepare("irworkshopgluedatabase", "irworkshopgluetablecloudtrail", options, session=aws)
    source.poll_interval = 0.01
    # What Athena would return for this query over the table.
    wanted = [
        r
        for r in incident.records
        if (r.get("userIdentity") or {}).get("accessKeyId") == key
        and r["awsRegion"] == "us-east-1"
        and "2026-01-07T02:00:00Z" <= r["eventTime"] <= "2026-01-07T03:00:00Z"
    ]
    names = [e.alias_or_name for e in parsed(source.query.sql).expressions]
    seed_results(moto_endpoint, names, [athena_row(r, WORKSHOP_COLUMNS) for r in wanted])

    items = list(source)
    assert source.progress.query_id is not None
    assert all(isinstance(i, SourceRecord) and i.origin == f"athena:{source.progress.query_id}" for i in items)
    assert [i.record for i in items if isinstance(i, SourceRecord)] == [projected(r, WORKSHOP_COLUMNS) for r in wanted] and wanted
    assert source.progress.rows == len(wanted) and source.progress.cost_usd > 0

    # What reached Athena: placeholders in the text, the values as execution parameters.
    execution = aws.client("athena").get_query_execution(QueryExecutionId=source.progress.query_id)["QueryExecution"]
    assert execution["Query"] == source.query.sql and key not in execution["Query"]
    assert execution["ExecutionParameters"] == list(source.query.parameters)
    assert f"'{key}'" in execution["ExecutionParameters"]


def test_a_missing_table_is_a_clear_error(aws: boto3.Session) -> None:
    aws.client("glue").create_database(DatabaseInput={"Name": "empty_db"})
    with pytest.raises(SourceError, match=r"no table empty_db\.cloudtrail"):
        AthenaSource.prepare("empty_db", "cloudtrail", SourceOptions(window=WINDOW), session=aws)
