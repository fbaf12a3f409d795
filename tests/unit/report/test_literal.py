"""Text from the logs is shown literally: no control character, escape sequence, markup or link acts on the screen."""

from __future__ import annotations

import io

import pytest
from rich.cells import cell_len
from rich.console import Console

from keytrail.report.literal import markdown_text, visible
from keytrail.report.render import PLAIN_TABLE_ROWS, Section, markdown, plain_table, print_sections

HOSTILE = [
    "x[/bold]y",
    "[link=https://evil.example]backup[/link]",
    "\x1b[2J\x1b[H cleared",
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "arn:aws:secretsmanager:us-east-1:1:secret:prod/db :smile: :secret:",
    "a|b <script>alert(1)</script> `code` *bold* _it_",
    "right\u202eto-left",
    "line\nbreak\rreturn\ttab\x00nul\x7fdel\x9bcsi",
    "x" * 100_000,
]


def test_visible_escapes_exactly_the_characters_that_act() -> None:
    assert visible("arn:aws:iam::1:user/a b") == "arn:aws:iam::1:user/a b"
    assert visible("\x1b[2J") == "\\x1b[2J" and visible("a\u202eb") == "a\\u202eb" and visible("a\nb") == "a\\nb"
    for text in HOSTILE:
        shown = visible(text)
        assert shown.isprintable() and "\u202e" not in shown


def test_markdown_text_escapes_what_markdown_and_html_read() -> None:
    assert markdown_text("a|b") == "a\\|b" and markdown_text("<b>") == "&lt;b&gt;" and markdown_text("[x](y)") == "\\[x\\](y)"
    assert markdown_text("`c`") == "\\`c\\`" and markdown_text("a\nb") == "a\\\\nb"


@pytest.mark.parametrize("text", HOSTILE)
def test_sections_render_hostile_text_literally(text: str) -> None:
    section = Section("Findings", ("value", "several"), [(text, (text, "second"))])
    out = io.StringIO()
    console = Console(file=out, width=200, markup=False, emoji=False, highlight=False, force_terminal=True, color_system=None)
    print_sections(console, [f"Blast radius of {text}", text], iter([section]))
    screen = out.getvalue()
    # No escape sequence, link or control character of the text reaches the screen; its printable part does.
    assert "\x1b]8;;" not in screen and "\x1b[2J" not in screen and "\u202e" not in screen and "\x00" not in screen
    if text.startswith("x[/bold]"):
        assert "x[/bold]y" in screen
    if "[link=" in text:
        assert "[link=https://evil.example]backup[/link]" in screen
    if ":smile:" in text:
        assert ":smile:" in screen and ":secret:" in screen
    md = markdown([text], iter([section]))
    assert "<script>" not in md and "\x1b" not in md and "\u202e" not in md
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    # The header row and one data row: a | or a newline in the text never makes another cell or row.
    assert len(rows) == 2 and all(row.count(" | ") == 1 for row in rows)


def _screen(section: Section, width: int) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, markup=False, emoji=False, highlight=False, force_terminal=True, color_system=None)
    print_sections(console, ["header"], iter([section]))
    return out.getvalue()


@pytest.mark.parametrize("text", HOSTILE)
def test_a_long_section_is_plain_text_and_just_as_literal(text: str) -> None:
    rows: list[tuple[str | tuple[str, ...], ...]] = [(f"row {i}", "plain") for i in range(PLAIN_TABLE_ROWS)]
    rows.append(("last", (text, "second")))
    screen = _screen(Section("Timeline", ("name", "value"), rows, "a note"), 120)
    assert "┃" not in screen and "━" not in screen, "more rows than PLAIN_TABLE_ROWS: no rich table"
    assert "\x1b]8;;" not in screen and "\x1b[2J" not in screen and "\u202e" not in screen and "\x00" not in screen and "\x9b" not in screen
    # Every character of the text reaches the screen, escaped where it acts, folded at the column's width.
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("last"))
    column = lines[start].index(visible(text)[:10])
    folded = "".join(line[column:].rstrip() if len(line) > column else "" for line in lines[start:] if line.strip() not in ("a note",))
    assert folded.replace(" ", "") == (visible(text) + "second").replace(" ", "")
    assert max(len(line) for line in lines) <= 120


def test_a_plain_table_fits_its_width_and_counts_wide_characters() -> None:
    wide = "漢字" * 30  # 120 terminal cells
    section = Section("T", ("a", "b", "c"), [("short", wide, "x" * 300)] * (PLAIN_TABLE_ROWS + 1))
    lines = plain_table(section, 100)
    assert all(cell_len(line) <= 100 for line in lines)
    assert lines[0].split() == ["a", "b", "c"] and set(lines[1].replace(" ", "")) == {"-"}
    # A row folds into as many lines as its longest cell needs, nothing lost: the header, the rule, then rows alike.
    per_row = (len(lines) - 2) // (PLAIN_TABLE_ROWS + 1)
    first_row = lines[2 : 2 + per_row]
    assert first_row[0].startswith("short") and not any(line.startswith("short") for line in first_row[1:])
    assert "".join(first_row).count("x") == 300 and "".join(first_row).count("漢字") == 30
    assert plain_table(Section("T", ("a",), [("z",)]), 100) == ["a", "-", "z"]
