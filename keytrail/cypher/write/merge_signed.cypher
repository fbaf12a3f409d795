// Purpose: Link each event to the access key that signed it (userIdentity.accessKeyId).
// Mode: write; creates the edge: its event was created in the same unit of writing (merge_events), so it has none yet.
// Parameters:
//   $rows: list<map{eventID: string, accessKeyId: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MATCH (e:Event {eventID: row.eventID})
MATCH (k:AccessKey {accessKeyId: row.accessKeyId})
CREATE (k)-[:SIGNED]->(e)
RETURN count(*) AS landed
