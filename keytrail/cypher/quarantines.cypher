// Purpose: AWS's own quarantine of an exposed key on the given principals: a policy named AWSCompromisedKeyQuarantine*
//          attached, or AWSExposedCredentialPolicy_DO_NOT_REMOVE attached or put. The detection anchor of a timeline
//          (the caller confirms the policy name with keytrail.rules.policy.quarantine_policy).
// Parameters:
//   $principals: list<string> — graph ids of the principals (Principal.id)
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: eventTime, eventID, eventName, principal, principalArn, succeeded, requestParameters
:param {principals: ['arn:aws:iam::111122223333:user/example'], incident: null};
UNWIND $principals AS id
MATCH (p:Principal {id: id})
WITH p
MATCH (e:Event)-[r]->(p)
WHERE type(r) IN ['ATTACHED_POLICY', 'PUT_POLICY'] AND ($incident IS NULL OR $incident IN e.incidents)
  AND (e.requestParameters CONTAINS 'AWSCompromisedKeyQuarantine' OR e.requestParameters CONTAINS 'AWSExposedCredentialPolicy_DO_NOT_REMOVE')
RETURN e.eventTime AS eventTime, e.eventID AS eventID, e.eventName AS eventName, p.id AS principal, coalesce(p.arn, p.id) AS principalArn,
       e.succeeded AS succeeded, e.requestParameters AS requestParameters
ORDER BY eventTime, eventID
