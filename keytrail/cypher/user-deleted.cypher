// Purpose: The iam:DeleteUser of an IAM user, who did it and with which key. Workshop question 7.
// Parameters:
//   $user: string — the IAM user name that was deleted
// Returns: eventTime, eventName, actor, credential, eventID, sourceIPAddress
MATCH (e:Event)-[:DELETED]->(u:Principal {name: $user})
WHERE u.type = 'IAMUser' AND e.eventName = 'DeleteUser'
OPTIONAL MATCH (a:Principal)-[:MADE]->(e)
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
RETURN e.eventTime AS eventTime, e.eventName AS eventName, a.name AS actor, k.accessKeyId AS credential,
       e.eventID AS eventID, e.sourceIPAddress AS sourceIPAddress
ORDER BY eventTime, eventID
