// Purpose: The incidents loaded into the store, with their events, time span and loads.
// Parameters: none
// Returns: incident, events, firstEvent, lastEvent, loads
// One pass over the events, whatever the number of incidents (each event counts under each incident it
// carries), then one row per Incident node; an incident whose events are all gone counts 0.
MATCH (e:Event)
UNWIND e.incidents AS name
WITH name, count(*) AS events, min(e.eventTime) AS firstEvent, max(e.eventTime) AS lastEvent
WITH collect({name: name, events: events, firstEvent: firstEvent, lastEvent: lastEvent}) AS spans
MATCH (i:Incident)
OPTIONAL MATCH (r:LoadRun)-[:FOR_INCIDENT]->(i)
WITH i, spans, count(r) AS loads
WITH i, loads, [s IN spans WHERE s.name = i.name] AS found
RETURN i.name AS incident, coalesce(found[0].events, 0) AS events, found[0].firstEvent AS firstEvent,
       found[0].lastEvent AS lastEvent, loads
ORDER BY incident
