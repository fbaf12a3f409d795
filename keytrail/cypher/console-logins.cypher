// Purpose: Console access opened by credentials: login profiles (console passwords) created or updated
//          (iam:CreateLoginProfile, UpdateLoginProfile) by events the credentials signed, and every later successful
//          signin:ConsoleLogin of the profile's user (loginEventID null when the password was never used), with the
//          later deletions (by anyone) of the profile and of its user.
// Parameters:
//   $credentials: list<map{id: string, since: string}> — access key ids and the ISO time each counts from
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: profile, user, userName, userArn, account, credential, eventName, eventID, eventTime, deletions, userDeletions, loginEventID, loginTime, loginSourceIPAddress, loginDetail
:param {credentials: [{id: 'AKIAIOSFODNN7EXAMPLE', since: ''}], incident: null};
UNWIND $credentials AS c
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (k:AccessKey {accessKeyId: c.id})
WITH c, k
MATCH (k)-[:SIGNED]->(e:Event)-[change]->(l:LoginProfile)-[:BELONGS_TO]->(u:Principal)
WHERE type(change) IN ['CREATED', 'UPDATED'] AND e.eventTime >= c.since AND ($incident IS NULL OR $incident IN e.incidents)
OPTIONAL MATCH (d:Event)-[:DELETED]->(l)
WHERE d.eventTime >= e.eventTime AND ($incident IS NULL OR $incident IN d.incidents)
WITH k, e, l, u, collect(CASE WHEN d IS NULL THEN null ELSE {time: d.eventTime, eventID: d.eventID} END) AS deletions
OPTIONAL MATCH (du:Event)-[:DELETED]->(u)
WHERE du.eventTime >= e.eventTime AND ($incident IS NULL OR $incident IN du.incidents)
WITH k, e, l, u, deletions, collect(CASE WHEN du IS NULL THEN null ELSE {time: du.eventTime, eventID: du.eventID} END) AS userDeletions
OPTIONAL MATCH (u)-[:MADE]->(login:Event)
WHERE login.eventName = 'ConsoleLogin' AND login.succeeded = true AND login.eventTime >= e.eventTime
  AND ($incident IS NULL OR $incident IN login.incidents)
RETURN l.id AS profile, u.id AS user, u.name AS userName, coalesce(u.arn, u.id) AS userArn, u.accountId AS account,
       k.accessKeyId AS credential, e.eventName AS eventName, e.eventID AS eventID, e.eventTime AS eventTime,
       deletions, userDeletions, login.eventID AS loginEventID, login.eventTime AS loginTime, login.sourceIPAddress AS loginSourceIPAddress,
       login.additionalEventData AS loginDetail
ORDER BY eventTime, eventID, loginTime, loginEventID
