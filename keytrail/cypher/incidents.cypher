// Purpose: The incidents loaded into the store, with their events, time span and loads.
// Parameters: none
// Returns: incident, events, firstEvent, lastEvent, loads
MATCH (i:Incident)
OPTIONAL MATCH (r:LoadRun)-[:FOR_INCIDENT]->(i)
WITH i, count(r) AS loads
OPTIONAL MATCH (e:Event)
WHERE i.name IN e.incidents
RETURN i.name AS incident, count(e) AS events, min(e.eventTime) AS firstEvent, max(e.eventTime) AS lastEvent, loads
ORDER BY incident
