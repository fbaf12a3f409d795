"""Run ``keytrail load`` in this process and stop it, one way, at one statement sent to the store.

Usage: ``python stopped_load.py WAY MOMENT -- <keytrail arguments>``. WAY is one of SIGINT, SIGTERM,
SIGHUP, SIGKILL (the signal is sent to this process itself, so it lands at that exact point),
``exception`` (the statement raises) or ``server`` (the embedded store's server is killed first);
``none`` counts the statements of a whole load and prints the count as the last line of stderr.
MOMENT counts every statement sent to the store, reads included, from 1.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from keytrail.cli.main import app
from keytrail.graph import backends

way, moment, arguments = sys.argv[1], int(sys.argv[2]), sys.argv[4:]
sent = 0


def strike(backend: Any) -> None:
    global sent
    sent += 1
    if sent != moment:
        return
    if way.startswith("SIG"):
        os.kill(os.getpid(), signal.Signals[way])
    elif way == "exception":
        raise RuntimeError(f"stopped at statement {moment}")
    elif way == "server":
        os.kill(backend._db.client.pid, signal.SIGKILL)


falkordb_query = backends.FalkorDBBackend._query
neo4j_collect = backends._collect


def counted_query(self: backends.FalkorDBBackend, statement: str, params: dict[str, Any], *, read_only: bool) -> Any:
    strike(self)
    return falkordb_query(self, statement, params, read_only=read_only)


def counted_collect(tx: Any, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    strike(None)
    return neo4j_collect(tx, statement, params)


backends.FalkorDBBackend._query = counted_query  # type: ignore[method-assign]
backends._collect = counted_collect
try:
    app(arguments, prog_name="keytrail")
finally:
    if way == "none":
        print(sent, file=sys.stderr)
