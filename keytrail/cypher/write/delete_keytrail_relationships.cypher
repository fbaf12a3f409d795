// Purpose: Delete a slice of the relationships of keytrail's nodes: at most $limit, whatever a node's degree.
//          reset_store runs it with delete_keytrail_nodes until both return 0. A DETACH DELETE of a hub (an Action
//          invoked by a million events) in one transaction ran Neo4j out of memory (MemoryPoolOutOfMemoryError).
//          Only relationships of nodes with keytrail's labels are touched: other data in the store stays.
// Mode: write
// Parameters:
//   $labels: list<string> — keytrail's node labels (from graph/schema.py)
//   $limit: int — at most this many nodes looked at, and relationships deleted, per transaction
// Returns: deleted
// The nodes looked at are the first $limit of the scan: those delete_keytrail_nodes deletes once they have no
// relationship left, so no slice passes again over what an earlier one emptied.
MATCH (n)
WHERE any(l IN labels(n) WHERE l IN $labels)
WITH n LIMIT $limit
MATCH (n)-[r]-()
WITH DISTINCT r LIMIT $limit
DELETE r
RETURN count(r) AS deleted
