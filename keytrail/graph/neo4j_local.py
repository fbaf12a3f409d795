"""The password of a server started by ``scripts/neo4j-local``, found without being typed.

The script turns authentication on and keeps a generated password for user ``neo4j`` in
``<home>/run/password`` (owner-only), next to ``<home>/run/neo4j-local.ports`` (``bolt http``).
A URI on 127.0.0.1 or localhost whose port is that server's Bolt port gets those credentials.
The homes looked at are ``$KEYTRAIL_NEO4J_HOME`` and the script's default, ``.cache/neo4j/home``
in the checkout keytrail runs from.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

USER = "neo4j"


def _homes() -> list[Path]:
    homes = []
    configured = os.environ.get("KEYTRAIL_NEO4J_HOME")
    if configured:
        homes.append(Path(configured).expanduser())
    homes.append(Path(__file__).resolve().parents[2] / ".cache" / "neo4j" / "home")
    return homes


def local_home(uri: str) -> Path | None:
    """The home of the running neo4j-local server ``uri`` points at (its Bolt port), or ``None``."""
    parts = urlsplit(uri)
    if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
        return None
    for home in _homes():
        try:
            bolt = (home / "run" / "neo4j-local.ports").read_text().split()[0]
        except (OSError, IndexError):
            continue
        if bolt == str(parts.port):
            return home
    return None


def local_credentials(uri: str) -> tuple[str, str] | None:
    """``(user, password)`` of the neo4j-local server ``uri`` points at, or ``None``."""
    home = local_home(uri)
    if home is None:
        return None
    try:
        password = (home / "run" / "password").read_text().strip()
    except OSError:
        return None
    return (USER, password) if password else None


def credentials_for(uri: str, username: str | None, password: str | None) -> tuple[str | None, str | None]:
    """The credentials to connect to ``uri`` with: those given, else a neo4j-local server's own (``None`` if neither)."""
    if password:
        return username or None, password
    return local_credentials(uri) or (username or None, None)
