"""Text from the logs shown as it is, never as instructions to the screen that shows it.

An attacker writes user agents, user names, secret ids and bucket names; a report puts them
in front of a responder. In a terminal a control character or an escape sequence can clear
the screen, plant a clickable link or rewrite what was printed; a bidirectional override can
reorder it; in Markdown or HTML a ``|``, ``[``, ``<`` or backtick can break a table, make a
link or run a script. :func:`visible` shows each such character as an escape (``\\x1b``,
``\\u202e``); :func:`markdown_text` also escapes what Markdown and HTML would read. Terminal
output goes through a console that reads no markup and no emoji codes (:func:`literal_console`).
The JSON output is the exact text, for programs.
"""

from __future__ import annotations

import errno
import os

from rich.console import Console

#: Characters that reorder or hide text without being seen: bidirectional controls, zero-width characters,
#: line and paragraph separators, the byte-order mark.
_INVISIBLE = frozenset("\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1) and every invisible or reordering one shown as an escape."""
    if text.isprintable() and not any(c in _INVISIBLE for c in text):
        return text
    return "".join(_escape(c) if not c.isprintable() or c in _INVISIBLE or c == "\t" else c for c in text)


_MARKDOWN = {
    "\\": "\\\\",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "[": "\\[",
    "]": "\\]",
    "|": "\\|",
    "#": "\\#",
    "~": "\\~",
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
}


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown (and HTML) inline text: :func:`visible`, then every character Markdown or HTML reads escaped."""
    return "".join(_MARKDOWN.get(c, c) for c in visible(text))


class _LiteralConsole(Console):
    def on_broken_pipe(self) -> None:
        # Rich would exit 1 here, which keytrail's commands use for "not found": the closed pipe goes on to the
        # command line instead (keytrail.cli.main.run), which ends quietly with the pipe's own status.
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def literal_console(width: int | None = None, *, stderr: bool = False) -> Console:
    """A console that prints strings as they are: no markup, no emoji codes, no highlighting."""
    return _LiteralConsole(markup=False, emoji=False, highlight=False, width=width, stderr=stderr)
