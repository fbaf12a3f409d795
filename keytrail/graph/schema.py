"""The graph vocabulary: node labels with their key property, and relationship types.

Everything that writes or reads the graph uses these names. A unit test checks that
every label and relationship type used in ``keytrail/cypher`` is declared here and
that every ``MERGE`` key is backed by a uniqueness constraint (Neo4j) or an index
(FalkorDB, see ``keytrail/cypher/schema/``).
"""

from __future__ import annotations

from typing import Final

from keytrail.graph.effects import WRITE_PLAN, effect_types

#: Node label -> the property that identifies a node of that label.
NODE_KEYS: Final[dict[str, str]] = {
    "Event": "eventID",
    "AccessKey": "accessKeyId",
    "Principal": "id",
    "LoginProfile": "id",
    "Action": "name",
    "Resource": "id",
    "SourceIP": "address",
    "UserAgent": "value",
    "Account": "accountId",
    "Incident": "name",
    "LoadRun": "runId",
    "LoadedObject": "uri",
    "WriteLock": "name",
    "Tally": "id",
}

#: Relationships recorded once per event: who made it, with which key, what it called.
EVENT_RELATIONSHIPS: Final[frozenset[str]] = frozenset(
    {
        "MADE",  # (Principal)-[:MADE]->(Event): the caller in userIdentity
        "SIGNED",  # (AccessKey)-[:SIGNED]->(Event): the key in userIdentity.accessKeyId
        "INVOKED",  # (Event)-[:INVOKED]->(Action)
        "FROM_IP",  # (Event)-[:FROM_IP]->(SourceIP)
        "WITH_AGENT",  # (Event)-[:WITH_AGENT]->(UserAgent)
    }
)

#: Effects of a *successful* event on the thing it acted on: (Event)-[:VERB]->(target), as the
#: write plan (``keytrail.graph.effects``) declares them. A failed call never gets one of these;
#: it keeps its intended ``verb`` and ``target`` as properties of the Event, and counts on the
#: credential's ATTEMPTED edge. ``OPENED`` marks a door: a principal or resource through which
#: sessions no call of the attacker minted can come (a trust policy, a function's role, ...).
EFFECTS: Final[frozenset[str]] = effect_types()

#: Facts between entities, each carrying the eventID and rule that produced it.
ENTITY_RELATIONSHIPS: Final[frozenset[str]] = frozenset(
    {
        "USED",  # (AccessKey)-[:USED]->(Action): successful calls, aggregated
        "ATTEMPTED",  # (AccessKey)-[:ATTEMPTED]->(Action): failed calls, aggregated
        "BELONGS_TO",  # (AccessKey|LoginProfile)-[:BELONGS_TO]->(Principal)
        "SESSION_OF",  # (Principal session)-[:SESSION_OF]->(Principal role or user)
        "IN_ACCOUNT",  # (Principal)-[:IN_ACCOUNT]->(Account)
        "ISSUED",  # (AccessKey parent)-[:ISSUED]->(AccessKey child): credential lineage
        "FOR_INCIDENT",  # (LoadRun)-[:FOR_INCIDENT]->(Incident)
    }
)

RELATIONSHIP_TYPES: Final[frozenset[str]] = EVENT_RELATIONSHIPS | EFFECTS | ENTITY_RELATIONSHIPS

#: The target labels an effect can point at, by the write query that handles them.
EFFECT_TARGET_LABELS: Final[tuple[str, ...]] = tuple(WRITE_PLAN)
