// Purpose: An access key's status as of its latest observed change: Active (CreateAccessKey,
//          UpdateAccessKey Active), Inactive (UpdateAccessKey Inactive) or Deleted (DeleteAccessKey).
// Mode: write; idempotent and independent of load order (files are not time-ordered): a change
//       is applied only if it is later than the one recorded (ties broken by eventID). Rows arrive
//       reduced to the latest per key per batch (transform.reduce_batch).
// Parameters:
//   $rows: list<map{accessKeyId: string, status: string, eventTime: string, eventID: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MATCH (k:AccessKey {accessKeyId: row.accessKeyId})
WITH k, row, (k.statusAt IS NULL OR row.eventTime > k.statusAt
              OR (row.eventTime = k.statusAt AND row.eventID > k.statusEventID)) AS later
FOREACH (_ IN CASE WHEN later THEN [1] ELSE [] END |
  SET k.status = row.status, k.statusAt = row.eventTime, k.statusEventID = row.eventID)
RETURN count(*) AS landed
