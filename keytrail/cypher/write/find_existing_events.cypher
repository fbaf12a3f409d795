// Purpose: Which of a batch's events are already stored, and under which incidents (for idempotent loads).
// Mode: read
// Parameters:
//   $ids: list<string> — eventIDs of the batch
// Returns: eventID, incidents, recordSha256 (the stored record's fingerprint; null for events stored before it was kept)
// Relies on: the Event(eventID) uniqueness constraint / index.
UNWIND $ids AS id
MATCH (e:Event {eventID: id})
RETURN e.eventID AS eventID, e.incidents AS incidents, e.recordSha256 AS recordSha256
