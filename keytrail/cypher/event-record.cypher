// Purpose: One stored event: the record as it was read (every field, session tokens redacted), its
//          fingerprint, where it was read from, and the incidents it was loaded under.
// Parameters:
//   $eventID: string — the event's eventID
// Returns: eventID, raw, recordSha256, source, sourceIndex, incidents
:param {eventID: '00000000-0000-0000-0000-000000000000'};
MATCH (e:Event {eventID: $eventID})
RETURN e.eventID AS eventID, e.raw AS raw, e.recordSha256 AS recordSha256, e.source AS source,
       e.sourceIndex AS sourceIndex, e.incidents AS incidents
