"""Renderers for the reports: a rich terminal report and the same as Markdown.

Both walk the same sections (title, columns, rows), so the two never disagree.
JSON is the report object itself (see ``keytrail/cli/output.print_json``). Every cell
and header line may hold text from the logs: both renderers show it literally
(``keytrail/report/literal.py``), the terminal through a console that reads no markup.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, chop_cells
from rich.console import Console
from rich.table import Table
from rich.text import Text

from keytrail.report.attack import severity_rank, tactic_rank
from keytrail.report.literal import literal_console, markdown_text, visible
from keytrail.report.model import LISTED_AT_MOST, BlastRadius, ContainmentAction, DoorEntry, FindingsReport

#: A table cell: one text, or several shown one per line.
Cell = str | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """One titled table of a report; ``note`` is a sentence under the title."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    note: str = ""
    empty: str = "none"
    #: How many leading cells make a card's first line when the section is printed as cards.
    card_head: int = 1


def cell_parts(cell: Cell) -> tuple[str, ...]:
    """A cell's texts, one or several (each shown on its own line)."""
    return cell if isinstance(cell, tuple) else (cell,)


def last_part(arn: str) -> str:
    """A principal's name from its ARN (``…:user/alice`` → ``alice``), for a person to tell them apart."""
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _result(succeeded: bool, error: str | None) -> str:
    return "ok" if succeeded else f"FAILED ({error})" if error else "FAILED"


def blast_radius_header(report: BlastRadius) -> list[str]:
    """The lines above the tables: key, identity, first use, evidence."""
    identity = report.identity
    first = report.first_use
    evidence = report.evidence
    lines = [f"Blast radius of {report.key}" + (f" (incident {report.incident})" if report.incident else "")]
    if not report.found:
        lines.append("This key is not in the store.")
        return lines
    if not report.in_scope:
        lines.append(f"No evidence of this key in this scope (incident {report.incident}): it signed no event loaded under it.")
    lines.append(f"Identity: {identity.type or '?'} {identity.name or '?'} ({identity.arn or '?'}), account {identity.account or '?'}")
    if first:
        lines.append(f"First use: {first.time} {first.eventName} from {first.sourceIPAddress} (eventID {first.eventID})")
    attacker = report.attacker_first_use
    if attacker:
        lines.append(
            f"Attacker's first use (heuristic): {attacker.time} {attacker.eventName} from {attacker.sourceIPAddress} "
            f"(eventID {attacker.eventID}): {attacker.reason}"
        )
    for anchor in report.detection:
        lines.append(f"Detected: AWS quarantined {anchor.principal} with {anchor.policy} at {anchor.time} (eventID {anchor.eventID})")
    where = f"incident {report.incident}" if report.incident else "the store"
    lines.append(f"End of the evidence: {evidence.last_event or 'unknown'} ({evidence.store_events:,} events in {where})")
    owners = {c.id: c.owner for c in report.credentials if c.owner}
    alive = [f"{k} ({last_part(owners[k])})" if k in owners else k for k in report.still_active] + [f"door {d}" for d in report.open_doors]
    lines.append(f"Still alive at the end of the evidence: {', '.join(alive) if alive else 'nothing'}")
    lines += _summary_lines(report)
    for item in report.instance_credentials_outside:
        lines.append(
            f"Instance credentials used outside the instance: {item.credential} of {item.instance} from {', '.join(item.addresses)} "
            f"({len(item.events)} events, e.g. {item.events[0]}): {'; '.join(item.reasons)}"
        )
    return lines


def _summary_lines(report: BlastRadius) -> list[str]:
    """What the findings and the containment come to, in a line each: the report's first screen ends here."""
    lines = []
    done: dict[str, list[str]] = {}
    failed = 0
    for finding in report.findings:
        if finding.succeeded:
            done.setdefault(finding.category, []).append(finding.eventName)
        else:
            failed += 1
    if done or failed:
        parts = []
        for tactic in sorted(done, key=severity_rank):
            names = list(dict.fromkeys(done[tactic]))
            shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
            parts.append(f"{tactic} {len(done[tactic])} ({shown})")
        lines.append("Findings: " + "; ".join(parts) + (f"; {failed} failed attempts" if failed else ""))
    if report.containment:
        kinds, targets = len(report.containment), sum(len(c.targets) for c in report.containment)
        actions = ", ".join(c.action for c in report.containment)
        lines.append(f"Containment: {kinds} {'kind' if kinds == 1 else 'kinds'} of action on {targets} {'target' if targets == 1 else 'targets'}: {actions}")
    return lines


