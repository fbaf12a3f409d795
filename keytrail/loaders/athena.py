"""Records from an Amazon Athena table over a trail's files (through pyathena).

The table's shape comes from the Glue Data Catalog (``glue:GetTable``, which Athena
needs to run any query on it): its columns, its partition keys and their partition
projection settings. The SQL is then built from validated identifiers only:

- it filters on the date partition (and the region and account partitions when the
  table has them, and the ``--region``/``--account`` options ask), so Athena reads
  only that slice, and on ``eventtime`` for the exact window;
- ``--key`` and ``--event-name`` are pushed down as ``IN`` filters; ``--principal`` keeps the records
  whose ``useridentity.arn`` or session issuer's ARN (``useridentity.sessioncontext.sessionissuer.arn``:
  an assumed role's sessions come with the role) is one of the ARNs, and with ``--key`` the two are one
  disjunction: a record made by one of the keys *or* by one of the principals;
- ROW, ARRAY and MAP columns are selected as ``json_format(CAST(col AS JSON))``,
  because Athena returns a ROW as ``{key=value, …}`` text that is not JSON.

Every value (days, times, regions, accounts, keys, event names) is an Athena
execution parameter: the SQL text holds ``?`` placeholders, and the values travel in
``StartQueryExecution``'s ``ExecutionParameters`` (pyathena's ``qmark`` paramstyle).
Athena wants each parameter as a SQL literal, so a value is validated against the
pattern of its kind and written as a single-quoted literal with quotes doubled.

Rows are turned back into the records a CloudTrail file holds: Athena lower-cases
ROW field names, so a fixed table maps them back to CloudTrail's camelCase names;
the JSON-text columns (``requestparameters``, ``responseelements``, …) are parsed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from keytrail.loaders.aws import aws_errors, aws_session, client_config, source_error
from keytrail.loaders.base import OriginManifest, ProgressListener, SourceError, SourceKind, SourceOptions, TimeWindow, megabytes
from keytrail.loaders.records import LoaderItem, Rejection, SourceRecord

if TYPE_CHECKING:
    import boto3

#: Database, table and column names: what Glue and Athena accept, minus anything that needs quoting.
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_VALUE_RE = re.compile(r"^[A-Za-z0-9_.:/ -]{1,128}$")
#: A principal ARN (IAM names also allow ``+=,@``); :data:`keytrail.loaders.sources.PRINCIPAL_ARN_RE` says which ones.
_ARN_RE = re.compile(r"^arn:[A-Za-z0-9+=,.@_/:-]{1,1100}$")
#: Athena's price: $5 per TB scanned (10^12 bytes), at least 10 MB per query, rounded up to the MB.
PRICE_PER_TB = 5.0
_MIN_BILLED = 10 * 1024 * 1024
_MAX_DAY_PREDICATES = 400

#: Partition names the common CloudTrail tables use, in order of preference.
DATE_PARTITION_NAMES = ("date_partition", "date", "dt", "timestamp", "eventdate", "day_partition")
REGION_PARTITION_NAMES = ("region_partition", "region", "aws_region", "awsregion")
ACCOUNT_PARTITION_NAMES = ("account_partition", "account", "account_id", "accountid")
DEFAULT_DATE_FORMAT = "yyyy/MM/dd"

#: Columns holding JSON text in CloudTrail tables: parsed back into objects.
JSON_TEXT_COLUMNS = frozenset({"requestparameters", "responseelements", "additionaleventdata", "serviceeventdetails", "edgedevicedetails", "insightdetails"})
#: Columns CloudTrail writes as booleans and tables declare as strings.
BOOLEAN_COLUMNS = frozenset({"readonly", "managementevent"})

Spec = dict[str, tuple[str, "Spec | None"]]
#: A map whose keys are data, not field names: kept as they are.
_OPAQUE: Spec = {}


def _names(*pairs: str) -> Spec:
    return {name.lower(): (name, None) for name in pairs}


_SESSION_ISSUER = _names("type", "principalId", "arn", "accountId", "userName")
_SESSION_CONTEXT: Spec = {
    "attributes": ("attributes", _names("creationDate", "mfaAuthenticated")),
    "sessionissuer": ("sessionIssuer", _SESSION_ISSUER),
    "webidfederationdata": ("webIdFederationData", {"federatedprovider": ("federatedProvider", None), "attributes": ("attributes", _OPAQUE)}),
    **_names("sourceIdentity", "ec2RoleDelivery", "ec2IssuedInVPC", "assumedRoot"),
}
_USER_IDENTITY: Spec = {
    **_names("type", "principalId", "arn", "accountId", "invokedBy", "accessKeyId", "userName", "credentialId", "identityProvider"),
    "sessioncontext": ("sessionContext", _SESSION_CONTEXT),
    "onbehalfof": ("onBehalfOf", _names("userId", "identityStoreArn")),
    "inscopeof": ("inScopeOf", _names("issuerType", "credentialsIssuedTo", "issuerAccountId")),
}
#: Athena's lower-case column and ROW field names -> CloudTrail's names, recursively.
RECORD_SPEC: Spec = {
    **_names(
        "eventVersion",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "requestParameters",
        "responseElements",
        "additionalEventData",
        "requestID",
        "eventID",
        "eventType",
        "apiVersion",
        "readOnly",
        "recipientAccountId",
        "serviceEventDetails",
        "sharedEventID",
        "vpcEndpointId",
        "vpcEndpointAccountId",
        "eventCategory",
        "managementEvent",
        "sessionCredentialFromConsole",
        "edgeDeviceDetails",
        "insightDetails",
    ),
    "useridentity": ("userIdentity", _USER_IDENTITY),
    "resources": ("resources", _names("ARN", "accountId", "type", "ARNPrefix")),
    "addendum": ("addendum", _names("reason", "updatedFields", "originalRequestID", "originalEventID")),
    "tlsdetails": ("tlsDetails", _names("tlsVersion", "cipherSuite", "clientProvidedHostHeader")),
}


# --------------------------------------------------------------------------- table shape


@dataclass(frozen=True, slots=True)
class HiveType:
    """A parsed Glue/Hive column type: ``struct<…>``, ``array<…>``, ``map<…>`` or a primitive."""

    kind: str  # "struct", "array", "map" or the primitive's name
    fields: tuple[tuple[str, HiveType], ...] = ()  # struct fields, names lower-cased, in order
    element: HiveType | None = None  # array element, map value

    @property
    def complex(self) -> bool:
        return self.kind in ("struct", "array", "map")

    def field(self, name: str) -> HiveType | None:
        return next((t for n, t in self.fields if n == name), None)


def parse_hive_type(text: str) -> HiveType:
    """Parse a Glue column type such as ``array<struct<arn:string,accountid:string>>``.

    Raises:
        ValueError: on text that is not a type.
    """
    parsed, end = _parse_type(text.replace(" ", ""), 0)
    if end != len(text.replace(" ", "")):
        raise ValueError(f"unexpected text after a type: {text!r}")
    return parsed


def _parse_type(text: str, at: int) -> tuple[HiveType, int]:
    match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\(\d+(,\d+)?\))?").match(text, at)
    if match is None:
        raise ValueError(f"not a type at {at}: {text!r}")
    kind = re.sub(r"\(.*\)", "", match.group(0)).lower()
    at = match.end()
    if kind not in ("struct", "array", "map"):
        return HiveType(kind), at
    if text[at : at + 1] != "<":
        raise ValueError(f"{kind} without <…>: {text!r}")
    at += 1
    if kind == "array":
        element, at = _parse_type(text, at)
        return HiveType("array", element=element), _expect(text, at, ">")
    if kind == "map":
        _key, at = _parse_type(text, at)
        at = _expect(text, at, ",")
        value, at = _parse_type(text, at)
        return HiveType("map", element=value), _expect(text, at, ">")
    fields: list[tuple[str, HiveType]] = []
    while True:
        name = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, at)
        if name is None:
            raise ValueError(f"struct field name expected at {at}: {text!r}")
        at = _expect(text, name.end(), ":")
        field_type, at = _parse_type(text, at)
        fields.append((name.group(0).lower(), field_type))
        if text[at : at + 1] == ",":
            at += 1
            continue
        return HiveType("struct", fields=tuple(fields)), _expect(text, at, ">")


def _expect(text: str, at: int, char: str) -> int:
    if text[at : at + 1] != char:
        raise ValueError(f"expected {char!r} at {at}: {text!r}")
    return at + 1


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the table, name lower-cased."""

    name: str
    type: HiveType


