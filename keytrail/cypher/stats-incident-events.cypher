// Purpose: The events of each incident, with the first and last event's time, in one pass over the events (the
//          incidents query passes over them once per incident); keytrail stats adds each incident's loads
//          (stats-incident-loads).
// Parameters: none
// Returns: incident, events, firstEvent, lastEvent
MATCH (e:Event)
UNWIND e.incidents AS incident
RETURN incident, count(*) AS events, min(e.eventTime) AS firstEvent, max(e.eventTime) AS lastEvent
ORDER BY incident