def _door_detail(door: DoorEntry) -> str:
    parts = []
    if door.external or door.admits:
        parts.append("admits " + ", ".join(door.external or door.admits) + (" (public)" if door.public else ""))
    elif door.public:
        parts.append("public")
    if door.session_name:
        parts.append(f"sessions named {door.session_name}")
    parts += [f"{k} {', '.join(map(str, v)) or 'nothing' if isinstance(v, list) else v}" for k, v in sorted(door.detail.items())]
    return "; ".join(parts)


def _containment_row(action: ContainmentAction) -> tuple[Cell, ...]:
    targets = tuple(t.target for t in action.targets)
    details = tuple(dict.fromkeys(t.detail for t in action.targets))
    if len(details) == 1:
        return action.action, targets, details[0]
    # Each target's own detail names it: say what the action is, then each.
    return action.action, targets, (action.summary + ":", *(f"- {d}" for d in details))


def blast_radius_sections(report: BlastRadius, *, timeline: bool = True, all_findings: bool = False) -> Iterator[Section]:
    """The tables of a blast-radius report, in reading order; discovery findings are counted, not listed, unless ``all_findings``."""
    listed = [f for f in report.findings if all_findings or f.category != "discovery"]
    hidden = [f for f in report.findings if not (all_findings or f.category != "discovery")]
    collapsed = [f.eventName for f in hidden]
    failed = sum(not f.succeeded for f in hidden)
    tally = Counter(collapsed).most_common()
    counts = ", ".join(f"{name} ×{n}" for name, n in tally[:8]) + (f" and {len(tally) - 8} other calls" if len(tally) > 8 else "")
    findings_note = "ATT&CK tactic (primary) and technique per event; failed calls are attempts, not effects."
    if collapsed:
        attempts = f", {failed} of them failed" if failed else ""
        calls = f"{len(collapsed)} discovery call" + ("s" if len(collapsed) > 1 else "")
        findings_note += f" {calls}{attempts}, counted, not listed (--all lists them): {counts}."
    yield Section(
        "Credentials",
        ("credential", "kind", "owner", "born by", "born at", "parent", "events", "status", "expires"),
        [
            (
                c.id,
                c.kind,
                _s(c.owner),
                _s(c.born_by),
                _s(c.born_at),
                _s(c.parent),
                str(c.events),
                c.status + (f" {c.status_at}" if c.status_at else ""),
                _s(c.expires),
            )
            for c in report.credentials
        ],
        "The key first, then every credential derived from it, in the order they were born.",
    )
    yield Section(
        "Doors",
        ("door", "target", "admits / detail", "opened by", "at", "sessions through it", "status", "eventID"),
        [
            (
                d.kind,
                d.target,
                _door_detail(d),
                d.opened_by,
                d.time,
                ", ".join(d.sessions),
                d.status + (f" {d.closed_at}" if d.closed_at else ""),
                d.eventID,
            )
            for d in report.doors
        ],
        "What the blast radius opened for sessions no call of it minted; every later session through a door is in Credentials.",
    )
    yield Section(
        "Upstream",
        ("born", "made by credential", "principal", "event", "time", "eventID"),
        [(u.born, _s(u.credential), _s(u.principal), u.eventName, u.time, u.eventID) for u in report.upstream],
        "How the key came to be. The credential that made it (depth 0) is likely compromised too; deeper levels are provenance to review.",
        "not in the evidence",
    )
    yield Section(
        "Principals created",
        ("principal", "type", "by", "at", "deleted", "uses"),
        [(p.arn, _s(p.type), p.by, p.at, _s(p.deleted_at) or "no", str(p.uses)) for p in report.principals_created],
    )
    yield Section(
        "Findings",
        ("time", "tactic", "technique", "event", "credential", "target / detail", "result", "eventID"),
        [
            (
                f.time,
                f.category,
                f.technique,
                f.eventName,
                _s(f.credential),
                "; ".join(x for x in (_s(f.detail or f.target), f"why: {f.reason}" if f.routine else "") if x),
                _result(f.succeeded, f.errorCode),
                f.eventID,
            )
            for f in listed
        ],
        findings_note,
        card_head=4,
    )
    yield Section(
        "Sleepers",
        ("kind", "id", "owner", "born by", "born at", "status"),
        [(_s(s.kind), s.id, _s(s.owner), _s(s.born_by), _s(s.born_at), s.status) for s in report.sleepers],
        "Created in the blast radius and never used in the evidence.",
    )
    yield Section(
        "Pivots (heuristic)",
        ("via", "shared value", "credential", "principal", "events", "first seen", "evidence"),
        [
            (
                p.via + (" (shares address and user agent)" if len(p.shares) > 1 else ""),
                p.value,
                _s(p.credential),
                _s(p.principal),
                str(p.events),
                p.first_seen,
                ", ".join(e.eventID for e in p.evidence[:2]),
            )
            for p in report.pivots
        ],
        "Other credentials and principals seen from the same source IPs, or with the same unusual user agents, in the window. A lead, not proof.",
    )
    located = any(i.country or i.asn for i in report.indicators)
    yield Section(
        "Indicators",
        ("kind", "value", "events", "first seen", "last seen", "note") + (("country", "ASN") if located else ()),
        [
            (i.kind, i.value, f"{i.events:,}", _s(i.first_seen), _s(i.last_seen), _s(i.note)) + ((_s(i.country), _s(i.asn)) if located else ())
            for i in report.indicators
        ],
        "What to search for in other logs: the blast radius's source addresses and user agents (most used first), its keys and the principals it made.",
    )
    yield Section(
        "Containment",
        ("action", "targets", "what to do"),
        [_containment_row(c) for c in report.containment],
        "One row per kind of action, with every target it applies to.",
    )
    if timeline:
        yield Section(
            "Timeline",
            ("time", "credential", "event", "result", "eventID"),
            [(t.time, _s(t.credential), t.eventName, _result(t.succeeded, t.errorCode), t.eventID) for t in report.timeline],
            "Every event of every credential in the blast radius.",
            card_head=4,
        )


