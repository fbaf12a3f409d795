// Purpose: signals-events.cypher's answer from the Tally nodes instead of every Event (use it only when
//          tallies-complete says they count every event): per credential and principal, the source addresses
//          with the first time each was seen, the actions refused for lack of permission, and the user agents of
//          attack tools, over every call the credential made (not only the findings), AWS's calls left out.
// Parameters:
//   $incident: string|null — only events loaded under this incident (null: every incident)
//   $denied: list<string> — error codes that mean the caller lacked permission (report/signals.DENIED_ERROR_CODES)
//   $tools: list<string> — lower-case fragments of attack tools' user agents (report/findings.ATTACK_TOOL_AGENTS)
// Returns: credential, principal, sourceIPAddress, deniedAction, userAgent, calls, firstEvent
// deniedAction is the action of refused calls (null otherwise); userAgent only an attack tool's (null otherwise):
// the rows stay few, one per credential, principal and address for most calls.
:param {incident: null, denied: ['AccessDenied', 'Client.UnauthorizedOperation'], tools: ['kali', 'pacu']};
MATCH (t:Tally)
WHERE NOT t.madeByAws AND ($incident IS NULL OR t.incident = $incident)
WITH t, CASE WHEN t.errorCode IN $denied THEN t.action ELSE null END AS deniedAction,
     CASE WHEN any(tool IN $tools WHERE toLower(coalesce(t.userAgent, '')) CONTAINS tool) THEN t.userAgent ELSE null END AS agent,
     CASE WHEN $incident IS NULL THEN t.firstCount ELSE t.count END AS counted
RETURN t.credential AS credential, t.principal AS principal, t.sourceIPAddress AS sourceIPAddress, deniedAction,
       agent AS userAgent, sum(counted) AS calls, min(t.firstEvent) AS firstEvent
ORDER BY credential, principal, sourceIPAddress, deniedAction, userAgent
