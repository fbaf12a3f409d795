// Purpose: Users and roles created by events the credentials signed (iam:CreateUser, CreateRole), whether they were
//          deleted later (by anyone), and how often they were used afterwards (events the user made, AssumeRole of the role).
// Parameters:
//   $credentials: list<map{id: string, since: string}> — access key ids and the ISO time each counts from
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: id, name, principalType, arn, account, credential, eventName, eventID, eventTime, deletions, uses
:param {credentials: [{id: 'AKIAIOSFODNN7EXAMPLE', since: ''}], incident: null};
UNWIND $credentials AS c
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (k:AccessKey {accessKeyId: c.id})
WITH c, k
MATCH (k)-[:SIGNED]->(e:Event)-[:CREATED]->(p:Principal)
WHERE e.eventTime >= c.since AND ($incident IS NULL OR $incident IN e.incidents)
OPTIONAL MATCH (d:Event)-[:DELETED]->(p)
WHERE d.eventTime >= e.eventTime AND ($incident IS NULL OR $incident IN d.incidents)
WITH k, e, p, collect(CASE WHEN d IS NULL THEN null ELSE {time: d.eventTime, eventID: d.eventID} END) AS deletions
OPTIONAL MATCH (p)-[:MADE]->(made:Event)
WHERE made.eventTime >= e.eventTime AND ($incident IS NULL OR $incident IN made.incidents)
WITH k, e, p, deletions, count(made) AS madeCount
OPTIONAL MATCH (assumed:Event)-[:ASSUMED]->(p)
WHERE assumed.eventTime >= e.eventTime AND ($incident IS NULL OR $incident IN assumed.incidents)
WITH k, e, p, deletions, madeCount, count(assumed) AS assumedCount
RETURN p.id AS id, p.name AS name, p.type AS principalType, coalesce(p.arn, p.id) AS arn, p.accountId AS account,
       k.accessKeyId AS credential, e.eventName AS eventName, e.eventID AS eventID, e.eventTime AS eventTime,
       deletions, madeCount + assumedCount AS uses
ORDER BY eventTime, id
