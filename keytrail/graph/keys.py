"""Bounded node keys: text from a log that becomes an indexed property is never longer than a store can index.

Both stores index the keys of keytrail's nodes (and a few names), and both fail on a long one: Neo4j refuses a
transaction with an indexed string over 8,167 bytes ("Property value is too large to index"), and the embedded
store's server (FalkorDB) was seen to stop on one of about 4,100 bytes or more. A caller chooses some of this
text: the user agent of every call, and the names in a request that AWS refused. One call with a 9 KB user agent
stopped a whole load on either store.

Any such key longer than :data:`KEY_BYTES` (in UTF-8) is stored as :func:`bounded`: its start, its full length
and its SHA-256. The same text always gives the same key, and texts that differ give different keys. ARNs (at
most 2,048 characters in IAM), access key ids, account ids and IP addresses are far shorter, so they are
never changed. The Event node keeps the text whole in its own properties and in ``raw``. Those are not
indexed, so reports and ``keytrail event --raw`` still show it literally.

The fields of :data:`KEY_FIELDS` are those that a write query MERGEs or MATCHes a node on, or that a schema
index covers. ``tests/unit/graph/test_keys.py`` checks the table against the write queries and the schema.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

#: The longest indexed text kept as it is, in UTF-8 bytes: under both stores' limits, above any identifier AWS writes.
KEY_BYTES: Final = 3_000
#: How much of a long text its bounded key keeps, in UTF-8 bytes (cut at a character boundary).
KEPT_BYTES: Final = 1_000

#: Per write query: the row fields that are node keys or indexed names (``props.name``: the name inside ``props``).
KEY_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "merge_events": ("ip", "agent"),
    "merge_principals": ("id", "name", "accountId"),
    "merge_made": ("principal",),
    "merge_sessions": ("parent", "session"),
    "merge_access_keys": ("accessKeyId",),
    "merge_signed": ("accessKeyId",),
    "merge_key_owners": ("accessKeyId", "principal"),
    "merge_key_usage": ("accessKeyId",),
    "merge_issued": ("child", "parent"),
    "merge_login_profiles": ("id",),
    "merge_login_profile_owners": ("profile", "principal"),
    "merge_resources": ("id", "props.name"),
    "merge_effects_on_principals": ("target",),
    "merge_effects_on_access_keys": ("target",),
    "merge_effects_on_login_profiles": ("target",),
    "merge_effects_on_resources": ("target",),
    # A tally names the credential and principal it counts, and findings find their nodes by them.
    "merge_tallies": ("credential", "principal"),
}


def bounded(text: str) -> str:
    """``text`` itself when it is short enough to index, else its start, its length and its SHA-256."""
    if len(text) * 4 <= KEY_BYTES:  # no character takes more than 4 bytes in UTF-8
        return text
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= KEY_BYTES:
        return text
    start = data[:KEPT_BYTES].decode("utf-8", "ignore")
    return f"{start}… ({len(data):,} bytes, sha256:{hashlib.sha256(data).hexdigest()})"


def bound_keys(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows of one record with every key of :data:`KEY_FIELDS` bounded (rows are changed in place)."""
    for query, fields in KEY_FIELDS.items():
        for row in rows.get(query, ()):
            for field in fields:
                if field == "props.name":
                    props = row.get("props")
                    if isinstance(props, dict) and isinstance(name := props.get("name"), str) and len(name) * 4 > KEY_BYTES:
                        props["name"] = bounded(name)
                elif isinstance(value := row.get(field), str) and len(value) * 4 > KEY_BYTES:
                    row[field] = bounded(value)
    return rows
