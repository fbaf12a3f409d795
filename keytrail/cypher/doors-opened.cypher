// Purpose: Doors the credentials opened: (Event)-[:OPENED]->(Principal|Resource) edges of events they signed (a trust
//          policy, a role or user created, an administrator policy, a function's role, an instance profile, an Identity
//          Center permission set or user, a federated user, a Roles Anywhere profile), with what each admits, how its
//          sessions are named, every later change of the target by anyone (a deletion closes the door), and the policies
//          the target had before (what a trust-policy door added).
// Parameters:
//   $credentials: list<map{id: string, since: string}> — access key ids and the ISO time each counts from
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: credential, eventID, eventTime, eventName, target, targetArn, targetType, targetName, account, door, changes, before
:param {credentials: [{id: 'AKIAIOSFODNN7EXAMPLE', since: ''}], incident: null};
UNWIND $credentials AS c
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (k:AccessKey {accessKeyId: c.id})
WITH c, k
MATCH (k)-[:SIGNED]->(e:Event)-[o:OPENED]->(t)
WHERE e.eventTime >= c.since AND ($incident IS NULL OR $incident IN e.incidents)
OPTIONAL MATCH (x:Event)-[change]->(t)
WHERE x.eventID <> e.eventID AND type(change) IN ['DELETED', 'MODIFIED', 'CREATED', 'DETACHED_POLICY', 'DELETED_POLICY', 'STOPPED']
  AND ($incident IS NULL OR $incident IN x.incidents)
// "Later" is decided after the match, not in it: in the match Neo4j seeks every Event after the door by time.
// Ordered before collect(), so that both stores list the changes alike.
WITH k, e, o, t, x, change, x.eventTime >= e.eventTime AS later
ORDER BY x.eventTime, x.eventID
WITH k, e, o, t, collect(CASE WHEN x IS NULL OR NOT later THEN null ELSE {verb: type(change), time: x.eventTime, eventID: x.eventID, eventName: x.eventName,
                                                          edge: properties(change), requestParameters: x.requestParameters} END) AS changes,
     // The policies the target had before the door (a trust policy's earlier versions), oldest first: what the door added.
     collect(CASE WHEN x IS NULL OR later THEN null ELSE properties(change).policyDocument END) AS before
// properties() rather than o.sessionName, o.url, ...: a door's detail differs by kind, and Neo4j warns of every
// property key that no edge in the store carries yet.
RETURN k.accessKeyId AS credential, e.eventID AS eventID, e.eventTime AS eventTime, e.eventName AS eventName,
       t.id AS target, coalesce(t.arn, t.id) AS targetArn, t.type AS targetType, t.name AS targetName,
       coalesce(t.accountId, e.recipientAccountId) AS account, properties(o) AS door, changes, before
ORDER BY eventTime, eventID, target
