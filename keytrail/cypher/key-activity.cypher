// Purpose: Every event made with an access key, in time order, failed attempts included
//          (errorCode set). No rows for a key never used. Workshop questions 2, 4 and 6.
// Parameters:
//   $key: string — the access key id
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: eventTime, eventName, eventID, errorCode, eventSource, sourceIPAddress, target
:param {key: 'AKIAIOSFODNN7EXAMPLE', incident: null};
MATCH (k:AccessKey {accessKeyId: $key})-[:SIGNED]->(e:Event)
WHERE $incident IS NULL OR $incident IN e.incidents
RETURN e.eventTime AS eventTime, e.eventName AS eventName, e.eventID AS eventID, e.errorCode AS errorCode,
       e.eventSource AS eventSource, e.sourceIPAddress AS sourceIPAddress, e.target AS target
ORDER BY e.eventTime, e.eventID
