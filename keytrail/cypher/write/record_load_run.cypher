// Purpose: Stamp one load: what it read and stored, under which incident, from which inputs.
// Mode: write; one LoadRun node per load (runId is unique).
// Parameters:
//   $runId: string — sortable unique id of the load
//   $incident: string — the incident name the events were loaded under
//   $startedAt: string — ISO 8601 UTC
//   $inputs: list<string> — the paths or URIs named (first 100)
//   $read: int — records read
//   $loaded: int — new events stored
//   $duplicates: int — records already stored or delivered twice
//   $rejected: int — records rejected (kept in the rejects file)
//   $rejectedOrigins: int — files or objects that could not be read at all
//   $stoppedBy: string|null — the signal that stopped the load early (SIGINT, SIGTERM, SIGHUP), null when it read everything
//   $inputDigests: list<string> — every input file read, as "sha256:<hex> <bytes> <absolute path>"
// Returns: nothing
MERGE (i:Incident {name: $incident})
ON CREATE SET i.createdAt = $startedAt
MERGE (r:LoadRun {runId: $runId})
SET r.startedAt = $startedAt, r.inputs = $inputs, r.read = $read, r.loaded = $loaded,
    r.duplicates = $duplicates, r.rejected = $rejected, r.rejectedOrigins = $rejectedOrigins,
    r.stoppedBy = $stoppedBy, r.inputDigests = $inputDigests
MERGE (r)-[:FOR_INCIDENT]->(i)
