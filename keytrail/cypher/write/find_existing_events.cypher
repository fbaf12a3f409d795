// Purpose: Which of a batch's events are already stored, and under which incidents (for idempotent loads).
// Mode: read
// Parameters:
//   $ids: list<string> — eventIDs of the batch
// Returns: eventID, incidents
// Relies on: the Event(eventID) uniqueness constraint / index.
UNWIND $ids AS id
MATCH (e:Event {eventID: id})
RETURN e.eventID AS eventID, e.incidents AS incidents
