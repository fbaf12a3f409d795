// Purpose: A key's lineage, drawn in Neo4j Browser: the key, every key it issued (transitively), whose each is,
//          the doors the lineage opened and the keys that came in through them. Credentials and doors only: a key
//          with thousands of events still shows its derived keys; open a key's events on demand (key-activity).
// Parameters:
//   $key: string — the access key id to start from (AKIA… or ASIA…)
//   $incident: string|null — only keys issued, and doors opened, by events loaded under this incident (null: every incident)
// Returns: lineage, owner, door, entry
:param {key: 'AKIAIOSFODNN7EXAMPLE', incident: null};
MATCH lineage = (:AccessKey {accessKeyId: $key})-[:ISSUED*0..10]->(c:AccessKey)
// Each ISSUED edge names the event it rests on: within an incident, a lineage holds only steps its events show.
WITH lineage, c, [r IN relationships(lineage) | r.eventID] AS proofs
OPTIONAL MATCH (proof:Event)
WHERE proof.eventID IN proofs AND $incident IN proof.incidents
WITH lineage, c, size(proofs) AS steps, count(proof) AS held
WHERE $incident IS NULL OR held = steps
OPTIONAL MATCH owner = (c)-[:BELONGS_TO]->(:Principal)
OPTIONAL MATCH door = (c)-[:SIGNED]->(opening:Event)-[:OPENED]->(target)
WHERE $incident IS NULL OR $incident IN opening.incidents
OPTIONAL MATCH entry = (target)<-[:SESSION_OF]-(:Principal)<-[:BELONGS_TO]-(:AccessKey)
RETURN lineage, owner, door, entry
