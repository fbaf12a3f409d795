// Purpose: What each incident's evidence covers, for `keytrail incidents`: the accounts (recipientAccountId) and
//          regions its events were recorded in, and how many access keys signed them and principals made them.
//          Three passes over every Event; incidents-scope-tallied.cypher answers the same from the Tally nodes.
// Parameters: none
// Returns: incident, accounts, regions, accessKeys, principals
MATCH (e:Event)
UNWIND e.incidents AS incident
WITH DISTINCT incident, e.recipientAccountId AS account
ORDER BY incident, account
WITH incident, collect(account) AS accounts
// Each list in its own pass, ordered before collect(), so that both stores list it alike; the lists of the
// passes before are carried as one map per incident.
WITH collect({incident: incident, accounts: accounts}) AS byAccount
MATCH (e:Event)
UNWIND e.incidents AS incident
WITH DISTINCT byAccount, incident, e.awsRegion AS region
ORDER BY incident, region
WITH byAccount, incident, collect(region) AS regions
WITH byAccount, collect({incident: incident, regions: regions}) AS byRegion
MATCH (e:Event)
UNWIND e.incidents AS incident
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
OPTIONAL MATCH (p:Principal)-[:MADE]->(e)
WITH byAccount, byRegion, incident, count(DISTINCT k.accessKeyId) AS accessKeys, count(DISTINCT p.id) AS principals
RETURN incident, [x IN byAccount WHERE x.incident = incident][0].accounts AS accounts,
       [x IN byRegion WHERE x.incident = incident][0].regions AS regions, accessKeys, principals
ORDER BY incident
