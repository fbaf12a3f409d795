"""The query registry: every Cypher statement is a named file in ``keytrail/cypher``.

Analysis queries live at the top of ``keytrail/cypher`` (``key-first-use.cypher``),
write queries in ``cypher/write`` and schema statements in ``cypher/schema``. Each
file opens with a comment header giving its purpose, parameters and returned
columns; :func:`get_query` fails on an unknown name, and :meth:`Query.check_params`
on parameters the header does not declare or the body does not use.

An analysis query with parameters has, right after its header, a line of example values for Neo4j Browser
(``:param {key: 'AKIAIOSFODNN7EXAMPLE', incident: null};``): a file pasted into the Browser as it is sets them and
runs. The line is not Cypher; :attr:`Query.body` leaves it out, and :attr:`Query.browser_params` is its map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
#: How the line of example values for Neo4j Browser starts.
BROWSER_PARAM = ":param "
_HEADER_PARAM_RE = re.compile(r"^\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")


class UnknownQueryError(KeyError):
    """Raised for a query name that has no ``.cypher`` file."""


class QueryParameterError(ValueError):
    """Raised when the parameters given do not match the query's header."""


@dataclass(frozen=True, slots=True)
class Param:
    """A declared parameter: ``$name: type — description``.

    ``description`` is what follows the colon on the ``$name:`` line; ``declaration`` is
    the same with the lines that continue an unclosed ``map{...}`` or ``list<...>`` joined on.
    """

    name: str
    description: str
    declaration: str = ""


@dataclass(frozen=True, slots=True)
class MapField:
    """One field of a declared ``map{name: type, other?: type}``; ``optional`` when written ``name?``."""

    name: str
    type: str
    optional: bool


@dataclass(frozen=True, slots=True)
class Query:
    """A named Cypher statement and what its header says of it."""

    name: str
    kind: str  # "analysis", "write" or "schema"
    text: str
    purpose: str
    params: tuple[Param, ...]
    returns: tuple[str, ...]
    browser_params: str | None = None

    @property
    def body(self) -> str:
        """The statement without its comment header and its Browser ``:param`` line."""
        return "\n".join(line for line in self.text.splitlines() if not line.lstrip().startswith(("//", BROWSER_PARAM))).strip()

    def check_params(self, params: dict[str, Any]) -> None:
        """Raise :class:`QueryParameterError` unless ``params`` are exactly the declared ones."""
        declared = {p.name for p in self.params}
        given = set(params)
        if given != declared:
            missing = ", ".join(sorted(declared - given))
            extra = ", ".join(sorted(given - declared))
            detail = "; ".join(x for x in (missing and f"missing ${missing}", extra and f"unexpected ${extra}") if x)
            raise QueryParameterError(f"query {self.name}: {detail}")


def parse_query(name: str, kind: str, text: str) -> Query:
    """Parse a ``.cypher`` file's header.

    The header is the leading ``//`` comment block with ``Purpose:``, ``Parameters:``
    (one ``$name: type — description`` per line, or ``none``) and ``Returns:``
    (comma-separated column names, or ``nothing``).
    """
    header: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("//"):
            break
        header.append(stripped[2:].strip())
    purpose: list[str] = []
    params: list[list[str]] = []  # name, description, declaration
    returns: tuple[str, ...] = ()
    section = ""
    for line in header:
        lowered = line.lower()
        if lowered.startswith("purpose:"):
            section = "purpose"
            purpose.append(line.split(":", 1)[1].strip())
        elif lowered.startswith("parameters:"):
            section = "params"
        elif lowered.startswith("returns:"):
            section = "returns"
            value = line.split(":", 1)[1].strip()
            if value and value.lower() not in ("nothing", "none"):
                returns = tuple(col.strip().split(" ")[0] for col in value.split(",") if col.strip())
        elif section == "params" and line and params and _depth(params[-1][2]) > 0 and not _HEADER_PARAM_RE.match(line):
            params[-1][2] += " " + line
        elif re.match(r"^[A-Z][A-Za-z /]*:", line):
            section = ""
        elif section == "purpose" and line:
            purpose.append(line)
        elif section == "params":
            match = _HEADER_PARAM_RE.match(line)
            if match:
                params.append([match.group(1), match.group(2).strip(), match.group(2).strip()])
    if not purpose:
        raise ValueError(f"query {name}: header has no Purpose")
    statement = [line for line in text.splitlines() if not line.strip().startswith(("//", BROWSER_PARAM))]
    body_params = set(_PARAM_RE.findall("\n".join(statement)))
    declared = {p[0] for p in params}
    if body_params != declared:
        raise ValueError(f"query {name}: header declares {sorted(declared)} but the statement uses {sorted(body_params)}")
    browser = [line.strip() for line in text.splitlines() if line.startswith(BROWSER_PARAM)]
    if kind in ("analysis", "browser") and bool(declared) != bool(browser):
        raise ValueError(
            f"query {name}: an analysis query has a line of example values ({BROWSER_PARAM}{{...}};) after its header exactly when it has parameters"
        )
    values = browser[0].removeprefix(BROWSER_PARAM).rstrip(";").strip() if browser else None
    return Query(name, kind, text, " ".join(purpose), tuple(Param(*p) for p in params), returns, values)


