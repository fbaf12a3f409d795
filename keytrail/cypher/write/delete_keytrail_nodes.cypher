// Purpose: Delete a slice of keytrail's nodes: the same nodes delete_keytrail_relationships looks at (the first
//          $limit of the same scan), run by reset_store only once a relationship slice over them came back short,
//          that is, when they have no relationship left. DETACH only for what a load running at the same time
//          might have added since; the slice is bounded by $limit nodes and what they have left, not by a hub.
//          Only nodes with keytrail's labels are touched: other data in the store stays.
// Mode: write
// Parameters:
//   $labels: list<string> — keytrail's node labels (from graph/schema.py)
//   $limit: int — at most this many nodes per transaction
// Returns: deleted
// Why not a check for relationships (WHERE NOT (n)--()): FalkorDB takes 30 µs a node for it, more than the delete.
MATCH (n)
WHERE any(l IN labels(n) WHERE l IN $labels)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(n) AS deleted
