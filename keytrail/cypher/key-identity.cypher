// Purpose: Whose key it is: the principal the access key belongs to, as seen in userIdentity
//          or named by the call that created it. Workshop question 3.
// Parameters:
//   $key: string — the access key id
// Returns: type, userName, arn, accountId, principalId, evidence, rule
:param {key: 'AKIAIOSFODNN7EXAMPLE'};
MATCH (k:AccessKey {accessKeyId: $key})-[b:BELONGS_TO]->(p:Principal)
RETURN p.type AS type, p.name AS userName, coalesce(p.arn, p.id) AS arn, p.accountId AS accountId,
       p.principalId AS principalId, b.eventID AS evidence, b.rule AS rule
ORDER BY type, userName
