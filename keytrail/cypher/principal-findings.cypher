// Purpose: The candidate findings of one principal's calls made without an access key (console sign-ins, calls with a
//          masked or absent key): findings.cypher's rows for them, the group `keytrail findings` names by principal.
//          Walks from the principal, not over every Event.
// Parameters:
//   $credential: string — a Principal id (as the group's principal column shows it)
//   $actions: list<string> — 'service:EventName' keys of the ATT&CK mapping (as Event.action)
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: eventTime, eventName, action, credential, principal, principalName, principalType, eventID, succeeded, errorCode, target, verb, sourceIPAddress, userAgent, account, requestParameters, additionalEventData, invokedBy, userType
:param {credential: 'AKIAIOSFODNN7EXAMPLE', actions: ['iam:CreateAccessKey', 'iam:CreateUser'], incident: null};
MATCH (p:Principal {id: $credential})
WITH p
MATCH (p)-[:MADE]->(e:Event)
WHERE e.action IN $actions AND ($incident IS NULL OR $incident IN e.incidents) AND coalesce(e.userType, '') <> 'AWSService'
  AND coalesce(p.type, '') <> 'AWSService'
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
WITH e, k, p
WHERE k IS NULL
// invokedBy is read through properties(): Neo4j warns of a property key that no event in the store carries yet.
RETURN e.eventTime AS eventTime, e.eventName AS eventName, e.action AS action, k.accessKeyId AS credential, p.id AS principal,
       p.name AS principalName, p.type AS principalType, e.eventID AS eventID, e.succeeded AS succeeded, e.errorCode AS errorCode,
       e.target AS target, e.verb AS verb, e.sourceIPAddress AS sourceIPAddress, e.userAgent AS userAgent,
       e.recipientAccountId AS account, e.requestParameters AS requestParameters,
       e.additionalEventData AS additionalEventData, properties(e).invokedBy AS invokedBy, e.userType AS userType
ORDER BY eventTime, eventID
