// Purpose: The iam:DeleteUser of an IAM user, who did it and with which key. Workshop question 7.
// Parameters:
//   $user: string — the IAM user that was deleted: its name, or its ARN (the ARN tells apart users of the same name in two accounts)
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: eventTime, eventName, actor, credential, eventID, sourceIPAddress
:param {user: 'example', incident: null};
MATCH (u:Principal)
WHERE u.type = 'IAMUser' AND (u.name = $user OR u.arn = $user OR u.id = $user)
MATCH (e:Event)-[:DELETED]->(u)
WHERE e.eventName = 'DeleteUser' AND ($incident IS NULL OR $incident IN e.incidents)
OPTIONAL MATCH (a:Principal)-[:MADE]->(e)
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
RETURN e.eventTime AS eventTime, e.eventName AS eventName, a.name AS actor, k.accessKeyId AS credential,
       e.eventID AS eventID, e.sourceIPAddress AS sourceIPAddress
ORDER BY eventTime, eventID
