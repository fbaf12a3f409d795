// Purpose: Delete a slice of keytrail's nodes that have no relationship left (delete_keytrail_relationships
//          deletes those first, in slices: reset_store runs this once a relationship slice over the same
//          nodes came back short, and both until both return 0).
//          Only nodes with keytrail's labels are touched: other data in the store stays.
// Mode: write
// Parameters:
//   $labels: list<string> — keytrail's node labels (from graph/schema.py)
//   $limit: int — at most this many nodes looked at, and deleted, per transaction
// Returns: deleted
// Why collect: FalkorDB otherwise applies the LIMIT after the filter, that is, checks every node of the store.
MATCH (n)
WHERE any(l IN labels(n) WHERE l IN $labels)
WITH n LIMIT $limit
WITH collect(n) AS slice
UNWIND slice AS n
WITH n WHERE NOT (n)--()
DELETE n
RETURN count(n) AS deleted
