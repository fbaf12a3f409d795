// Purpose: What the evidence says of each credential: kind, owner (and the role or user a session belongs to), birth,
//          expiry, how many events it signed from the time it counts, and every change of its state
//          (DELETED / DEACTIVATED / ACTIVATED, by anyone) and of its owner's (the owner deleted).
// Parameters:
//   $credentials: list<map{id: string, since: string}> — access key ids and the ISO time each counts from
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: credential, kind, status, statusAt, statusEventID, expiration, bornBy, bornAt, bornEventID, owner, ownerName, ownerType, ownerArn, account, ownerParent, events, firstUse, lastUse, changes, ownerDeletions
:param {credentials: [{id: 'AKIAIOSFODNN7EXAMPLE', since: ''}], incident: null};
UNWIND $credentials AS c
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (k:AccessKey {accessKeyId: c.id})
WITH c, k
OPTIONAL MATCH (k)-[:SIGNED]->(e:Event)
WHERE e.eventTime >= c.since AND ($incident IS NULL OR $incident IN e.incidents)
WITH c, k, count(e) AS events, min(e.eventTime) AS firstUse, max(e.eventTime) AS lastUse
OPTIONAL MATCH (k)-[:BELONGS_TO]->(candidate:Principal)
WITH c, k, events, firstUse, lastUse, min(candidate.id) AS ownerId
OPTIONAL MATCH (o:Principal {id: ownerId})
OPTIONAL MATCH (o)-[:SESSION_OF]->(issuer:Principal)
WITH c, k, events, firstUse, lastUse, o, min(issuer.id) AS ownerParent
// type() rather than a type list in the pattern: Neo4j warns about a type no relationship has yet (ACTIVATED, often).
OPTIONAL MATCH (x:Event)-[s]->(k)
WHERE type(s) IN ['DELETED', 'DEACTIVATED', 'ACTIVATED'] AND ($incident IS NULL OR $incident IN x.incidents)
// Ordered before collect(), so that both stores list the changes alike.
WITH c, k, events, firstUse, lastUse, o, ownerParent, x, s
ORDER BY x.eventTime, x.eventID
WITH c, k, events, firstUse, lastUse, o, ownerParent,
     collect(CASE WHEN x IS NULL THEN null ELSE {verb: type(s), time: x.eventTime, eventID: x.eventID, eventName: x.eventName} END) AS changes
// How the key was born (and when a session expires) is the call that minted it: within an incident, only if the
// incident holds that call, as it would alone.
OPTIONAL MATCH (born:Event {eventID: k.bornEventID})
WITH c, k, events, firstUse, lastUse, o, ownerParent, changes, $incident IS NULL OR $incident IN coalesce(born.incidents, []) AS bornHere
OPTIONAL MATCH (d:Event)-[:DELETED]->(o)
WHERE $incident IS NULL OR $incident IN d.incidents
RETURN k.accessKeyId AS credential, k.kind AS kind, k.status AS status, k.statusAt AS statusAt, k.statusEventID AS statusEventID,
       CASE WHEN bornHere THEN k.expiration END AS expiration, CASE WHEN bornHere THEN k.bornBy END AS bornBy,
       CASE WHEN bornHere THEN k.bornAt END AS bornAt, CASE WHEN bornHere THEN k.bornEventID END AS bornEventID, o.id AS owner, o.name AS ownerName, o.type AS ownerType, coalesce(o.arn, o.id) AS ownerArn,
       o.accountId AS account, ownerParent, events, firstUse, lastUse, changes,
       collect(CASE WHEN d IS NULL THEN null ELSE {time: d.eventTime, eventID: d.eventID} END) AS ownerDeletions
ORDER BY credential
