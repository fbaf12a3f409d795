"""The rejects file: what a load could not load, kept whole, but never a bearer secret, never readable by others,
never written beside the evidence unless asked. On both stores."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from keytrail.graph.backends import Backend
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource
from keytrail.sample import session_token_incident

pytestmark = pytest.mark.usefixtures("backend")


def _tokens() -> list[str]:
    """Session tokens as the sample's GetSessionToken and AssumeRole responses carry them."""
    found = []
    for r in session_token_incident().records:
        credentials = (r.get("responseElements") or {}).get("credentials") or {}
        if credentials.get("sessionToken"):
            found.append(credentials["sessionToken"])
    return found


def test_rejected_records_keep_no_session_token_and_stay_owner_only(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = _tokens()
    assert len(tokens) >= 2
    minted = next(r for r in session_token_incident().records if (r.get("responseElements") or {}).get("credentials"))
    broken = dict(minted, eventTime="not a time")  # fails the record check: rejected whole
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    # One record rejected after parsing, and one line that does not parse at all, each holding a token.
    lines = [json.dumps(broken), '{"eventID": "x", "responseElements": {"credentials": {"sessionToken": "' + tokens[1] + '"}', json.dumps(minted)]
    (evidence / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    home = tmp_path / "home"
    monkeypatch.setenv("KEYTRAIL_HOME", str(home))
    monkeypatch.chdir(evidence)
    summary = Ingest(backend, "rejects").run(FileSource([evidence]), [str(evidence)])
    assert summary.rejected == 2 and summary.rejects_path is not None
    kept = Path(summary.rejects_path)
    # Under keytrail's home, not in the folder the load ran from (here, the evidence).
    assert kept.parent == home / "rejects" and sorted(p.name for p in evidence.iterdir()) == ["mixed.jsonl"]
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600 and stat.S_IMODE(os.stat(kept.parent).st_mode) == 0o700
    text = kept.read_text()
    assert not [t for t in tokens if t in text]
    entries = [json.loads(line) for line in text.splitlines()]
    assert len(entries) == 2 and all("<redacted>" in json.dumps(e) for e in entries)
    # What is not a secret is kept as read.
    assert entries[0]["record"]["eventID"] == broken["eventID"] and entries[0]["record"]["eventTime"] == "not a time"
