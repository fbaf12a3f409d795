// Purpose: The first event made with an access key: when the leaked key was first used, and for what.
//          Workshop question 1 (usually sts:GetCallerIdentity).
// Parameters:
//   $key: string — the access key id (AKIA… or ASIA…)
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: eventTime, eventName, eventID, sourceIPAddress, userAgent, errorCode
:param {key: 'AKIAIOSFODNN7EXAMPLE', incident: null};
MATCH (k:AccessKey {accessKeyId: $key})-[:SIGNED]->(e:Event)
WHERE $incident IS NULL OR $incident IN e.incidents
RETURN e.eventTime AS eventTime, e.eventName AS eventName, e.eventID AS eventID,
       e.sourceIPAddress AS sourceIPAddress, e.userAgent AS userAgent, e.errorCode AS errorCode
ORDER BY e.eventTime, e.eventID
LIMIT 1