_OPENING = "{<(["
_CLOSING = "}>)]"


def _depth(text: str) -> int:
    """How many brackets of a type declaration are still open at its end."""
    depth = 0
    for char in text:
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth -= 1
    return depth


def map_fields(declaration: str) -> tuple[MapField, ...] | None:
    """The fields a declaration that opens with ``map{...}`` or ``list<map{...}>`` names, in order.

    ``None`` when the declaration is of neither form (``map`` alone names no fields). What
    follows the closing bracket (`` — a description``) is ignored.

    Raises:
        ValueError: when the brackets do not close or a field is not ``name`` or ``name?: type``.
    """
    text = declaration.strip()
    prefix = next((p for p in ("list<map{", "map{") if text.startswith(p)), None)
    if prefix is None:
        return None
    pieces: list[str] = []
    depth, start = 0, len(prefix)
    for at in range(start, len(text)):
        char = text[at]
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING and depth:
            depth -= 1
        elif char == "}":
            pieces.append(text[start:at])
            if prefix.startswith("list<") and text[at + 1 : at + 2] != ">":
                break
            return tuple(_map_field(piece, declaration) for piece in pieces if piece.strip())
        elif char == "," and not depth:
            pieces.append(text[start:at])
            start = at + 1
    raise ValueError(f"unclosed map in declaration {declaration!r}")


def _map_field(piece: str, declaration: str) -> MapField:
    name, _, field_type = piece.partition(":")
    name = name.strip()
    optional = name.endswith("?")
    name = name.removesuffix("?")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"field {piece.strip()!r} of declaration {declaration!r} is not 'name' or 'name?: type'")
    return MapField(name, field_type.strip(), optional)


def row_fields(query: Query, param: str = "rows") -> tuple[MapField, ...]:
    """The fields of each map of a ``$rows: list<map{...}>`` parameter (or of ``param``), as its header declares them.

    Raises:
        QueryParameterError: when the query has no such parameter.
        ValueError: when the parameter is not declared as ``list<map{...}>``.
    """
    found = next((p for p in query.params if p.name == param), None)
    if found is None:
        raise QueryParameterError(f"query {query.name}: no parameter ${param}")
    fields = map_fields(found.declaration) if found.declaration.startswith("list<map{") else None
    if fields is None:
        raise ValueError(f"query {query.name}: ${param} is not declared as list<map{{...}}>: {found.declaration!r}")
    return fields


@cache
def _load_all() -> dict[str, Query]:
    root = resources.files("keytrail.cypher")
    found: dict[str, Query] = {}
    for kind, folder in (("analysis", root), ("write", root / "write"), ("browser", root / "browser")):
        for entry in folder.iterdir():
            if entry.name.endswith(".cypher"):
                name = entry.name.removesuffix(".cypher")
                found[name] = parse_query(name, kind, entry.read_text(encoding="utf-8"))
    return found


def get_query(name: str) -> Query:
    """The query with this name.

    Raises:
        UnknownQueryError: if no ``.cypher`` file has that name.
    """
    try:
        return _load_all()[name]
    except KeyError:
        raise UnknownQueryError(name) from None


def browser_queries() -> list[Query]:
    """The queries written for Neo4j Browser (``cypher/browser``): they return paths to draw, so only the Browser runs them."""
    return sorted((q for q in _load_all().values() if q.kind == "browser"), key=lambda q: q.name)


def analysis_queries() -> list[Query]:
    """The queries a user can run by name, sorted by name."""
    return sorted((q for q in _load_all().values() if q.kind == "analysis"), key=lambda q: q.name)


def schema_statements(backend: str) -> list[str]:
    """The schema statements of one backend (``neo4j`` or ``falkordb``), in order."""
    text = (resources.files("keytrail.cypher") / "schema" / f"{backend}.cypher").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    return [statement.strip() for statement in body.split(";") if statement.strip()]
