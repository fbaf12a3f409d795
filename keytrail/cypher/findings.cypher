// Purpose: Candidate findings across the store: every call of an action that has an ATT&CK label (keytrail/data/
//          attack_mapping.json passes them as $actions), failed attempts included, AWS services' own calls excluded,
//          with the credential and principal that made it.
// Parameters:
//   $actions: list<string> — 'service:EventName' keys of the ATT&CK mapping (as Event.action)
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: eventTime, eventName, action, credential, principal, principalName, principalType, eventID, succeeded, errorCode, target, verb, sourceIPAddress, userAgent, account, requestParameters, additionalEventData, invokedBy, userType
// From the Action nodes: a few actions (the policy calls findings-summary leaves to this query) reach their events
// without a scan of every Event, and all of them no slower than the scan. WITH before the walk: otherwise FalkorDB
// starts from every Event.
:param {actions: ['iam:CreateAccessKey', 'iam:CreateUser'], incident: null};
MATCH (a:Action)
WHERE a.name IN $actions
WITH a
MATCH (e:Event)-[:INVOKED]->(a)
WHERE ($incident IS NULL OR $incident IN e.incidents) AND coalesce(e.userType, '') <> 'AWSService'
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
OPTIONAL MATCH (p:Principal)-[:MADE]->(e)
WITH e, k, p
WHERE coalesce(p.type, '') <> 'AWSService'
// invokedBy is read through properties(): Neo4j warns of a property key that no event in the store carries yet.
RETURN e.eventTime AS eventTime, e.eventName AS eventName, e.action AS action, k.accessKeyId AS credential, p.id AS principal,
       p.name AS principalName, p.type AS principalType, e.eventID AS eventID, e.succeeded AS succeeded, e.errorCode AS errorCode,
       e.target AS target, e.verb AS verb, e.sourceIPAddress AS sourceIPAddress, e.userAgent AS userAgent,
       e.recipientAccountId AS account, e.requestParameters AS requestParameters,
       e.additionalEventData AS additionalEventData, properties(e).invokedBy AS invokedBy, e.userType AS userType
ORDER BY eventTime, eventID
