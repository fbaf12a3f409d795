// Purpose: A key's lineage, drawn in Neo4j Browser: the key, every key it issued (transitively), whose each is,
//          the doors the lineage opened and the keys that came in through them. Credentials and doors only: a key
//          with thousands of events still shows its derived keys; open a key's events on demand (key-activity).
// Parameters:
//   $key: string — the access key id to start from (AKIA… or ASIA…)
// Returns: lineage, owner, door, entry
:param {key: 'AKIAIOSFODNN7EXAMPLE'};
MATCH lineage = (:AccessKey {accessKeyId: $key})-[:ISSUED*0..10]->(c:AccessKey)
OPTIONAL MATCH owner = (c)-[:BELONGS_TO]->(:Principal)
OPTIONAL MATCH door = (c)-[:SIGNED]->(:Event)-[:OPENED]->(target)
OPTIONAL MATCH entry = (target)<-[:SESSION_OF]-(:Principal)<-[:BELONGS_TO]-(:AccessKey)
RETURN lineage, owner, door, entry
