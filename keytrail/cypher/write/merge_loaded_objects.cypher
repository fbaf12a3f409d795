// Purpose: Record stored objects (S3 log files) whose every record is now in the store, with their ETag,
//          so that a repeated or interrupted load does not download them again. Bookkeeping, not evidence.
// Mode: write; idempotent (one LoadedObject per uri). A different ETag means the object was replaced:
//       its incident list starts again.
// Parameters:
//   $rows: list<map{uri,etag,size,incident,runId,loadedAt}> — one per object
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Relies on: the LoadedObject(uri) uniqueness constraint / index.
UNWIND $rows AS row
MERGE (o:LoadedObject {uri: row.uri})
WITH o, row, CASE WHEN o.etag = row.etag AND o.incidents IS NOT NULL THEN o.incidents ELSE [] END AS previous
SET o.etag = row.etag, o.size = row.size, o.runId = row.runId, o.loadedAt = row.loadedAt,
    o.incidents = CASE WHEN row.incident IN previous THEN previous ELSE previous + [row.incident] END
RETURN count(*) AS landed
