// Purpose: The temporary keys of users' console sessions: keys of the user that signed events marked
//          sessionCredentialFromConsole at or after a time (a ConsoleLogin), with their first and last use.
// Parameters:
//   $logins: list<map{user: string, since: string}> — principal ids of IAM users and the ISO time of their ConsoleLogin
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: user, since, credential, firstUse, lastUse, events
:param {logins: [{user: 'arn:aws:iam::111122223333:user/example', since: ''}], incident: null};
UNWIND $logins AS login
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (u:Principal {id: login.user})<-[:BELONGS_TO]-(k:AccessKey)
WITH login, u, k
MATCH (k)-[:SIGNED]->(e:Event)
WHERE k.kind = 'temporary' AND e.sessionCredentialFromConsole = true AND e.eventTime >= login.since
  AND ($incident IS NULL OR $incident IN e.incidents)
RETURN u.id AS user, login.since AS since, k.accessKeyId AS credential, min(e.eventTime) AS firstUse,
       max(e.eventTime) AS lastUse, count(e) AS events
ORDER BY user, since, firstUse, credential