def findings_header(report: FindingsReport) -> list[str]:
    """The lines above the tables of ``keytrail findings``."""
    scope = f"incident {report.incident}" if report.incident else "the whole store"
    title = f"Findings in {scope}" + (f", tactic {report.category}" if report.category else "")
    title += f", credential {report.credential}" if report.credential else ""
    lines = [title, f"{report.total:,} findings ({report.failed:,} failed), {len(report.groups):,} credentials"]
    if report.findings is None:
        lines.append(f"More than {LISTED_AT_MOST} findings: counted, not listed. --credential ID lists one credential's, --events all.")
    return lines


def findings_sections(report: FindingsReport) -> Iterator[Section]:
    """The tables of ``keytrail findings``: who to start from, then the findings by tactic (when listed)."""
    yield Section(
        "Credentials to start from",
        ("credential", "principal", "findings", "failed", "tactics", "signals", "first", "last"),
        [
            (
                _s(g.credential),
                _s(g.principal),
                f"{g.findings:,}",
                f"{g.failed:,}",
                ", ".join(f"{t} {n:,}" for t, n in g.tactics.items()),
                _s("; ".join(f"{x.kind}: {x.detail}" for x in g.signals)),
                g.first,
                g.last,
            )
            for g in report.groups
        ],
        "Grouped by the credential that made them (by principal for calls without a key). Ranked by the kinds of "
        "signal of an attacker (an attack tool's user agent, an administrator policy put on itself, an address new "
        "for the principal, calls refused in several services), then the most harmful tactic, then the count.",
    )
    findings = report.findings or []
    for tactic in sorted({f.category for f in findings}, key=tactic_rank):
        rows = [f for f in findings if f.category == tactic]
        yield Section(
            tactic,
            ("time", "technique", "event", "credential", "principal", "target / detail", "result", "eventID"),
            [
                (
                    f.time,
                    f.technique,
                    f.eventName,
                    _s(f.credential),
                    _s(f.principal),
                    "; ".join(x for x in (_s(f.detail or f.target), f"why: {f.reason}" if f.routine else "") if x),
                    _result(f.succeeded, f.errorCode),
                    f.eventID,
                )
                for f in rows
            ],
        )


def report_console() -> Console:
    """A literal console for reports: the terminal's width, or a wide page when output goes to a file or a pipe."""
    console = literal_console()
    # Piped, a page wide enough for whole ids, unless COLUMNS says how wide (rich reads it).
    return console if console.is_terminal or os.environ.get("COLUMNS") else literal_console(width=220)


def _terminal_cell(cell: Cell) -> Text:
    return Text("\n".join(visible(part) for part in cell_parts(cell)))


#: A section with more rows than this is printed as plain aligned text, not a rich table: rich lays out a
#: table cell by cell, 2 s for the 11,000 lines of a key with 1,600 calls (bench/commands.py, 1M events).
PLAIN_TABLE_ROWS = 200

_GAP = "  "


def _fit(natural: list[int], room: int) -> list[int]:
    """Column widths within ``room``: the widest columns are cut to one cap, found by bisection (never below 8)."""
    if sum(natural) <= room:
        return natural
    low, high = 8, max(natural)
    while low < high:
        cap = (low + high + 1) // 2
        if sum(min(w, cap) for w in natural) <= room:
            low = cap
        else:
            high = cap - 1
    return [min(w, low) for w in natural]


def _cells(text: str) -> int:
    """Terminal cells ``text`` takes; printable ASCII (all that :func:`visible` leaves of control characters) one each."""
    return len(text) if text.isascii() else cell_len(text)


