// Purpose: Heuristic pivots: other credentials and principals that called from the source IPs the credentials used,
//          within a time window. AWS service names and 'AWS Internal' in sourceIPAddress are not addresses and are
//          skipped, as are AWS services' own calls. Evidence: the first and last of the other party's calls from there, as 'time eventID'.
// Parameters:
//   $keys: list<string> — access key ids of the blast radius
//   $principals: list<string> — principal ids of the blast radius (their calls without a key, e.g. ConsoleLogin, are not pivots)
//   $shared: list<string> — sharedEventIDs of the blast radius's calls: the other account's copy of a call is not a pivot
//   $from: string — ISO start of the window
//   $to: string — ISO end of the window
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: value, credential, principal, principalName, principalType, events, firstSeen, lastSeen, firstEvidence, lastEvidence
:param {keys: ['AKIAIOSFODNN7EXAMPLE'], principals: ['arn:aws:iam::111122223333:user/example'], shared: [], from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z', incident: null};
UNWIND $keys AS id
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (k:AccessKey {accessKeyId: id})
WITH k
MATCH (k)-[:SIGNED]->(e:Event)-[:FROM_IP]->(ip:SourceIP)
WHERE e.eventTime >= $from AND e.eventTime <= $to AND ($incident IS NULL OR $incident IN e.incidents)
  AND ip.address <> 'AWS Internal' AND NOT ip.address ENDS WITH '.amazonaws.com'
WITH DISTINCT ip
MATCH (ip)<-[:FROM_IP]-(o:Event)
WHERE o.eventTime >= $from AND o.eventTime <= $to AND ($incident IS NULL OR $incident IN o.incidents)
  AND NOT coalesce(o.sharedEventID, '') IN $shared
OPTIONAL MATCH (ok:AccessKey)-[:SIGNED]->(o)
OPTIONAL MATCH (op:Principal)-[:MADE]->(o)
WITH ip, o, ok, op
WHERE coalesce(op.type, '') <> 'AWSService'
  AND ((ok IS NOT NULL AND NOT ok.accessKeyId IN $keys) OR (ok IS NULL AND op IS NOT NULL AND NOT op.id IN $principals))
RETURN ip.address AS value, ok.accessKeyId AS credential, op.id AS principal, op.name AS principalName, op.type AS principalType,
       count(o) AS events, min(o.eventTime) AS firstSeen, max(o.eventTime) AS lastSeen, min(o.eventTime + ' ' + o.eventID) AS firstEvidence,
       max(o.eventTime + ' ' + o.eventID) AS lastEvidence
ORDER BY value, credential, principal
