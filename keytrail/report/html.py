"""``blast-radius --html FILE``: the report as one self-contained page, with the lineage drawn as a graph.

The page needs no network: Cytoscape.js (``keytrail/data/vendor``, MIT) and the page's own script are inline,
and a Content-Security-Policy allows those two scripts (by hash), the inline style, and nothing else: no
request leaves the page, and nothing from the logs can run in it.

Text from the logs reaches the page two ways, both literal: table cells and the summary are HTML-escaped
(after :func:`~keytrail.report.literal.visible`), and the graph's data is JSON in a ``<script
type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, which Cytoscape draws on a canvas and the
side panel shows with ``textContent``, never as markup.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import orjson

from keytrail import __version__
from keytrail.graph.transform import key_caption
from keytrail.report.literal import visible
from keytrail.report.model import BlastRadius
from keytrail.report.render import Cell, Section, blast_radius_header, blast_radius_sections, cell_parts, last_part


@cache
def _cytoscape() -> str:
    return (resources.files("keytrail") / "data" / "vendor" / "cytoscape.min.js").read_text(encoding="utf-8")


def short(identifier: str) -> str:
    """An id a person can tell apart at a glance: a key as Neo4j Browser's style captions it, an ARN's last part."""
    if identifier.startswith(("AKIA", "ASIA")):
        return key_caption(identifier)
    return last_part(identifier) if "/" in identifier else identifier.rsplit(":", 1)[-1]


def graph_elements(report: BlastRadius) -> dict[str, Any]:
    """The lineage as Cytoscape elements: credentials, the doors between them, principals made, failed attempts.

    Node classes say what a node is (``credential long-term``, ``door``, ``principal``, ``failed``) and its state
    (``active``, ``deleted``, ``open``...); ``root`` marks the key asked for.
    """
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    ids: set[str] = set()

    def node(identifier: str, label: str, classes: str, details: dict[str, Any]) -> None:
        if identifier not in ids:
            ids.add(identifier)
            nodes.append({"data": {"id": identifier, "label": label, "details": details}, "classes": classes})

    def edge(source: str, target: str, label: str, classes: str = "") -> None:
        if source in ids and target in ids:
            edges.append({"data": {"id": f"e{len(edges)}", "source": source, "target": target, "label": label}, "classes": classes})

    for c in report.credentials:
        owner = short(c.owner) if c.owner else "?"
        classes = f"credential {c.kind} {c.status}" + (" root" if c.id == report.key else "")
        details = {"credential": c.id, "kind": c.kind, "owner": c.owner, "status": c.status, "born by": c.born_by, "born at": c.born_at, "events": c.events}
        node(c.id, f"{short(c.id)}\n{owner}\n{c.status}", classes, details)
    for d in report.doors:
        door_id = f"door:{d.kind}:{d.target}"
        details = {"door": d.kind, "target": d.target, "opened by": d.opened_by, "event": d.eventName, "eventID": d.eventID, "at": d.time, "status": d.status}
        node(door_id, f"{d.kind}\n{short(d.target)}\n{d.status}", f"door {d.status}", details)
        edge(d.opened_by, door_id, d.eventName)
        for session in d.sessions:
            edge(door_id, session, "through")
    door_of = {f"door:{d.kind}:{d.target}" for d in report.doors}
    for c in report.credentials:
        if c.parent and not (c.door and f"door:{c.door_kind}:{c.door}" in door_of):
            edge(c.parent, c.id, c.born_by or "made")
    for p in report.principals_created:
        principal_id = f"principal:{p.arn}"
        node(
            principal_id,
            f"{short(p.arn)}\n{p.type or 'principal'}",
            "principal" + (" deleted" if p.deleted else " active"),
            {"principal": p.arn, "by": p.by, "at": p.at},
        )
        edge(p.by, principal_id, "created")
    failed: Counter[tuple[str, str, str]] = Counter()
    for f in report.findings:
        if not f.succeeded and f.credential:
            failed[(f.credential, f.eventName, f.errorCode or "failed")] += 1
    for (credential, event_name, error), count in sorted(failed.items()):
        failed_id = f"failed:{credential}:{event_name}:{error}"
        node(failed_id, f"✗ {event_name} ×{count}\n{error}", "failed", {"failed call": event_name, "error": error, "credential": credential, "times": count})
        edge(credential, failed_id, "attempted", "failed")
    return {"elements": nodes + edges, "roots": [report.key] if report.key in ids else []}


def _json_for_script(value: Any) -> str:
    """JSON that no ``</script>``, comment or entity in the data can end or change inside an HTML script block."""
    text = orjson.dumps(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _cell(value: Cell) -> str:
    return "<br>".join(html.escape(visible(part)) for part in cell_parts(value))


def _table(section: Section) -> str:
    head = f"<h2>{html.escape(section.title)}</h2>"
    note = f'<p class="note">{html.escape(section.note)}</p>' if section.note else ""
    if not section.rows:
        return f"<section>{head}<p>{html.escape(section.empty)}</p></section>"
    columns = "".join(f"<th>{html.escape(c)}</th>" for c in section.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>" for row in section.rows)
    return f"<section>{head}{note}<table><thead><tr>{columns}</tr></thead><tbody>{rows}</tbody></table></section>"


#: Cytoscape adds a <style> of its own unless an element with this id exists, which the policy would refuse:
#: the page's style sheet carries the id, and the rule Cytoscape would add (report.css, last line).
CYTOSCAPE_STYLESHEET = "__________cytoscape_stylesheet"


@cache
def _asset(name: str) -> str:
    """The page's style sheet or script (``keytrail/data/report.css``, ``report.js``)."""
    return (resources.files("keytrail") / "data" / name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def html_report(report: BlastRadius, *, sections: Iterable[Section] | None = None) -> str:
    """The whole page (see the module)."""
    library, script, style = _cytoscape(), _asset("report.js"), _asset("report.css")
    policy = f"default-src 'none'; script-src {_hash(library)} {_hash(script)}; style-src {_hash(style)}; img-src data:; base-uri 'none'; form-action 'none'"
    title, *lines = blast_radius_header(report)
    alive = list(report.still_active) + [f"door {d}" for d in report.open_doors]
    summary = "".join(
        f'<li class="alive">{html.escape(visible(line))}</li>' if line.startswith("Still alive") and alive else f"<li>{html.escape(visible(line))}</li>"
        for line in lines
    )
    legend = "".join(
        f'<span><i class="{kind}"></i>{html.escape(name)}</span>'
        for name, kind in (
            ("long-term key", "k-long"),
            ("temporary key", "k-temp"),
            ("console password", "k-console"),
            ("door", "k-door"),
            ("principal made", "k-principal"),
        )
    )
    tables = "".join(_table(section) for section in (sections if sections is not None else blast_radius_sections(report)))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(visible(title))}</title><style id="{CYTOSCAPE_STYLESHEET}">{style}</style></head><body>'
        f'<header><h1>{html.escape(visible(title))}</h1><ul class="summary">{summary}</ul></header><main>'
        '<h2>Lineage</h2><p class="note">Credentials (keys first by kind), the doors they opened and came through, the principals they made, '
        "and failed attempts (dashed: intent, not effect). A thick red border: still alive at the end of the evidence. Click a node for its details.</p>"
        f'<p class="legend">{legend}<span>✗ dashed: failed calls</span></p>'
        '<div id="graph-box"><div id="graph"></div><div id="details">Click a node.</div></div>'
        f"{tables}</main>"
        f"<footer>keytrail {html.escape(__version__)}: every value is shown as the logs have it. This page needs no network.</footer>"
        f'<script type="application/json" id="keytrail-graph">{_json_for_script(graph_elements(report))}</script>'
        f"<script>{library}</script><script>{script}</script></body></html>\n"
    )
