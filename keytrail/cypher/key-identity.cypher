// Purpose: Whose key it is: the principal the access key belongs to, as seen in userIdentity
//          or named by the call that created it. Workshop question 3.
// Parameters:
//   $key: string — the access key id
//   $incident: string|null — only what events loaded under this incident show (null: every incident)
// Returns: type, userName, arn, accountId, principalId, evidence, rule
// A BELONGS_TO edge keeps the earliest evidence in the whole store. Within an incident that does not hold it, the
// evidence is the incident's first call signed with the key and made by the principal.
:param {key: 'AKIAIOSFODNN7EXAMPLE', incident: null};
MATCH (k:AccessKey {accessKeyId: $key})-[b:BELONGS_TO]->(p:Principal)
OPTIONAL MATCH (proof:Event {eventID: b.eventID})
WITH k, b, p, $incident IS NULL OR $incident IN coalesce(proof.incidents, []) AS held
OPTIONAL MATCH (k)-[:SIGNED]->(e:Event)<-[:MADE]-(p)
WHERE NOT held AND $incident IN e.incidents
WITH b, p, held, e
ORDER BY e.eventTime, e.eventID
WITH b, p, held, collect(e.eventID)[0] AS shown
WHERE held OR shown IS NOT NULL
RETURN p.type AS type, p.name AS userName, coalesce(p.arn, p.id) AS arn, p.accountId AS accountId,
       p.principalId AS principalId, CASE WHEN held THEN b.eventID ELSE shown END AS evidence,
       CASE WHEN held THEN b.rule ELSE 'userIdentity.accessKeyId' END AS rule
ORDER BY type, userName
