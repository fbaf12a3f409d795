// Purpose: Store console login profiles (passwords) of IAM users.
// Mode: write; idempotent.
// Parameters:
//   $rows: list<map{id: string, props: map}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Relies on: uniqueness of LoginProfile(id).
UNWIND $rows AS row
MERGE (l:LoginProfile {id: row.id})
SET l += row.props
RETURN count(*) AS landed
