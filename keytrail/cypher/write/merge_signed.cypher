// Purpose: Link each event to the access key that signed it (userIdentity.accessKeyId).
// Mode: write; idempotent.
// Parameters:
//   $rows: list<map{eventID: string, accessKeyId: string}>
// Returns: nothing
UNWIND $rows AS row
MATCH (e:Event {eventID: row.eventID})
MATCH (k:AccessKey {accessKeyId: row.accessKeyId})
MERGE (k)-[:SIGNED]->(e)
