// Purpose: A role session belongs to its role; a federated user to the IAM user that minted it.
// Mode: write; idempotent and independent of load order: the earliest evidence is kept
//       (eventID, rule, firstSeen; ties broken by eventID).
// Parameters:
//   $rows: list<map{session: string, parent: string, eventID: string, eventTime: string, rule: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Rows arrive reduced to one per pair per batch (transform.reduce_batch), so the comparison
// below only ever runs between batches, whatever order a backend applies rows in.
UNWIND $rows AS row
MATCH (s:Principal {id: row.session})
MATCH (p:Principal {id: row.parent})
MERGE (s)-[r:SESSION_OF]->(p)
WITH r, row, (r.firstSeen IS NULL OR row.eventTime < r.firstSeen
              OR (row.eventTime = r.firstSeen AND row.eventID < r.eventID)) AS earlier
FOREACH (_ IN CASE WHEN earlier THEN [1] ELSE [] END |
  SET r.eventID = row.eventID, r.rule = row.rule, r.firstSeen = row.eventTime)
RETURN count(*) AS landed
