// Purpose: incidents-scope.cypher's answer from the Tally nodes instead of every Event (use it only when
//          tallies-complete says they count every event): each tally counts calls of one credential, principal,
//          account and region under one incident.
// Parameters: none
// Returns: incident, accounts, regions, accessKeys, principals
MATCH (t:Tally)
WITH DISTINCT t.incident AS incident, t.account AS account
ORDER BY incident, account
WITH incident, collect(account) AS accounts
// Each list in its own pass, ordered before collect(), so that both stores list it alike; the lists of the
// passes before are carried as one map per incident.
WITH collect({incident: incident, accounts: accounts}) AS byAccount
MATCH (t:Tally)
WITH DISTINCT byAccount, t.incident AS incident, t.region AS region
ORDER BY incident, region
WITH byAccount, incident, collect(region) AS regions
WITH byAccount, collect({incident: incident, regions: regions}) AS byRegion
MATCH (t:Tally)
WITH byAccount, byRegion, t.incident AS incident, count(DISTINCT t.credential) AS accessKeys, count(DISTINCT t.principal) AS principals
RETURN incident, [x IN byAccount WHERE x.incident = incident][0].accounts AS accounts,
       [x IN byRegion WHERE x.incident = incident][0].regions AS regions, accessKeys, principals
ORDER BY incident
