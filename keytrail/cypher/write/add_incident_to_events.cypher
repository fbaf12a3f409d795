// Purpose: Tag events that were already stored with one more incident they were loaded under.
// Mode: write; idempotent.
// Parameters:
//   $rows: list<map{eventID: string, incident: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MATCH (e:Event {eventID: row.eventID})
WHERE NOT row.incident IN coalesce(e.incidents, [])
SET e.incidents = coalesce(e.incidents, []) + row.incident
RETURN count(*) AS landed
