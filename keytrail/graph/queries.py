"""The query registry: every Cypher statement is a named file in ``keytrail/cypher``.

Analysis queries live at the top of ``keytrail/cypher`` (``key-first-use.cypher``),
write queries in ``cypher/write`` and schema statements in ``cypher/schema``. Each
file opens with a comment header giving its purpose, parameters and returned
columns; :func:`get_query` fails on an unknown name, and :meth:`Query.check_params`
on parameters the header does not declare or the body does not use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_HEADER_PARAM_RE = re.compile(r"^\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")


class UnknownQueryError(KeyError):
    """Raised for a query name that has no ``.cypher`` file."""


class QueryParameterError(ValueError):
    """Raised when the parameters given do not match the query's header."""


@dataclass(frozen=True, slots=True)
class Param:
    """A declared parameter: ``$name: type — description``."""

    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Query:
    """A named Cypher statement and what its header says of it."""

    name: str
    kind: str  # "analysis", "write" or "schema"
    text: str
    purpose: str
    params: tuple[Param, ...]
    returns: tuple[str, ...]

    @property
    def body(self) -> str:
        """The statement without its comment header."""
        return "\n".join(line for line in self.text.splitlines() if not line.lstrip().startswith("//")).strip()

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
    params: list[Param] = []
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
        elif re.match(r"^[A-Z][A-Za-z /]*:", line):
            section = ""
        elif section == "purpose" and line:
            purpose.append(line)
        elif section == "params":
            match = _HEADER_PARAM_RE.match(line)
            if match:
                params.append(Param(match.group(1), match.group(2).strip()))
    if not purpose:
        raise ValueError(f"query {name}: header has no Purpose")
    body_params = set(_PARAM_RE.findall("\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))))
    declared = {p.name for p in params}
    if body_params != declared:
        raise ValueError(f"query {name}: header declares {sorted(declared)} but the statement uses {sorted(body_params)}")
    return Query(name, kind, text, " ".join(purpose), tuple(params), returns)


@cache
def _load_all() -> dict[str, Query]:
    root = resources.files("keytrail.cypher")
    found: dict[str, Query] = {}
    for kind, folder in (("analysis", root), ("write", root / "write")):
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


def analysis_queries() -> list[Query]:
    """The queries a user can run by name, sorted by name."""
    return sorted((q for q in _load_all().values() if q.kind == "analysis"), key=lambda q: q.name)


def schema_statements(backend: str) -> list[str]:
    """The schema statements of one backend (``neo4j`` or ``falkordb``), in order."""
    text = (resources.files("keytrail.cypher") / "schema" / f"{backend}.cypher").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    return [statement.strip() for statement in body.split(";") if statement.strip()]
