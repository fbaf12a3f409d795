// Purpose: Delete a slice of keytrail's nodes (and their relationships); called until it returns 0.
//          Only nodes with keytrail's labels are touched: other data in the store stays.
// Mode: write
// Parameters:
//   $labels: list<string> — keytrail's node labels (from graph/schema.py)
//   $limit: int — nodes per transaction
// Returns: deleted
MATCH (n)
WHERE any(l IN labels(n) WHERE l IN $labels)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(n) AS deleted
