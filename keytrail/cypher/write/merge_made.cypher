// Purpose: Link each event to the principal that made it (userIdentity).
// Mode: write; idempotent.
// Parameters:
//   $rows: list<map{eventID: string, principal: string}>
// Returns: nothing
UNWIND $rows AS row
MATCH (e:Event {eventID: row.eventID})
MATCH (p:Principal {id: row.principal})
MERGE (p)-[:MADE]->(e)
