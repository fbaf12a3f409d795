"""Run ``keytrail load`` in this process and stop it, one way, at one statement sent to the store.

Usage: ``python stopped_load.py WAY MOMENT -- <keytrail arguments>``. WAY is one of SIGINT, SIGTERM,
SIGHUP, SIGKILL (the signal is sent to this process itself, so it lands at that exact point),
``exception`` (the statement raises), ``server`` (the embedded store's server is killed first),
``neo4j-stop`` or ``neo4j-restart`` (scripts/neo4j-local stops, or stops and starts, the server first);
``none`` counts the statements of a whole load and prints the count as the last line of stderr.
MOMENT counts every statement sent to the store, reads included, from 1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
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
        os.kill(backend.server_pid, signal.SIGKILL)
    elif way in ("neo4j-stop", "neo4j-restart"):
        # The server of scripts/neo4j-local named by KEYTRAIL_NEO4J_HOME and the port variables.
        script = Path(__file__).resolve().parents[3] / "scripts" / "neo4j-local"
        subprocess.run(["bash", str(script), "stop"], check=True, capture_output=True, timeout=300)
        if way == "neo4j-restart":
            subprocess.run(["bash", str(script), "start"], check=True, capture_output=True, timeout=600)


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