@dataclass(frozen=True, slots=True)
class TableShape:
    """What the catalog says of a table."""

    database: str
    table: str
    columns: tuple[Column, ...]
    partitions: tuple[Column, ...]
    parameters: Mapping[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def partition(self, name: str) -> Column | None:
        return next((c for c in self.partitions if c.name == name), None)


def shape_from_glue(database: str, table: str, response: Mapping[str, Any]) -> TableShape:
    """The shape of a table from a Glue ``GetTable`` response."""
    found = response["Table"]
    columns = tuple(_column(c) for c in found.get("StorageDescriptor", {}).get("Columns") or [])
    partitions = tuple(_column(c) for c in found.get("PartitionKeys") or [])
    return TableShape(database, table, columns, partitions, dict(found.get("Parameters") or {}))


def _column(entry: Mapping[str, Any]) -> Column:
    return Column(str(entry["Name"]).lower(), parse_hive_type(str(entry.get("Type") or "string")))


def read_table_shape(glue: Any, database: str, table: str) -> TableShape:
    """Ask the Glue Data Catalog for the table's columns, partitions and projection settings.

    Raises:
        SourceError: if the table does not exist or cannot be read.
    """
    try:
        response = glue.get_table(DatabaseName=database, Name=table)
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code == "EntityNotFoundException":
            raise SourceError(f"no table {database}.{table} in the Glue Data Catalog") from exc
        raise source_error(exc, f"reading the definition of {database}.{table} (glue:GetTable)") from exc
    return shape_from_glue(database, table, response)


# --------------------------------------------------------------------------- partitions


@dataclass(frozen=True, slots=True)
class PartitionPlan:
    """Which partition columns the query filters on.

    Attributes:
        date_column: A single date partition (``date_partition``, ``timestamp``…), or ``None``.
        date_format: Its Java date pattern (``yyyy/MM/dd``).
        date_parts: ``(year, month, day)`` partition columns of a manually partitioned table.
        region_column: The region partition, or the ``awsregion`` column when there is none.
        region_is_partition: Whether ``region_column`` prunes what Athena reads.
        account_column: The account partition, or ``recipientaccountid`` when there is none.
        account_is_partition: Whether ``account_column`` prunes what Athena reads.
        warnings: What the user should know (for instance: no date partition, Athena scans everything).
    """

    date_column: str | None = None
    date_format: str = DEFAULT_DATE_FORMAT
    date_parts: tuple[str, str, str] | None = None
    region_column: str | None = None
    region_is_partition: bool = False
    account_column: str | None = None
    account_is_partition: bool = False
    warnings: tuple[str, ...] = ()


def plan_partitions(
    shape: TableShape,
    *,
    date_partition: str | None = None,
    date_format: str | None = None,
    region_partition: str | None = None,
    account_partition: str | None = None,
) -> PartitionPlan:
    """Find the table's date, region and account partitions (or use the ones named).

    A partition projection of type ``date`` is the date partition, with its format;
    otherwise the usual names are tried (:data:`DATE_PARTITION_NAMES`), then a
    ``year``/``month``/``day`` triple.

    Raises:
        SourceError: if a named column is not a partition of the table, or a name is not an identifier.
    """
    for flag, value in (("--date-partition", date_partition), ("--region-partition", region_partition), ("--account-partition", account_partition)):
        if value is not None:
            check_identifier(value, flag)
            if shape.partition(value.lower()) is None:
                known = ", ".join(p.name for p in shape.partitions) or "none"
                raise SourceError(f"{flag} {value}: not a partition column of {shape.database}.{shape.table} (partitions: {known})")
    names = [p.name for p in shape.partitions]
    params = shape.parameters
    warnings: list[str] = []

    date_column = date_partition.lower() if date_partition else None
    if date_column is None:
        date_column = next((n for n in names if params.get(f"projection.{n}.type", "").lower() == "date"), None)
    if date_column is None:
        date_column = next((n for n in DATE_PARTITION_NAMES if n in names), None)
    parts: tuple[str, str, str] | None = None
    if date_column is None and {"year", "month", "day"} <= set(names):
        parts = ("year", "month", "day")
    fmt = date_format or (params.get(f"projection.{date_column}.format") if date_column else None) or DEFAULT_DATE_FORMAT
    java_to_strftime(fmt)
    if date_column is None and parts is None:
        warnings.append(f"{shape.database}.{shape.table} has no date partition: Athena scans (and bills) the whole table; the time filter still applies")

    region_column = region_partition.lower() if region_partition else next((n for n in REGION_PARTITION_NAMES if n in names), None)
    region_is_partition = region_column is not None
    if region_column is None and shape.column("awsregion") is not None:
        region_column = "awsregion"
    account_column = account_partition.lower() if account_partition else next((n for n in ACCOUNT_PARTITION_NAMES if n in names), None)
    account_is_partition = account_column is not None
    if account_column is None and shape.column("recipientaccountid") is not None:
        account_column = "recipientaccountid"
    return PartitionPlan(date_column, fmt, parts, region_column, region_is_partition, account_column, account_is_partition, tuple(warnings))


_JAVA_TOKENS = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H"}


def java_to_strftime(pattern: str) -> str:
    """``yyyy/MM/dd`` -> ``%Y/%m/%d``; only year, month, day and hour fields are accepted.

    Raises:
        SourceError: for any other field; values of such a format would not sort as text.
    """
    out = []
    at = 0
    while at < len(pattern):
        for token, code in _JAVA_TOKENS.items():
            if pattern.startswith(token, at):
                out.append(code)
                at += len(token)
                break
        else:
            char = pattern[at]
            if char.isalpha():
                raise SourceError(f"date format {pattern!r}: only yyyy, MM, dd and HH are supported (pass --date-format)")
            out.append(char.replace("%", "%%"))
            at += 1
    if not pattern.startswith("yyyy"):
        raise SourceError(f"date format {pattern!r} must start with yyyy so that its values sort as text")
    return "".join(out)


# --------------------------------------------------------------------------- SQL


def check_identifier(name: str, what: str) -> str:
    """Return ``name`` lower-cased if it is a plain identifier.

    Raises:
        SourceError: otherwise; identifiers are the only names that ever reach the SQL text.
    """
    if not IDENTIFIER_RE.match(name):
        raise SourceError(f"{what} {name!r} is not a plain identifier (letters, digits, underscore)")
    return name.lower()


def quote_identifier(name: str) -> str:
    """A validated identifier in double quotes (``"date"`` and ``"timestamp"`` are reserved words)."""
    return '"' + check_identifier(name, "identifier") + '"'


def literal(value: str, *, pattern: re.Pattern[str] = _VALUE_RE) -> str:
    """An execution parameter: a value checked against its pattern, as a single-quoted SQL literal.

    Raises:
        SourceError: if the value does not match ``pattern``.
    """
    if not pattern.match(value):
        raise SourceError(f"refusing value {value!r} as a query parameter")
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class AthenaQuery:
    """SQL text with ``?`` placeholders, and the execution parameters for them, in order."""

    sql: str
    parameters: tuple[str, ...]
    columns: tuple[Column, ...]


def build_query(
    shape: TableShape,
    plan: PartitionPlan,
    window: TimeWindow,
    *,
    regions: Sequence[str] = (),
    accounts: Sequence[str] = (),
    keys: Sequence[str] = (),
    principals: Sequence[str] = (),
    event_names: Sequence[str] = (),
    margin_days: float = 1.0,
    now: datetime | None = None,
) -> AthenaQuery:
    """The SELECT for one slice of the table.

    Args:
        shape: The table.
        plan: Its partitions.
        window: The time window; its end defaults to ``now``.
        regions: Regions to keep (partition filter when the table has one).
        accounts: Accounts to keep (partition filter when the table has one).
        keys: Access key ids to keep (``useridentity.accesskeyid``).
        principals: Principal ARNs to keep (``useridentity.arn``, or the session issuer's ``arn`` when the
            table has it); with ``keys``, one ``OR``: a record made by a key or by a principal.
        event_names: Event names to keep.
        margin_days: Days of late delivery after the window's end to include in the partition range (fractions allowed).
        now: The current time, for an open end (tests).

    Raises:
        SourceError: if the table lacks a column a filter needs, or a value is malformed.
    """
    partitions = {p.name for p in shape.partitions}
    selected = tuple(c for c in shape.columns if c.name not in partitions)
    for needed in ("eventid", "eventtime", "eventname", "eventsource"):
        if shape.column(needed) is None:
            raise SourceError(f"{shape.database}.{shape.table} has no {needed} column: is it a CloudTrail table?")
    select = ",\n       ".join(
        f"json_format(CAST({quote_identifier(c.name)} AS JSON)) AS {quote_identifier(c.name)}" if c.type.complex else quote_identifier(c.name) for c in selected
    )
    where: list[str] = []
    params: list[str] = []

    if window.start is not None:
        end = window.end or (now or datetime.now(window.start.tzinfo))
        last = end + timedelta(days=margin_days)
        if plan.date_column is not None:
            strftime = java_to_strftime(plan.date_format)
            where.append(f"{quote_identifier(plan.date_column)} BETWEEN ? AND ?")
            params += [literal(window.start.strftime(strftime)), literal(last.strftime(strftime))]
        elif plan.date_parts is not None:
            days = TimeWindow(window.start, last).days(0)
            if len(days) > _MAX_DAY_PREDICATES:
                raise SourceError(f"the window spans {len(days)} days: too many for a year/month/day table; narrow it or name --date-partition")
            year, month, day = (quote_identifier(p) for p in plan.date_parts)
            where.append("(" + " OR ".join(f"({year} = ? AND {month} = ? AND {day} = ?)" for _ in days) + ")")
            for d in days:
                params += [literal(f"{d:%Y}"), literal(f"{d:%m}"), literal(f"{d:%d}")]
        where.append('"eventtime" BETWEEN ? AND ?')
        params += [literal(f"{window.start:%Y-%m-%dT%H:%M:%SZ}"), literal(f"{end:%Y-%m-%dT%H:%M:%SZ}")]
    if regions:
        if plan.region_column is None:
            raise SourceError(f"{shape.database}.{shape.table} has no region partition or awsregion column to filter --region on")
        where.append(_in(quote_identifier(plan.region_column), len(regions)))
        params += [literal(r) for r in regions]
    if accounts:
        if plan.account_column is None:
            raise SourceError(f"{shape.database}.{shape.table} has no account partition or recipientaccountid column to filter --account on")
        where.append(_in(quote_identifier(plan.account_column), len(accounts)))
        params += [literal(a) for a in accounts]
    if keys or principals:
        conditions, values = _identity_filter(shape, keys, principals)
        where.append(conditions[0] if len(conditions) == 1 else "(" + " OR ".join(conditions) + ")")
        params += values
    if event_names:
        where.append(_in('"eventname"', len(event_names)))
        params += [literal(n, pattern=_EVENT_NAME_RE) for n in event_names]
    source = f"{quote_identifier(shape.database)}.{quote_identifier(shape.table)}"
    sql = f"SELECT {select}\nFROM {source}"
    if where:
        sql += "\nWHERE " + "\n  AND ".join(where)
    return AthenaQuery(sql, tuple(params), selected)


def _identity_filter(shape: TableShape, keys: Sequence[str], principals: Sequence[str]) -> tuple[list[str], list[str]]:
    """The disjuncts that keep a record made by one of ``keys`` or one of ``principals``, and their parameters.

    Raises:
        SourceError: if the table lacks ``useridentity.accesskeyid`` (keys) or ``useridentity.arn`` (principals).
    """
    identity = shape.column("useridentity")
    conditions: list[str] = []
    values: list[str] = []
    if keys:
        if identity is None or identity.type.field("accesskeyid") is None:
            raise SourceError(f"{shape.database}.{shape.table} has no useridentity.accesskeyid to filter --key on")
        conditions.append(_in('"useridentity"."accesskeyid"', len(keys)))
        values += [literal(k) for k in keys]
    if principals:
        if identity is None or identity.type.field("arn") is None:
            raise SourceError(f"{shape.database}.{shape.table} has no useridentity.arn to filter --principal on")
        arns = [literal(a, pattern=_ARN_RE) for a in principals]
        conditions.append(_in('"useridentity"."arn"', len(arns)))
        values += arns
        context = identity.type.field("sessioncontext")
        issuer = context.field("sessionissuer") if context is not None else None
        if issuer is not None and issuer.field("arn") is not None:
            conditions.append(_in('"useridentity"."sessioncontext"."sessionissuer"."arn"', len(arns)))
            values += arns
    return conditions, values


def _in(column: str, count: int) -> str:
    return f"{column} IN ({', '.join('?' for _ in range(count))})"


def cost_of(scanned_bytes: int) -> float:
    """Athena's charge for a query that scanned this many bytes, in US dollars."""
    billed = max(_MIN_BILLED, math.ceil(scanned_bytes / (1024 * 1024)) * 1024 * 1024)
    return billed / 1e12 * PRICE_PER_TB


# --------------------------------------------------------------------------- rows -> records


def record_from_row(row: Mapping[str, Any], columns: Sequence[Column]) -> dict[str, Any]:
    """Turn one Athena row back into the record a CloudTrail file holds.

    ROW/ARRAY/MAP columns arrive as ``json_format`` text: a JSON object with lower-case
    keys (Athena engine 3), or an array of field values in declaration order (engine
    2's ``CAST(ROW AS JSON)``); both are mapped back to CloudTrail's names. Athena
    cannot tell an absent field from a null one: nulls are left out, as CloudTrail
    leaves absent fields out.

    Raises:
        ValueError: if a complex column's text is not JSON.
    """
    types = {c.name: c.type for c in columns}
    record: dict[str, Any] = {}
    for name, value in row.items():
        if value is None:
            continue
        column = name.lower()
        target, spec = RECORD_SPEC.get(column, (column, None))
        hive = types.get(column)
        if hive is not None and hive.complex:
            value = orjson.loads(value) if isinstance(value, str | bytes) else value
            value = _convert(value, hive, spec)
            if value is None:
                continue
        elif column in JSON_TEXT_COLUMNS and isinstance(value, str):
            value = _json_or_text(value)
        elif column in BOOLEAN_COLUMNS and isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        record[target] = value
    return record


def _json_or_text(value: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def _convert(value: Any, hive: HiveType | None, spec: Spec | None) -> Any:
    if value is None:
        return None
    if hive is not None and hive.kind == "array" and isinstance(value, list):
        return [_convert(v, hive.element, spec) for v in value]
    if hive is not None and hive.kind == "map":
        return value
    if spec is _OPAQUE:
        return value
    if isinstance(value, list) and hive is not None and hive.kind == "struct":
        value = dict(zip((n for n, _ in hive.fields), value, strict=False))
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, inner in value.items():
        if inner is None:
            continue
        lowered = key.lower()
        name, child = (spec or {}).get(lowered, (key, None))
        converted = _convert(inner, hive.field(lowered) if hive is not None else None, child)
        if converted is not None:
            out[name] = converted
    return out


# --------------------------------------------------------------------------- the source


def parse_athena_uri(target: str) -> tuple[str, str]:
    """``athena://DATABASE.TABLE`` -> ``(database, table)``, both validated identifiers.

    Raises:
        SourceError: if the URI is not of that form.
    """
    rest = target.removeprefix("athena://")
    database, dot, table = rest.partition(".")
    if not dot or not database or not table:
        raise SourceError(f"expected athena://DATABASE.TABLE, got {target}")
    return check_identifier(database, "database"), check_identifier(table, "table")


@dataclass(slots=True)
class AthenaProgress:
    """The query and what it cost, once known."""

    query_id: str | None = None
    state: str = "not started"
    scanned_bytes: int = 0
    rows: int = 0

    @property
    def cost_usd(self) -> float:
        return cost_of(self.scanned_bytes) if self.query_id else 0.0

    @property
    def files_done(self) -> int:
        """Athena reads the files itself: none are read here."""
        return 0

    def words(self) -> str:
        """The query's state."""
        return f"athena {self.state}"

    def as_dict(self) -> dict[str, Any]:
        return {"query_id": self.query_id, "scanned_bytes": self.scanned_bytes, "cost_usd": round(self.cost_usd, 6), "rows": self.rows}


class AthenaSource:
    """Loader items from one Athena query over a CloudTrail table.

    Build it with :meth:`prepare`, which reads the table's shape and builds the query
    without running it; iterating runs the query and yields its rows as records with
    origin ``athena:<query execution id>``.
    """

    kind = "athena"

    def __init__(
        self,
        shape: TableShape,
        plan: PartitionPlan,
        query: AthenaQuery,
        *,
        session: boto3.Session | None = None,
        workgroup: str | None = None,
        output: str | None = None,
        max_attempts: int = 10,
        poll_interval: float = 1.0,
        connection_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.shape = shape
        self.plan = plan
        self.query = query
        self.session = session
        self.workgroup = workgroup
        self.output = output
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self.connection_kwargs = dict(connection_kwargs or {})
        self.progress = AthenaProgress()
        self.target = f"athena://{shape.database}.{shape.table}"
        self.warnings = plan.warnings
        self.on_progress: ProgressListener | None = None

    @classmethod
    def prepare(cls, database: str, table: str, options: SourceOptions, *, session: boto3.Session, glue: Any = None) -> AthenaSource:
        """Read the table's shape from Glue, find its partitions and build the query.

        Raises:
            SourceError: without a time window (unless ``options.all_time``), or when the
                table cannot be read or lacks what a filter needs.
        """
        _refuse_unbounded(options)
        if options.output is not None and not options.output.startswith("s3://"):
            raise SourceError(f"--output must be an s3:// location, got {options.output}")
        for name in options.event_names:
            if not _EVENT_NAME_RE.match(name):
                raise SourceError(f"--event-name {name!r} is not an event name")
        glue = glue or session.client("glue", config=client_config(options.max_attempts))
        shape = read_table_shape(glue, database, table)
        plan = plan_partitions(
            shape,
            date_partition=options.date_partition,
            date_format=options.date_format,
            region_partition=options.region_partition,
            account_partition=options.account_partition,
        )
        query = build_query(
            shape,
            plan,
            options.window,
            regions=options.regions,
            accounts=options.accounts,
            keys=options.keys,
            principals=options.principals,
            event_names=options.event_names,
            margin_days=options.margin_days,
        )
        return cls(shape, plan, query, session=session, workgroup=options.workgroup, output=options.output, max_attempts=options.max_attempts)

    def _connect(self) -> Any:
        from pyathena import connect

        kwargs: dict[str, Any] = {
            "schema_name": self.shape.database,
            "poll_interval": self.poll_interval,
            "config": client_config(self.max_attempts),
        }
        if self.session is not None:
            kwargs["session"] = self.session
            kwargs["region_name"] = self.session.region_name
        if self.workgroup:
            kwargs["work_group"] = self.workgroup
        if self.output:
            kwargs["s3_staging_dir"] = self.output
        kwargs.update(self.connection_kwargs)
        return connect(**kwargs)

    def __iter__(self) -> Iterator[LoaderItem]:
        from pyathena.error import Error as AthenaError

        try:
            connection = self._connect()
        except Exception as exc:
            raise source_error(exc, "connecting to Athena") from exc
        try:
            cursor = connection.cursor()
            self._state("running")
            try:
                cursor.execute(self.query.sql, list(self.query.parameters), paramstyle="qmark")
            except AthenaError as exc:
                raise _athena_error(exc, f"running the Athena query on {self.shape.database}.{self.shape.table}") from exc
            self.progress.query_id = str(cursor.query_id)
            self.progress.scanned_bytes = int(cursor.data_scanned_in_bytes or 0)
            self._state("reading results")
            origin = f"athena:{cursor.query_id}"
            names = [str(d[0]) for d in cursor.description or []]
            index = 0
            while True:
                try:
                    rows = cursor.fetchmany(1000)
                except AthenaError as exc:
                    raise _athena_error(exc, f"reading the results of Athena query {cursor.query_id}") from exc
                if not rows:
                    break
                for row in rows:
                    values = dict(zip(names, row, strict=True))
                    try:
                        yield SourceRecord(origin, index, record_from_row(values, self.query.columns))
                    except ValueError as exc:
                        yield Rejection(origin, index, f"cannot read the Athena row: {exc}", values)
                    index += 1
                    self.progress.rows = index
            self._state("done")
        finally:
            connection.close()

    def _state(self, state: str) -> None:
        self.progress.state = state
        if self.on_progress is not None:
            self.on_progress()

    def total_files(self) -> None:
        """Athena reads the files itself, and tells no row count before the last row."""
        return None

    def origins_loaded(self, origins: list[str]) -> None:
        """Nothing to remember: a repeated load runs the query again."""

    def as_dict(self) -> dict[str, Any]:
        """The target, the query and what it cost, for ``load --json``."""
        return {"target": self.target, "kind": self.kind, **self.progress.as_dict()}

    def summary(self) -> str:
        """The query, the bytes it scanned and what that cost."""
        described = self.as_dict()
        cost = f"about ${described['cost_usd']:.4f} at $5/TB"
        return f"{self.target}: Athena query {described['query_id']} scanned {megabytes(described['scanned_bytes'])} ({cost}); {described['rows']:,} rows."


def _athena_error(exc: BaseException, doing: str) -> SourceError:
    cause = exc.__cause__ or exc.__context__
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(cause, ClientError | BotoCoreError):
        return source_error(cause, doing)
    return SourceError(f"{doing} failed: {exc}")


def _refuse_unbounded(options: SourceOptions) -> None:
    # A query without a time window scans, and bills, the whole table: it must be asked for.
    if not options.window.bounded and not options.all_time:
        raise SourceError("refusing to query Athena without a time window: pass --start (and --end), or --all to scan the whole table")


def _open(target: str, options: SourceOptions, manifest: OriginManifest | None) -> AthenaSource:
    with aws_errors(f"preparing to read {target}"):
        session = aws_session(options.profile)
        database, table = parse_athena_uri(target)
        return AthenaSource.prepare(database, table, options, session=session)


#: A table over a trail's files, ``athena://DATABASE.TABLE``.
KIND = SourceKind(
    name="athena",
    scheme="athena://",
    usage="athena://DATABASE.TABLE",
    options=frozenset(
        {
            "window",
            "accounts",
            "regions",
            "profile",
            "keys",
            "principals",
            "event_names",
            "workgroup",
            "output",
            "all_time",
            "margin_days",
            "date_partition",
            "date_format",
            "region_partition",
            "account_partition",
            "max_attempts",
        }
    ),
    open=_open,
    refuse_options=_refuse_unbounded,
)
