// Purpose: Everything each of the given events acted on (every Resource or Principal an effect edge of it reaches,
//          e.g. all the instances of one RunInstances), and whether the evidence shows each deleted afterwards:
//          the targets of containment actions.
// Parameters:
//   $events: list<string> — eventIDs
//   $incident: string|null — only deletions loaded under this incident (null: every incident)
// Returns: eventID, target, targetArn, targetType, targetName, deleted
UNWIND $events AS id
MATCH (e:Event {eventID: id})
WITH e
MATCH (e)-[r]->(t)
WHERE (t:Resource OR t:Principal) AND type(r) <> 'OPENED'
OPTIONAL MATCH (d:Event)-[:DELETED]->(t)
WHERE $incident IS NULL OR $incident IN d.incidents
// "Later" is decided after the match, not in it (see doors-opened.cypher).
WITH e, t, CASE WHEN d IS NOT NULL AND d.eventTime >= e.eventTime THEN d.eventTime + ' ' + d.eventID ELSE null END AS deletion
WITH e, t, min(deletion) AS deleted
RETURN e.eventID AS eventID, t.id AS target, coalesce(t.arn, t.id) AS targetArn, t.type AS targetType, t.name AS targetName, deleted
ORDER BY eventID, target
