"""Store every access key's status on its node, as :mod:`keytrail.model.status` decides it.

Run at the end of each load, over every key in the store: a deletion may be loaded after the
key's creation, or an owner's deletion in another file, so only the whole store decides.
A load stopped before this step leaves a key without a decided status, and the next load
decides it.
"""

from __future__ import annotations

from typing import Any

from keytrail.graph.backends import Backend, Run
from keytrail.graph.queries import get_query
from keytrail.graph.writer import GraphWriter
from keytrail.model.status import decided_status

#: Keys decided per read and write: one page of ids, one facts query, one write.
PAGE = 2000


def settle_key_statuses(backend: Backend, writer: GraphWriter, page: int = PAGE) -> int:
    """Decide and store the status of every access key; returns how many keys were decided.

    Each page is read and written in one unit of writing, so that a load running at the same
    time into the same Neo4j never has a page decided from a store it has half changed.
    """
    after = ""
    decided = 0
    while True:

        def unit(run: Run, after: str = after) -> tuple[list[str], int]:
            keys = [row["accessKeyId"] for row in _named(run, "access-keys-page", {"after": after, "limit": page})]
            rows = []
            for facts in _named(run, "key-status-facts", {"keys": keys, "incident": None}) if keys else []:
                status = decided_status(facts["kind"], facts["ownerType"], facts["changes"], facts["ownerDeletions"], facts["roleDeletions"])
                rows.append({"accessKeyId": facts["credential"], "status": status.status, "statusAt": status.at, "statusEventID": status.event_id})
            writer.write_rows_in(run, {"set_key_status": rows}, order=("set_key_status",))
            return keys, len(rows)

        keys, count = backend.write_unit(unit, holder="key-status")
        if not keys:
            return decided
        decided += count
        after = keys[-1]


def _named(run: Run, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    query = get_query(name)
    query.check_params(params)
    return run(query.body, params)
