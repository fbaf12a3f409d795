"""Text from the logs is shown literally: no control character, escape sequence, markup or link acts on the screen."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from keytrail.report.literal import markdown_text, visible
from keytrail.report.render import Section, markdown, print_sections

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
