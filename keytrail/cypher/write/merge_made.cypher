// Purpose: Link each event to the principal that made it (userIdentity).
// Mode: write; creates the edge: its event was created in the same unit of writing (merge_events), so it has none yet.
// Parameters:
//   $rows: list<map{eventID: string, principal: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MATCH (e:Event {eventID: row.eventID})
MATCH (p:Principal {id: row.principal})
CREATE (p)-[:MADE]->(e)
RETURN count(*) AS landed
