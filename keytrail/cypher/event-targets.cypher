// Purpose: Everything each of the given events acted on (every Resource or Principal an effect edge of it reaches,
//          e.g. all the instances of one RunInstances), whether the event itself deleted it, whether another event
//          deleted it afterwards ('time eventID'), and the event that first created it: the targets of containment actions.
// Parameters:
//   $events: list<string> — eventIDs
//   $incident: string|null — only deletions and creations loaded under this incident (null: every incident)
// Returns: eventID, target, targetArn, targetType, targetName, deletes, deleted, created
:param {events: ['00000000-0000-0000-0000-000000000000'], incident: null};
UNWIND $events AS id
MATCH (e:Event {eventID: id})
WITH e
MATCH (e)-[r]->(t)
WHERE (t:Resource OR t:Principal) AND type(r) <> 'OPENED'
WITH e, t, max(CASE WHEN type(r) = 'DELETED' THEN 1 ELSE 0 END) AS deletes
OPTIONAL MATCH (d:Event)-[:DELETED]->(t)
WHERE $incident IS NULL OR $incident IN d.incidents
// "Later" is decided after the match, not in it (see doors-opened.cypher). The event's own deletion (a DeleteTrail)
// is not "deleted since": it is what needs the action.
WITH e, t, deletes, CASE WHEN d IS NOT NULL AND d.eventID <> e.eventID AND d.eventTime >= e.eventTime THEN d.eventTime + ' ' + d.eventID ELSE null END AS deletion
WITH e, t, deletes, min(deletion) AS deleted
OPTIONAL MATCH (c:Event)-[:CREATED]->(t)
WHERE $incident IS NULL OR $incident IN c.incidents
WITH e, t, deletes, deleted, min(c.eventTime + ' ' + c.eventID) AS created
RETURN e.eventID AS eventID, t.id AS target, coalesce(t.arn, t.id) AS targetArn, t.type AS targetType, t.name AS targetName,
       deletes = 1 AS deletes, deleted, created
ORDER BY eventID, target
