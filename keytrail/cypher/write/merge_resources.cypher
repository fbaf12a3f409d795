// Purpose: Store resources acted on (by ARN, or the best identifier the record gives).
// Mode: write; idempotent.
// Parameters:
//   $rows: list<map{id: string, props: map{type?, name?, arn?, accountId?}}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Relies on: uniqueness of Resource(id).
UNWIND $rows AS row
MERGE (r:Resource {id: row.id})
SET r += row.props
RETURN count(*) AS landed