def plain_table(section: Section, width: int) -> list[str]:
    """A section as lines of aligned text within ``width`` columns, long cells folded; every cell shown literally."""
    cells = [[[visible(part) for part in cell_parts(cell)] for cell in row] for row in section.rows]
    natural = [max([_cells(name)] + [_cells(line) for row in cells for line in row[i]]) for i, name in enumerate(section.columns)]
    widths = _fit(natural, max(width - len(_GAP) * (len(natural) - 1), 8 * len(natural)))

    def lines_of(row: Sequence[list[str]]) -> list[str]:
        folded = [[piece for line in cell for piece in (chop_cells(line, w) if _cells(line) > w else [line])] for cell, w in zip(row, widths, strict=True)]
        height = max(len(f) for f in folded)
        return [
            _GAP.join(f[i] + " " * (w - _cells(f[i])) if i < len(f) else " " * w for f, w in zip(folded, widths, strict=True)).rstrip() for i in range(height)
        ]

    out = lines_of([[name] for name in section.columns])
    out.append(_GAP.join("-" * w for w in widths))
    for row in cells:
        out += lines_of(row)
    return out


#: Narrower than this, a section's rows are printed as cards (one field a line) instead of a table's folded cells.
CARDS_BELOW = 100


def card_lines(section: Section, width: int) -> list[str]:
    """A section's rows as cards within ``width`` columns: the first cells on a line after a bullet, then every other
    non-empty cell as ``column: value``, long lines folded; every cell shown literally."""

    def fold(line: str, indent: str) -> list[str]:
        if _cells(line) <= width:
            return [line]
        pieces = chop_cells(line, width)
        rest = chop_cells("".join(pieces[1:]), max(width - len(indent), 8))
        return [pieces[0], *(indent + piece for piece in rest)]

    out: list[str] = []
    head = section.card_head
    for row in section.rows:
        first = [visible(part) for cell in row[:head] for part in cell_parts(cell) if part]
        out += fold("• " + "  ".join(first), "  ")
        for name, cell in zip(section.columns[head:], row[head:], strict=True):
            parts = [visible(part) for part in cell_parts(cell) if part]
            if len(parts) == 1:
                out += fold(f"  {name}: {parts[0]}", "    ")
            elif parts:
                out.append(f"  {name}:")
                for part in parts:
                    out += fold(f"    {part}", "      ")
    return out


def _print_cards(console: Console, section: Section) -> None:
    console.print(Text(section.title, style="bold"))
    if section.note:
        console.print(Text(section.note, style="dim"))
    # Every cell went through visible(): the lines go to the console's file as they are (fast for thousands of rows).
    console.file.write("\n".join(card_lines(section, console.width)) + "\n")


def print_sections(console: Console, header: Sequence[str], sections: Iterator[Section]) -> None:
    """Render sections as rich tables, long ones as plain aligned text (:func:`plain_table`); log text in them is
    shown literally (``Text``, escapes for control characters)."""
    for index, line in enumerate(header):
        console.print(Text(visible(line), style="bold" if index == 0 else ""))
    for section in sections:
        console.print()
        if not section.rows:
            console.print(Text.assemble((section.title, "bold"), f": {section.empty}"))
            continue
        if console.width < CARDS_BELOW:
            _print_cards(console, section)
            continue
        if len(section.rows) > PLAIN_TABLE_ROWS:
            console.print(Text(section.title, style="bold"))
            # Every cell went through visible(): the lines go to the console's file as they are, without rich's layout.
            console.file.write("\n".join(plain_table(section, console.width)) + "\n")
            if section.note:
                console.print(Text(section.note))
            continue
        title = Text(section.title, style="bold")
        table = Table(title=title, title_justify="left", caption=Text(section.note) if section.note else None, caption_justify="left")
        for column in section.columns:
            table.add_column(column, overflow="fold")
        for row in section.rows:
            table.add_row(*(_terminal_cell(cell) for cell in row))
        console.print(table)


def _md_cell(cell: Cell) -> str:
    return "<br>".join(markdown_text(part) for part in cell_parts(cell))


def markdown(header: Sequence[str], sections: Iterator[Section]) -> str:
    """Render sections as a Markdown document."""
    lines = [f"# {markdown_text(header[0])}", ""] if header else []
    lines += [f"- {markdown_text(line)}" for line in header[1:]]
    for section in sections:
        lines += ["", f"## {section.title}", ""]
        if section.note:
            lines += [section.note, ""]
        if not section.rows:
            lines.append(f"_{section.empty}_")
            continue
        lines.append("| " + " | ".join(section.columns) + " |")
        lines.append("|" + "---|" * len(section.columns))
        lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in section.rows]
    return "\n".join(lines) + "\n"
