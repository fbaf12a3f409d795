// Purpose: signals-events.cypher's answer from the Tally nodes instead of every Event (use it only when
//          tallies-complete says they count every event): per credential and principal, the source addresses
//          with the first time each was seen, the actions refused for lack of permission, and the user agents of
//          attack tools, over every call the credential made (not only the findings), AWS's calls left out.
// Parameters:
//   $incident: string|null — only events loaded under this incident (null: every incident)
//   $denied: list<string> — error codes that mean the caller lacked permission (report/signals.DENIED_ERROR_CODES)
//   $tools: list<string> — lower-case fragments of attack tools' user agents (report/signals.ATTACK_TOOL_AGENTS)
// Returns: credential, principal, sourceIPAddress, deniedAction, userAgent, calls, firstEvent
// deniedAction is the action of refused calls (null otherwise); userAgent only an attack tool's (null otherwise):
// the rows stay few, one per credential, principal and address for most calls.
:param {incident: null, denied: ['AccessDenied', 'Client.UnauthorizedOperation'], tools: ['kali', 'pacu']};
MATCH (t:Tally)
WHERE NOT t.madeByAws AND ($incident IS NULL OR t.incident = $incident)
// The attack-tool test once per user agent, not once per tally: agents are long and few (0.48 s to 0.03 s on FalkorDB
// for the 27,000 tallies of a million events).
WITH t.userAgent AS agent, collect(t) AS tallies
WITH tallies, CASE WHEN any(tool IN $tools WHERE toLower(coalesce(agent, '')) CONTAINS tool) THEN agent ELSE null END AS agent
UNWIND tallies AS t
WITH t, agent, CASE WHEN t.errorCode IN $denied THEN t.action ELSE null END AS deniedAction,
     CASE WHEN $incident IS NULL THEN t.firstCount ELSE t.count END AS counted
RETURN t.credential AS credential, t.principal AS principal, t.sourceIPAddress AS sourceIPAddress, deniedAction,
       agent AS userAgent, sum(counted) AS calls, min(t.firstEvent) AS firstEvent
ORDER BY credential, principal, sourceIPAddress, deniedAction, userAgent
