// Purpose: Store access keys; what an event said about a key's birth (bornBy, bornAt, expiration) is kept, and the
//          short caption Neo4j Browser's style shows (AKIA…KTDGC5).
// Mode: write; idempotent.
// Parameters:
//   $rows: list<map{accessKeyId: string, kind: string, caption: string, props: map}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Relies on: uniqueness of AccessKey(accessKeyId).
UNWIND $rows AS row
MERGE (k:AccessKey {accessKeyId: row.accessKeyId})
SET k.kind = row.kind, k.caption = row.caption
SET k += row.props
RETURN count(*) AS landed
