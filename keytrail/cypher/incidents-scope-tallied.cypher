// Purpose: incidents-scope.cypher's answer from the Tally nodes instead of every Event (use it only when
//          tallies-complete says they count every event): each tally counts calls of one credential, principal,
//          account and region under one incident.
// Parameters: none
// Returns: incident, accounts, regions, accessKeys, principals
MATCH (t:Tally)
WITH DISTINCT t.incident AS incident, t.account AS account, t.region AS region, t.credential AS key, t.principal AS principal
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
