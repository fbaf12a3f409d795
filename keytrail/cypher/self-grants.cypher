// Purpose: Administrator policies that a principal put on itself (report/signals.py keeps those): every door of
//          kind admin-policy (an administrator policy attached or put on a principal), with the credential and
//          principal whose call opened it and, for a session, the role or user it is a session of.
// Parameters:
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: credential, principal, sessionOf, target, eventID, eventTime
:param {incident: null};
// From the principals, with no label on e (only an Event opens a door), and WITH before the filter: otherwise FalkorDB
// starts from every Event (0.4 s at a million events, for no row).
MATCH (target:Principal)<-[o:OPENED]-(e)
WITH e, o, target
WHERE o.door = 'admin-policy' AND ($incident IS NULL OR $incident IN e.incidents)
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
OPTIONAL MATCH (p:Principal)-[:MADE]->(e)
OPTIONAL MATCH (p)-[:SESSION_OF]->(base:Principal)
RETURN k.accessKeyId AS credential, p.id AS principal, base.id AS sessionOf, target.id AS target, e.eventID AS eventID,
       e.eventTime AS eventTime
ORDER BY eventTime, eventID
