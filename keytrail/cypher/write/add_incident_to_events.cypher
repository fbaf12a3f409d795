// Purpose: Tag events that were already stored with one more incident they were loaded under.
// Mode: write; idempotent. The list stays sorted, so that it does not depend on which load came first.
// Parameters:
//   $rows: list<map{eventID: string, incident: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MATCH (e:Event {eventID: row.eventID})
WHERE NOT row.incident IN coalesce(e.incidents, [])
SET e.incidents = [x IN coalesce(e.incidents, []) WHERE x < row.incident] + row.incident
                  + [x IN coalesce(e.incidents, []) WHERE x > row.incident]
RETURN count(*) AS landed
