"""The kept record and its fingerprint: any depth, any integer, key order kept in the text and ignored by the hash."""

from __future__ import annotations

import json
from typing import Any

from keytrail.model.fingerprint import fingerprint, keep, kept_text, record_json


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {f"k{level}": value} if level % 2 else [value]
    return value


def test_the_kept_text_is_the_record_in_its_order_at_any_depth() -> None:
    for depth in (1, 63, 200, 254, 400):  # orjson can crash between 180 and 254 levels: never reached
        record = {"eventID": "e", "z": 1, "a": _deep(depth), "big": 2**80}
        text = kept_text(record)
        assert json.loads(text) == record and list(json.loads(text)) == ["eventID", "z", "a", "big"]


def test_the_fingerprint_ignores_key_order_and_sees_any_change() -> None:
    record = {"eventID": "e", "eventName": "ListBuckets", "requestParameters": {"a": 1, "b": [1, 2]}}
    reordered = {"requestParameters": {"b": [1, 2], "a": 1}, "eventName": "ListBuckets", "eventID": "e"}
    assert fingerprint(record) == fingerprint(reordered)
    assert fingerprint(record) != fingerprint({**record, "eventName": "CreateUser"})
    assert fingerprint({**record, "d": _deep(300)}) != fingerprint({**record, "d": _deep(301)})


def test_record_json_writes_what_a_rejected_line_may_be() -> None:
    for value in (None, "not json \ud800 at all", "plain", {"x": _deep(300)}, [1, 2**70]):
        assert json.loads(record_json(value)) == value


def test_the_rejects_file_takes_a_rejected_record_of_any_depth(tmp_path: Any) -> None:
    from keytrail.ingest import _Rejects
    from keytrail.loaders.records import Rejection

    deep = {"eventID": "e", "requestParameters": _deep(300), "userAgent": "\ud800"}
    rejects = _Rejects(tmp_path / "rejects.jsonl")
    rejects.add(Rejection("file.json", 3, "too deep to believe", deep))
    rejects.add(Rejection("file.json", None, "not JSON", "{broken"))
    rejects.close()
    lines = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert lines == [
        {"origin": "file.json", "index": 3, "reason": "too deep to believe", "record": deep},
        {"origin": "file.json", "index": None, "reason": "not JSON", "record": "{broken"},
    ]


def test_keep_takes_the_quick_path_only_for_a_shallow_record_without_a_token() -> None:
    plain = {"eventID": "e", "responseElements": {"credentials": {"accessKeyId": "ASIAEXAMPLE"}}, "note": "caf\u00e9"}
    kept = keep(plain)
    assert kept.plain and (kept.text, kept.sha256) == (kept_text(plain), fingerprint(plain))
    tokens = [
        {"eventID": "e", "responseElements": {"credentials": {"sessionToken": "IQoJ"}}},
        {"eventID": "e", "responseElements": {"credentials": {"SESSIONTOKEN": "IQoJ"}}},
        # The Kelvin sign lower-cases to k: redact_tokens redacts this key, so the quick path must not pass it.
        {"eventID": "e", "responseElements": {"sessionto\u212aen": "IQoJ"}},
        {"eventID": "e", "responseElements": '{"credentials": {"sessionToken": "IQoJ"}}'},
    ]
    for record in tokens:
        kept = keep(record)
        assert not kept.plain and "IQoJ" not in kept.text, record
        assert (kept.text, kept.sha256) == (kept_text(record), fingerprint(record))
    for record in ({"eventID": "e", "a": _deep(65)}, {"eventID": "e", "items": [{} for _ in range(64)]}, {"eventID": "e", "big": 2**70}):
        kept = keep(record)
        assert not kept.plain and (kept.text, kept.sha256) == (kept_text(record), fingerprint(record))
