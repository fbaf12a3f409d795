// Purpose: What each incident's evidence covers, for `keytrail incidents`: the accounts (recipientAccountId) and
//          regions its events were recorded in, and how many access keys signed them and principals made them.
//          One pass over every Event; incidents-scope-tallied.cypher answers the same from the Tally nodes.
// Parameters: none
// Returns: incident, accounts, regions, accessKeys, principals
MATCH (e:Event)
UNWIND e.incidents AS incident
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
OPTIONAL MATCH (p:Principal)-[:MADE]->(e)
WITH DISTINCT incident, e.recipientAccountId AS account, e.awsRegion AS region, k.accessKeyId AS key, p.id AS principal
WITH incident, collect({account: account, region: region, key: key, principal: principal}) AS seen
// Each list ordered before collect(), so that both stores list them alike.
UNWIND seen AS s
WITH incident, seen, s.account AS account
ORDER BY incident, account
WITH incident, seen, collect(DISTINCT account) AS accounts
UNWIND seen AS s
WITH incident, seen, accounts, s.region AS region
ORDER BY incident, region
WITH incident, seen, accounts, collect(DISTINCT region) AS regions
UNWIND seen AS s
RETURN incident, accounts, regions, count(DISTINCT s.key) AS accessKeys, count(DISTINCT s.principal) AS principals
ORDER BY incident
