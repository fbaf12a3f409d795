"""Neo4j's notifications never reach the responder's terminal.

On a store that holds no relationship of a type a query names (a fresh Neo4j, or one just made by
``load --bulk``), Neo4j answers with a notification, and the driver logs it as a warning, query text
and all, on stderr. keytrail asks the server not to send them.
"""

from __future__ import annotations

import logging

import pytest

from keytrail.graph.backends import Neo4jBackend

pytestmark = pytest.mark.neo4j


def test_a_relationship_type_the_store_lacks_logs_nothing(neo4j_backend: Neo4jBackend, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="neo4j.notifications")
    # keytrail never writes this type, so the notification is certain to apply.
    rows = neo4j_backend.read("MATCH ()-[r:KEYTRAIL_TEST_NEVER_STORED]->() RETURN count(r) AS n", {})
    assert rows == [{"n": 0}]
    assert [record.getMessage() for record in caplog.records if record.name.startswith("neo4j.notifications")] == []
