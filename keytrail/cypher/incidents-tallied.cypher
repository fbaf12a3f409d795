// Purpose: incidents.cypher's answer from the Tally nodes instead of every Event (use it only when
//          tallies-complete says they count every event): each incident's events, time span and loads.
// Parameters: none
// Returns: incident, events, firstEvent, lastEvent, loads
MATCH (i:Incident)
OPTIONAL MATCH (t:Tally {incident: i.name})
WITH i, sum(t.count) AS events, min(t.firstEvent) AS firstEvent, max(t.lastEvent) AS lastEvent
OPTIONAL MATCH (r:LoadRun)-[:FOR_INCIDENT]->(i)
RETURN i.name AS incident, coalesce(events, 0) AS events, firstEvent, lastEvent, count(r) AS loads
ORDER BY incident
