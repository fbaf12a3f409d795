// Purpose: Access keys created by successful iam:CreateAccessKey calls that an IAM user made,
//          for any user (owner = the user the key was created for). Workshop question 5.
// Parameters:
//   $user: string — the calling IAM user: its name, or its ARN (the ARN tells apart users of the same name in two accounts)
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: accessKeyId, owner, eventTime, eventID, ownerArn
:param {user: 'example', incident: null};
MATCH (p:Principal)
WHERE p.type = 'IAMUser' AND (p.name = $user OR p.arn = $user OR p.id = $user)
MATCH (p)-[:MADE]->(e:Event)-[:CREATED]->(k:AccessKey)
WHERE $incident IS NULL OR $incident IN e.incidents
OPTIONAL MATCH (k)-[:BELONGS_TO]->(o:Principal)
RETURN k.accessKeyId AS accessKeyId, o.name AS owner, e.eventTime AS eventTime, e.eventID AS eventID,
       o.id AS ownerArn
ORDER BY eventTime, accessKeyId
