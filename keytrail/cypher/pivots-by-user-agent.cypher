// Purpose: Heuristic pivots: other credentials and principals that called with the same unusual user agents as the
//          credentials, within a time window. An agent is unusual when at most $maxUses events in the store carry it;
//          AWS services' agents (*.amazonaws.com, 'AWS Internal') and AWS services' own calls are skipped.
//          Evidence: the first and last of the other party's calls with that agent, as 'time eventID'.
// Parameters:
//   $keys: list<string> — access key ids of the blast radius
//   $principals: list<string> — principal ids of the blast radius (their calls without a key are not pivots)
//   $shared: list<string> — sharedEventIDs of the blast radius's calls: the other account's copy of a call is not a pivot
//   $from: string — ISO start of the window
//   $to: string — ISO end of the window
//   $maxUses: int — how many events in the store an agent may carry and still count as unusual
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: value, uses, credential, principal, principalName, principalType, events, firstSeen, lastSeen, firstEvidence, lastEvidence
:param {keys: ['AKIAIOSFODNN7EXAMPLE'], principals: ['arn:aws:iam::111122223333:user/example'], shared: [], from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z', maxUses: 5, incident: null};
UNWIND $keys AS id
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (k:AccessKey {accessKeyId: id})
WITH k
MATCH (k)-[:SIGNED]->(e:Event)-[:WITH_AGENT]->(ua:UserAgent)
WHERE e.eventTime >= $from AND e.eventTime <= $to AND ($incident IS NULL OR $incident IN e.incidents)
  AND ua.value <> 'AWS Internal' AND NOT ua.value ENDS WITH '.amazonaws.com'
WITH DISTINCT ua
// The agent's degree, store-wide: both stores count it without reading the events (a per-incident count read every one).
MATCH (ua)<-[carried:WITH_AGENT]-()
WITH ua, count(carried) AS uses
WHERE uses <= $maxUses
MATCH (ua)<-[:WITH_AGENT]-(o:Event)
// coalesce() keeps Neo4j from seeking the eventTime index over the whole window: the agent's few events are cheaper.
WHERE coalesce(o.eventTime, '') >= $from AND coalesce(o.eventTime, '') <= $to AND ($incident IS NULL OR $incident IN o.incidents)
  AND NOT coalesce(o.sharedEventID, '') IN $shared
OPTIONAL MATCH (ok:AccessKey)-[:SIGNED]->(o)
OPTIONAL MATCH (op:Principal)-[:MADE]->(o)
WITH ua, uses, o, ok, op
WHERE coalesce(op.type, '') <> 'AWSService'
  AND ((ok IS NOT NULL AND NOT ok.accessKeyId IN $keys) OR (ok IS NULL AND op IS NOT NULL AND NOT op.id IN $principals))
RETURN ua.value AS value, uses, ok.accessKeyId AS credential, op.id AS principal, op.name AS principalName, op.type AS principalType,
       count(o) AS events, min(o.eventTime) AS firstSeen, max(o.eventTime) AS lastSeen, min(o.eventTime + ' ' + o.eventID) AS firstEvidence,
       max(o.eventTime + ' ' + o.eventID) AS lastEvidence
ORDER BY value, credential, principal
