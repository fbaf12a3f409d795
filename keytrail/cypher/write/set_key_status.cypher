// Purpose: Store each access key's status as keytrail/model/status.decided_status decided it from the whole store:
//          active, inactive or deleted, since when and shown by which event (statusAt, statusEventID: null for active).
// Mode: write; idempotent. Every load decides every key again, so the order files load in never matters.
// Parameters:
//   $rows: list<map{accessKeyId: string, status: string, statusAt: string|null, statusEventID: string|null}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MATCH (k:AccessKey {accessKeyId: row.accessKeyId})
SET k.status = row.status, k.statusAt = row.statusAt, k.statusEventID = row.statusEventID
RETURN count(*) AS landed
