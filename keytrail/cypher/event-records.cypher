// Purpose: The records of the given events as they were read (session tokens redacted), with their fingerprint
//          and where each was read from: the evidence export of a blast radius.
// Parameters:
//   $eventIDs: list<string> — the events' eventIDs
// Returns: eventID, eventTime, raw, recordSha256, source, sourceIndex
:param {eventIDs: ['00000000-0000-0000-0000-000000000000']};
UNWIND $eventIDs AS id
MATCH (e:Event {eventID: id})
RETURN e.eventID AS eventID, e.eventTime AS eventTime, e.raw AS raw, e.recordSha256 AS recordSha256, e.source AS source,
       e.sourceIndex AS sourceIndex
ORDER BY eventTime, eventID
