// Purpose: What the next Athena pass of `keytrail load --follow KEY` fetches: from access keys already followed,
//          the keys they derived (ISSUED, transitively and in time order: access keys they created, STS keys minted
//          with them) and the principals they reached: users and roles they created, roles they assumed, principals
//          whose doors they opened (a trust policy, a federated user...), the owners of access keys and login profiles
//          they created or reset; and the keys of principals they created or opened a door to, and of those principals'
//          sessions, which are walked in turn. `keytrail load` runs it again from every new key until nothing new comes.
//          A 'seen' row says that a key signed at least one event of the incident. Each branch is DISTINCT (an event can both
//          create and open a role: Neo4j returns both edges' rows, FalkorDB one) and ordered, so both stores answer alike.
// Parameters:
//   $keys: list<string> — access key ids already followed
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: kind, value, principalType, via, eventID, source
:param {keys: ['AKIAIOSFODNN7EXAMPLE'], incident: null};
UNWIND $keys AS id
MATCH (k:AccessKey {accessKeyId: id})-[:SIGNED]->(e:Event)
WHERE $incident IS NULL OR $incident IN e.incidents
RETURN DISTINCT 'seen' AS kind, k.accessKeyId AS value, null AS principalType, 'signed' AS via, min(e.eventID) AS eventID, k.accessKeyId AS source
ORDER BY value, eventID, source, via
UNION ALL
UNWIND $keys AS id
MATCH p = (root:AccessKey {accessKeyId: id})-[:ISSUED*1..12]->(k:AccessKey)
WITH p, k, relationships(p) AS rs
WHERE all(i IN range(0, size(rs) - 2) WHERE rs[i].eventTime <= rs[i + 1].eventTime)
WITH k, rs[size(rs) - 1] AS r, nodes(p)[size(rs) - 1] AS parent
MATCH (e:Event {eventID: r.eventID})
WHERE $incident IS NULL OR $incident IN e.incidents
RETURN DISTINCT 'key' AS kind, k.accessKeyId AS value, null AS principalType, r.via AS via, e.eventID AS eventID, parent.accessKeyId AS source
ORDER BY value, eventID, source, via
UNION ALL
UNWIND $keys AS id
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event.
MATCH (k:AccessKey {accessKeyId: id})
WITH k
MATCH (k)-[:SIGNED]->(e:Event)-[:CREATED|ASSUMED|OPENED]->(t:Principal)
WHERE $incident IS NULL OR $incident IN e.incidents
RETURN DISTINCT 'principal' AS kind, coalesce(t.arn, t.id) AS value, t.type AS principalType, e.eventName AS via, e.eventID AS eventID, k.accessKeyId AS source
ORDER BY value, eventID, source, via
UNION ALL
UNWIND $keys AS id
MATCH (k:AccessKey {accessKeyId: id})
WITH k
MATCH (k)-[:SIGNED]->(e:Event)-[:CREATED|UPDATED]->(c)-[:BELONGS_TO]->(t:Principal)
WHERE (c:AccessKey OR c:LoginProfile) AND ($incident IS NULL OR $incident IN e.incidents)
RETURN DISTINCT 'principal' AS kind, coalesce(t.arn, t.id) AS value, t.type AS principalType, e.eventName AS via, e.eventID AS eventID, k.accessKeyId AS source
ORDER BY value, eventID, source, via
UNION ALL
UNWIND $keys AS id
MATCH (k:AccessKey {accessKeyId: id})
WITH k
MATCH (k)-[:SIGNED]->(e:Event)-[:CREATED|OPENED]->(t:Principal)<-[:BELONGS_TO]-(x:AccessKey)
WHERE $incident IS NULL OR $incident IN e.incidents
RETURN DISTINCT 'key' AS kind, x.accessKeyId AS value, null AS principalType, 'key of ' + coalesce(t.arn, t.id) AS via, e.eventID AS eventID, k.accessKeyId AS source
ORDER BY value, eventID, source, via
UNION ALL
UNWIND $keys AS id
MATCH (k:AccessKey {accessKeyId: id})
WITH k
MATCH (k)-[:SIGNED]->(e:Event)-[:CREATED|OPENED]->(t:Principal)<-[:SESSION_OF]-(s:Principal)<-[:BELONGS_TO]-(x:AccessKey)
WHERE $incident IS NULL OR $incident IN e.incidents
RETURN DISTINCT 'key' AS kind, x.accessKeyId AS value, null AS principalType, 'session of ' + coalesce(t.arn, t.id) AS via, e.eventID AS eventID, k.accessKeyId AS source
ORDER BY value, eventID, source, via
