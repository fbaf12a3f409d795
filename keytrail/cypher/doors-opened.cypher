// Purpose: Doors the credentials opened: (Event)-[:OPENED]->(Principal|Resource) edges of events they signed (a trust
//          policy, a role or user created, an administrator policy, a function's role, an instance profile, an Identity
//          Center permission set or user, a federated user, a Roles Anywhere profile), with what each admits, how its
//          sessions are named, and every later change of the target by anyone (a deletion closes the door).
// Parameters:
//   $credentials: list<map{id: string, since: string}> — access key ids and the ISO time each counts from
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: credential, eventID, eventTime, eventName, door, rule, target, targetArn, targetType, targetName, account, principalTarget, sessionName, rolePrefix, admits, external, public, detail, changes
UNWIND $credentials AS c
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (k:AccessKey {accessKeyId: c.id})
WITH c, k
MATCH (k)-[:SIGNED]->(e:Event)-[o:OPENED]->(t)
WHERE e.eventTime >= c.since AND ($incident IS NULL OR $incident IN e.incidents)
OPTIONAL MATCH (x:Event)-[change]->(t)
WHERE x.eventTime >= e.eventTime AND x.eventID <> e.eventID AND type(change) IN ['DELETED', 'MODIFIED', 'CREATED', 'DETACHED_POLICY', 'DELETED_POLICY', 'STOPPED']
  AND ($incident IS NULL OR $incident IN x.incidents)
// Ordered before collect(), so that both stores list the changes alike.
WITH k, e, o, t, x, change
ORDER BY x.eventTime, x.eventID
WITH k, e, o, t, collect(CASE WHEN x IS NULL THEN null ELSE {verb: type(change), time: x.eventTime, eventID: x.eventID, eventName: x.eventName,
                                                          policyDocument: change.policyDocument, policyArn: change.policyArn} END) AS changes
RETURN k.accessKeyId AS credential, e.eventID AS eventID, e.eventTime AS eventTime, e.eventName AS eventName, o.door AS door, o.rule AS rule,
       t.id AS target, coalesce(t.arn, t.id) AS targetArn, t.type AS targetType, t.name AS targetName,
       coalesce(t.accountId, e.recipientAccountId) AS account, t.accountId IS NOT NULL AND t.type IN ['IAMUser', 'IAMRole', 'FederatedUser', 'AssumedRole', 'Root'] AS principalTarget,
       o.sessionName AS sessionName, o.rolePrefix AS rolePrefix, o.admits AS admits, o.external AS external, o.public AS public,
       {function: o.function, instanceProfile: o.instanceProfile, instanceType: o.instanceType, count: o.count, policyArn: o.policyArn,
        osUser: o.osUser, documentName: o.documentName, authType: o.authType, url: o.url, action: o.action, targetAccount: o.targetAccount,
        principalId: o.principalId, principalType: o.principalType, profile: o.profile} AS detail,
       changes
ORDER BY eventTime, eventID, target
