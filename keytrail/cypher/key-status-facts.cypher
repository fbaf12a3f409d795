// Purpose: What decides each key's status (keytrail/model/status.py): its kind and owner, every change of its state
//          (DELETED / DEACTIVATED / ACTIVATED, by anyone), its owner's deletions, and for a role session the deletions of
//          its role, in the whole store (each load reads them so, and stores the status on the key) or in one incident
//          (a blast radius of that incident decides its keys' status from these).
// Parameters:
//   $keys: list<string> — access key ids
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: credential, kind, ownerType, changes, ownerDeletions, roleDeletions
:param {keys: ['AKIAIOSFODNN7EXAMPLE'], incident: null};
UNWIND $keys AS id
MATCH (k:AccessKey {accessKeyId: id})
OPTIONAL MATCH (k)-[:BELONGS_TO]->(candidate:Principal)
WITH k, min(candidate.id) AS ownerId
OPTIONAL MATCH (o:Principal {id: ownerId})
// type() rather than a type list in the pattern: Neo4j warns about a type no relationship has yet (ACTIVATED, often).
OPTIONAL MATCH (x:Event)-[s]->(k)
WHERE type(s) IN ['DELETED', 'DEACTIVATED', 'ACTIVATED'] AND ($incident IS NULL OR $incident IN x.incidents)
// Ordered before collect(), so that both stores list the changes alike.
WITH k, o, x, s
ORDER BY x.eventTime, x.eventID
WITH k, o, collect(CASE WHEN x IS NULL THEN null ELSE {verb: type(s), time: x.eventTime, eventID: x.eventID} END) AS changes
OPTIONAL MATCH (d:Event)-[:DELETED]->(o)
WHERE $incident IS NULL OR $incident IN d.incidents
WITH k, o, changes, collect(CASE WHEN d IS NULL THEN null ELSE {time: d.eventTime, eventID: d.eventID} END) AS ownerDeletions
OPTIONAL MATCH (o)-[:SESSION_OF]->(role:Principal)<-[:DELETED]-(r:Event)
WHERE $incident IS NULL OR $incident IN r.incidents
RETURN k.accessKeyId AS credential, k.kind AS kind, o.type AS ownerType, changes, ownerDeletions,
       collect(CASE WHEN r IS NULL THEN null ELSE {time: r.eventTime, eventID: r.eventID} END) AS roleDeletions
ORDER BY credential
