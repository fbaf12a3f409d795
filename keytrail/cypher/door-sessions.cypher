// Purpose: The sessions that came through doors: access keys of the door's principal, or of its sessions (a role's,
//          a federated user's), optionally only sessions with a given name (a function's, an instance's) — or, for doors
//          on resources, keys of role sessions with that name, of a role whose name starts with a prefix (Identity
//          Center's AWSReservedSSO_<permission set>_), in an account — first used at or after the door opened.
//          A key counts from its birth (the AssumeRole that minted it) when that is known, else from its first use;
//          events counts its events from the door's opening.
// Parameters:
//   $doors: list<map{door: string, principal: string|null, sessionName: string|null, rolePrefix: string|null, account: string|null, since: string}> — one entry per door
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: door, credential, kind, principal, principalType, principalArn, sessionName, role, bornBy, bornEventID, bornAt, firstUse, lastUse, events
:param {doors: [{door: 'role', principal: 'arn:aws:iam::111122223333:role/example', sessionName: null, rolePrefix: null, account: null, since: ''}], incident: null};
UNWIND $doors AS d
MATCH (s:Principal)
WHERE (d.principal IS NOT NULL AND s.id = d.principal)
   OR (d.principal IS NULL AND s.type = 'AssumedRole'
       AND (d.sessionName IS NULL OR s.name = d.sessionName)
       AND (d.rolePrefix IS NULL OR s.roleName STARTS WITH d.rolePrefix)
       AND (d.account IS NULL OR s.accountId = d.account))
OPTIONAL MATCH (session:Principal)-[:SESSION_OF]->(s)
WITH d, s, collect(session) AS sessions
WITH d, CASE WHEN d.principal IS NULL THEN [s] ELSE [s] + sessions END AS candidates
UNWIND candidates AS p
WITH DISTINCT d, p
WHERE d.principal IS NULL OR d.sessionName IS NULL OR p.name = d.sessionName
MATCH (k:AccessKey)-[:BELONGS_TO]->(p)
WITH d, p, k
MATCH (k)-[:SIGNED]->(e:Event)
WHERE $incident IS NULL OR $incident IN e.incidents
// The key's first use over all its events: a key in use before the door opened did not come through it.
WITH d, p, k, min(e.eventTime) AS firstUse, max(e.eventTime) AS lastUse, sum(CASE WHEN e.eventTime >= d.since THEN 1 ELSE 0 END) AS events
WHERE coalesce(k.bornAt, firstUse) >= d.since
OPTIONAL MATCH (p)-[:SESSION_OF]->(role:Principal)
WITH d, p, k, firstUse, lastUse, events, min(role.id) AS role
RETURN d.door AS door, k.accessKeyId AS credential, k.kind AS kind, p.id AS principal, p.type AS principalType, coalesce(p.arn, p.id) AS principalArn,
       p.name AS sessionName, role, k.bornBy AS bornBy, k.bornEventID AS bornEventID, k.bornAt AS bornAt, firstUse, lastUse, events
ORDER BY door, firstUse, credential
