// Purpose: Delete a slice of keytrail's nodes that have no relationship left (delete_keytrail_relationships
//          deletes those first, in slices); reset_store runs both until both return 0.
//          Only nodes with keytrail's labels are touched: other data in the store stays.
// Mode: write
// Parameters:
//   $labels: list<string> — keytrail's node labels (from graph/schema.py)
//   $limit: int — at most this many nodes per transaction
// Returns: deleted
MATCH (n)
WHERE any(l IN labels(n) WHERE l IN $labels)
WITH n LIMIT $limit
WITH n WHERE NOT (n)--()
DELETE n
RETURN count(n) AS deleted
