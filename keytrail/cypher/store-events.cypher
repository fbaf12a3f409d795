// Purpose: How many events the store holds (a count both stores answer without a scan).
// Parameters: none
// Returns: events
MATCH (e:Event)
RETURN count(e) AS events
