// Purpose: How an access key came to be: the event that created or minted it, the credential that signed that event
//          and the principal that made it; then the same for that credential, transitively (ISSUED in time order).
//          depth 0 is the key's own birth, depth 1 its parent's, and so on. A credential named here made the key:
//          it is likely compromised too. No rows when the key's birth is not in the evidence.
// Parameters:
//   $key: string — the access key id
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: born, depth, credential, principal, principalName, principalType, eventName, eventID, eventTime, account, sharedEventID
:param {key: 'AKIAIOSFODNN7EXAMPLE', incident: null};
MATCH (k:AccessKey {accessKeyId: $key})
OPTIONAL MATCH p = (a:AccessKey)-[:ISSUED*1..12]->(k)
WITH k, a, CASE WHEN p IS NULL THEN [] ELSE relationships(p) END AS rs
WHERE all(i IN range(0, size(rs) - 2) WHERE rs[i].eventTime <= rs[i + 1].eventTime)
WITH k, collect(DISTINCT {id: a.accessKeyId, depth: size(rs)}) AS ancestors
UNWIND [{id: k.accessKeyId, depth: 0}] + ancestors AS x
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (born:AccessKey {accessKeyId: x.id})
WITH x, born
MATCH (born)<-[:CREATED|MINTED]-(e:Event)
WHERE $incident IS NULL OR $incident IN e.incidents
OPTIONAL MATCH (m:Principal)-[:MADE]->(e)
OPTIONAL MATCH (s:AccessKey)-[:SIGNED]->(e)
RETURN born.accessKeyId AS born, x.depth AS depth, s.accessKeyId AS credential, m.id AS principal, m.name AS principalName,
       m.type AS principalType, e.eventName AS eventName, e.eventID AS eventID, e.eventTime AS eventTime,
       e.recipientAccountId AS account, e.sharedEventID AS sharedEventID
ORDER BY depth, eventTime, eventID
