// Purpose: The incidents loaded into the store, with how many loads each had (reads no event).
// Parameters: none
// Returns: incident, loads
MATCH (i:Incident)
OPTIONAL MATCH (r:LoadRun)-[:FOR_INCIDENT]->(i)
RETURN i.name AS incident, count(r) AS loads
ORDER BY incident
