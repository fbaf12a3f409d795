// Purpose: incidents-scope.cypher's answer from the Tally nodes instead of every Event (use it only when
//          tallies-complete says they count every event): each tally counts calls of one credential, principal,
//          account and region under one incident.
// Parameters: none
// Returns: incident, accounts, regions, accessKeys, principals
MATCH (t:Tally)
RETURN t.incident AS incident, collect(DISTINCT t.account) AS accounts, collect(DISTINCT t.region) AS regions,
       count(DISTINCT t.credential) AS accessKeys, count(DISTINCT t.principal) AS principals
ORDER BY incident
