// Purpose: A login profile belongs to its IAM user.
// Mode: write; idempotent and independent of load order: the earliest evidence is kept
//       (eventID, rule, firstSeen; ties broken by eventID).
// Parameters:
//   $rows: list<map{profile: string, principal: string, eventID: string, eventTime: string, rule: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Rows arrive reduced to one per pair per batch (transform.reduce_batch), so the comparison
// below only ever runs between batches, whatever order a backend applies rows in.
UNWIND $rows AS row
MATCH (l:LoginProfile {id: row.profile})
MATCH (p:Principal {id: row.principal})
MERGE (l)-[b:BELONGS_TO]->(p)
WITH b, row, (b.firstSeen IS NULL OR row.eventTime < b.firstSeen
              OR (row.eventTime = b.firstSeen AND row.eventID < b.eventID)) AS earlier
FOREACH (_ IN CASE WHEN earlier THEN [1] ELSE [] END |
  SET b.eventID = row.eventID, b.rule = row.rule, b.firstSeen = row.eventTime)
RETURN count(*) AS landed
