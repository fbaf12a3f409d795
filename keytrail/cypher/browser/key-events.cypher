// Purpose: One key's events, on demand, drawn in Neo4j Browser: each call it signed, what the call acted on, and
//          failed calls apart (ATTEMPTED, no effect edge). Limited to the first 300 calls in time order.
// Parameters:
//   $key: string — the access key id (AKIA… or ASIA…)
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: signed, effect
:param {key: 'AKIAIOSFODNN7EXAMPLE', incident: null};
MATCH (k:AccessKey {accessKeyId: $key})-[:SIGNED]->(e:Event)
WHERE $incident IS NULL OR $incident IN e.incidents
WITH k, e ORDER BY e.eventTime LIMIT 300
MATCH signed = (k)-[:SIGNED]->(e)
OPTIONAL MATCH effect = (e)-[r]->(target)
WHERE NOT type(r) IN ['INVOKED', 'FROM_IP', 'WITH_AGENT']
RETURN signed, effect
