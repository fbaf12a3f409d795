"""Store every access key's status on its node, as :mod:`keytrail.model.status` decides it.

Run at the end of each load, over every key in the store: a deletion may be loaded after the
key's creation, or an owner's deletion in another file, so only the whole store decides.
A load stopped before this step leaves a key without a decided status, and the next load
decides it.
"""

from __future__ import annotations

from keytrail.graph.backends import Backend
from keytrail.graph.runner import run_query
from keytrail.graph.writer import GraphWriter
from keytrail.model.status import decided_status

#: Keys decided per read and write: one page of ids, one facts query, one write.
PAGE = 2000


def settle_key_statuses(backend: Backend, writer: GraphWriter, page: int = PAGE) -> int:
    """Decide and store the status of every access key; returns how many keys were decided."""
    after = ""
    decided = 0
    while True:
        keys = [row["accessKeyId"] for row in run_query(backend, "access-keys-page", {"after": after, "limit": page})]
        if not keys:
            return decided
        rows = []
        for facts in run_query(backend, "key-status-facts", {"keys": keys}):
            status = decided_status(facts["kind"], facts["ownerType"], facts["changes"], facts["ownerDeletions"], facts["roleDeletions"])
            rows.append({"accessKeyId": facts["credential"], "status": status.status, "statusAt": status.at, "statusEventID": status.event_id})
        writer.write("set_key_status", rows)
        decided += len(rows)
        after = keys[-1]
