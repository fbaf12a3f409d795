"""A real, gzipped CloudTrail delivery (Stratus Red Team, Apache-2.0; see NOTICE) through loader and transform."""

from __future__ import annotations

from pathlib import Path

from keytrail.graph.transform import event_rows
from keytrail.loaders.files import FileSource
from keytrail.loaders.records import SourceRecord, check_record

from .items import without_digests

DATA = Path(__file__).resolve().parents[2] / "data" / "stratus-red-team"


def test_the_canonical_persistence_chain() -> None:
    items = without_digests(FileSource([DATA]))
    assert all(isinstance(i, SourceRecord) for i in items) and len(items) == 3
    assert all(check_record(i.record) is None for i in items if isinstance(i, SourceRecord))
    effects = {}
    doors = {}
    for item in items:
        assert isinstance(item, SourceRecord)
        rows = event_rows(item.record, origin=item.origin, index=item.index, incident="t", run_id="r")
        for name in ("merge_effects_on_principals", "merge_effects_on_access_keys"):
            for effect in rows[name]:
                if effect["verb"] == "OPENED":
                    doors[item.record["eventName"]] = (effect["detail"]["door"], effect["target"])
                else:
                    effects[item.record["eventName"]] = (effect["verb"], effect["target"], effect["detail"].get("policyArn"))
    account = items[0].record["recipientAccountId"]  # type: ignore[union-attr]
    user = f"arn:aws:iam::{account}:user/malicious-iam-user"
    assert effects["CreateUser"] == ("CREATED", user, None)
    assert effects["AttachUserPolicy"] == ("ATTACHED_POLICY", user, "arn:aws:iam::aws:policy/AdministratorAccess")
    assert effects["CreateAccessKey"] == ("CREATED", "AKIAXAFZN8JEPF6L682H", None)
    # The new user, and its administrator policy, are doors into that user.
    assert doors == {"CreateUser": ("user-created", user), "AttachUserPolicy": ("admin-policy", user)}
