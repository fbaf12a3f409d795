// Purpose: Every load into the store, newest first: what it read, stored and refused.
// Parameters: none
// Returns: runId, incident, startedAt, read, loaded, duplicates, rejected, rejectedOrigins, inputs, stoppedBy,
//          inputDigests ("sha256:<hex> <bytes> <absolute path>" per file read)
MATCH (r:LoadRun)-[:FOR_INCIDENT]->(i:Incident)
RETURN r.runId AS runId, i.name AS incident, r.startedAt AS startedAt, r.read AS read, r.loaded AS loaded,
       r.duplicates AS duplicates, r.rejected AS rejected, r.rejectedOrigins AS rejectedOrigins, r.inputs AS inputs,
       r.stoppedBy AS stoppedBy, r.inputDigests AS inputDigests
ORDER BY runId DESC
