// Purpose: What, beyond the names of its calls, says a credential is in an attacker's hands (report/signals.py
//          reads it): per credential and principal, the source addresses with the first time each was seen, the
//          actions refused for lack of permission, and the user agents of attack tools, over every call the
//          credential made (not only the findings). AWS's calls for a principal are left out by the rules of
//          findings-summary.cypher. signals-tallies.cypher answers the same from the Tally nodes.
// Parameters:
//   $incident: string|null — only events loaded under this incident (null: every incident)
//   $denied: list<string> — error codes that mean the caller lacked permission (report/signals.DENIED_ERROR_CODES)
//   $tools: list<string> — lower-case fragments of attack tools' user agents (report/signals.ATTACK_TOOL_AGENTS)
// Returns: credential, principal, sourceIPAddress, deniedAction, userAgent, calls, firstEvent
:param {incident: null, denied: ['AccessDenied', 'Client.UnauthorizedOperation'], tools: ['kali', 'pacu']};
MATCH (e:Event)
WHERE ($incident IS NULL OR $incident IN e.incidents) AND coalesce(e.userType, '') <> 'AWSService'
  AND coalesce(properties(e).invokedBy, '') = '' AND coalesce(e.sourceIPAddress, '') <> 'AWS Internal'
  AND NOT coalesce(e.sourceIPAddress, '') ENDS WITH '.amazonaws.com'
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
OPTIONAL MATCH (p:Principal)-[:MADE]->(e)
WITH e, k, p
WHERE coalesce(p.type, '') <> 'AWSService'
WITH e, k, p, CASE WHEN e.errorCode IN $denied THEN e.action ELSE null END AS deniedAction,
     CASE WHEN any(tool IN $tools WHERE toLower(coalesce(e.userAgent, '')) CONTAINS tool) THEN e.userAgent ELSE null END AS agent
RETURN k.accessKeyId AS credential, p.id AS principal, e.sourceIPAddress AS sourceIPAddress, deniedAction,
       agent AS userAgent, count(*) AS calls, min(e.eventTime) AS firstEvent
ORDER BY credential, principal, sourceIPAddress, deniedAction, userAgent
