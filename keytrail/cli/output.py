"""Shared rendering of query rows: a rich table for people, JSON for programs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import orjson
from rich.table import Table
from rich.text import Text

from keytrail.report.literal import literal_console, visible


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to standard output."""
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
    """Render rows as a table with the given columns first; values (text from the logs) are shown literally."""
    console = literal_console()
    if not rows:
        console.print(Text(f"{title + ': ' if title else ''}no rows", style="dim"))
        return
    names = list(columns) + [c for c in rows[0] if c not in columns]
    table = Table(title=title, show_lines=False)
    for name in names:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if row.get(n) is None else visible(str(row.get(n)))) for n in names))
    console.print(table)
