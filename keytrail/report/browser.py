"""The Neo4j Browser kit: a style sheet, the investigation queries as favourites, and links that open a query.

Every query file starts with a ``:param {...};`` line of example values, so a file pasted into the Browser as it
is runs. A link (``blast-radius --browser``, ``keytrail browser KEY``) opens the Browser's editor with the query
and a ``:param`` line of the report's own values (``?cmd=edit&arg=...``): the responder presses run.

The ``:param`` line of a link is the one place keytrail writes values into query text, because the Browser takes
parameters no other way. Only values of a strict shape go in (access key ids, ISO times, ``service:EventName``
actions, incident names of letters, digits and ``-_.:/@``); anything else is refused, never escaped
(:class:`UnsafeValue`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from keytrail.graph.queries import Query, analysis_queries, get_query
from keytrail.report.attack import load_mapping

#: The investigation in the order a responder asks its questions: (step, query).
INVESTIGATION: tuple[tuple[str, str], ...] = (
    ("first use", "key-first-use"),
    ("identity", "key-identity"),
    ("lineage", "lineage"),
    ("doors", "doors-opened"),
    ("findings", "credential-findings"),
    ("events", "key-events"),
)
DEFAULT_BROWSER = "http://127.0.0.1:7474/browser/"
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:/@+=,\- ]{0,256}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UnsafeValue(ValueError):
    """A value that keytrail will not write into a ``:param`` line (see the module)."""


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if not _SAFE_TEXT.match(value):
            raise UnsafeValue(f"{value[:60]!r} is not written into a Browser link")
        return f"'{value}'"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise UnsafeValue(f"a {type(value).__name__} is not written into a Browser link")


def _key(name: str) -> str:
    if _IDENTIFIER.match(name):
        return name
    if _SAFE_TEXT.match(name) and "`" not in name:
        return f"`{name}`"
    raise UnsafeValue(f"{name[:60]!r} is not written into a Browser link")


def values_for(query: Query, key: str, incident: str | None, credentials: Sequence[Mapping[str, str]] | None = None) -> dict[str, Any]:
    """The values of a query's parameters for one key: the key, its credentials, the incident, the mapping's actions."""
    known: dict[str, Any] = {
        "key": key,
        "credential": key,
        "credentials": list(credentials) if credentials is not None else [{"id": key, "since": ""}],
        "incident": incident,
        "actions": load_mapping().actions,
    }
    missing = [p.name for p in query.params if p.name not in known]
    if missing:
        raise ValueError(f"query {query.name}: no value for {', '.join(missing)} in a Browser link")
    return {p.name: known[p.name] for p in query.params}


def browser_text(query: Query, values: Mapping[str, Any]) -> str:
    """What the Browser's editor gets: a ``:param`` line of these values, then the statement."""
    return f":param {_literal(dict(values))};\n{query.body}"


def browser_link(base: str, text: str) -> str:
    """A URL that opens Neo4j Browser at ``base`` with ``text`` in its editor."""
    return f"{base.rstrip('/')}/?cmd=edit&arg={quote(text, safe='')}"


def investigation_links(base: str, key: str, incident: str | None, credentials: Sequence[Mapping[str, str]] | None = None) -> list[tuple[str, str, str]]:
    """(step, query, link) for each step of :data:`INVESTIGATION`."""
    links = []
    for step, name in INVESTIGATION:
        query = get_query(name)
        links.append((step, name, browser_link(base, browser_text(query, values_for(query, key, incident, credentials)))))
    return links


def style_sheet() -> str:
    """The Browser style (``keytrail/data/keytrail.grass``)."""
    return (resources.files("keytrail") / "data" / "keytrail.grass").read_text(encoding="utf-8")


def write_kit(folder: Path) -> list[Path]:
    """Write the style sheet and the favourites (a zip of the investigation queries, in order, then every other one)."""
    folder.mkdir(parents=True, exist_ok=True)
    style = folder / "keytrail.grass"
    style.write_text(style_sheet(), encoding="utf-8")
    favourites = folder / "keytrail-queries.zip"
    with zipfile.ZipFile(favourites, "w", zipfile.ZIP_DEFLATED) as archive:
        steps = {name for _, name in INVESTIGATION}
        for index, (step, name) in enumerate(INVESTIGATION, start=1):
            archive.writestr(f"keytrail investigation/{index:02d} {step} ({name}).cypher", get_query(name).text)
        for query in analysis_queries():
            if query.name not in steps:
                archive.writestr(f"keytrail queries/{query.name}.cypher", query.text)
    return [style, favourites]
