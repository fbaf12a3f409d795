// Purpose: Access keys created by successful iam:CreateAccessKey calls that an IAM user made,
//          for any user (owner = the user the key was created for). Workshop question 5.
// Parameters:
//   $user: string — the IAM user name of the caller
// Returns: accessKeyId, owner, eventTime, eventID, ownerArn
MATCH (p:Principal {name: $user})-[:MADE]->(e:Event)-[:CREATED]->(k:AccessKey)
WHERE p.type = 'IAMUser'
OPTIONAL MATCH (k)-[:BELONGS_TO]->(o:Principal)
RETURN k.accessKeyId AS accessKeyId, o.name AS owner, e.eventTime AS eventTime, e.eventID AS eventID,
       o.id AS ownerArn
ORDER BY eventTime, accessKeyId
