// Purpose: Every event the credentials signed from the time each counts, failed attempts included (succeeded false):
//          the timeline of a blast radius.
// Parameters:
//   $credentials: list<map{id: string, since: string}> — access key ids and the ISO time each counts from
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: eventTime, eventName, action, credential, eventID, succeeded, errorCode, target, verb, principal, userType, sourceIPAddress, userAgent, account, requestParameters, additionalEventData, invokedBy, sharedEventID
:param {credentials: [{id: 'AKIAIOSFODNN7EXAMPLE', since: ''}], incident: null};
UNWIND $credentials AS c
// WITH before the walk: otherwise FalkorDB starts from an index scan of every Event in the time range.
MATCH (k:AccessKey {accessKeyId: c.id})
WITH c, k
MATCH (k)-[:SIGNED]->(e:Event)
WHERE e.eventTime >= c.since AND ($incident IS NULL OR $incident IN e.incidents)
// invokedBy is read through properties(): Neo4j warns of a property key that no event in the store carries yet.
RETURN e.eventTime AS eventTime, e.eventName AS eventName, e.action AS action, k.accessKeyId AS credential,
       e.eventID AS eventID, e.succeeded AS succeeded, e.errorCode AS errorCode, e.target AS target, e.verb AS verb,
       e.principal AS principal, e.userType AS userType, e.sourceIPAddress AS sourceIPAddress, e.userAgent AS userAgent,
       e.recipientAccountId AS account, e.requestParameters AS requestParameters,
       e.additionalEventData AS additionalEventData, properties(e).invokedBy AS invokedBy, e.sharedEventID AS sharedEventID
ORDER BY eventTime, eventID
