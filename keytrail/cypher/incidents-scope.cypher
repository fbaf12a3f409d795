// Purpose: What each incident's evidence covers, for `keytrail incidents`: the accounts (recipientAccountId) and
//          regions its events were recorded in, and how many access keys signed them and principals made them.
//          One pass over every Event; incidents-scope-tallied.cypher answers the same from the Tally nodes.
// Parameters: none
// Returns: incident, accounts, regions, accessKeys, principals
MATCH (e:Event)
UNWIND e.incidents AS incident
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
OPTIONAL MATCH (p:Principal)-[:MADE]->(e)
RETURN incident, collect(DISTINCT e.recipientAccountId) AS accounts, collect(DISTINCT e.awsRegion) AS regions,
       count(DISTINCT k.accessKeyId) AS accessKeys, count(DISTINCT p.id) AS principals
ORDER BY incident
