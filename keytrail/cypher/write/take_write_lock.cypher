// Purpose: Take keytrail's write lock for the rest of this transaction, so that loads into one Neo4j run their batches one at a time.
// Mode: write; the first statement of every unit of writing (on the embedded store too, which needs no lock, so
//       that both stores hold the same nodes). On Neo4j, setting a property takes the node's
//       write lock, which Neo4j holds until the transaction ends; a second load's batch waits here, and then
//       sees every event the first one committed (and skips them as duplicates).
// Parameters:
//   $runId: string — the load taking the lock (kept only to show who held it last)
// Returns: taken — 1
MERGE (l:WriteLock {name: 'keytrail'})
SET l.heldBy = $runId
RETURN 1 AS taken
