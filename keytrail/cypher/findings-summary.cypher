// Purpose: The findings of the store (or one incident) counted in the store, per credential, principal, action and
//          outcome: who to start a blast radius from, without sending every event to Python. It keeps what
//          findings.cypher returns and report/findings.make_finding keeps, by the same rules: AWS services' own
//          calls and calls AWS made on a principal's behalf (invokedBy, source address AWS Internal or a service
//          host) left out; a routine action only with an attack tool's user agent. Actions whose calls are findings
//          or not by their request (Attach*Policy, Put*Policy: AWS's quarantine of an exposed key is not one) are
//          not passed here: report/findings.py reads those calls one by one with findings.cypher.
// Parameters:
//   $actions: list<string> — 'service:EventName' keys of the ATT&CK mapping (as Event.action) to count
//   $incident: string|null — only events loaded under this incident (null: every incident)
//   $routine: list<string> — actions that are findings only with a reason (report/findings.ROUTINE_ACTIONS)
//   $tools: list<string> — lower-case fragments of attack tools' user agents (report/signals.ATTACK_TOOL_AGENTS)
// Returns: credential, principal, action, succeeded, findings, firstEvent, lastEvent
:param {actions: ['iam:CreateAccessKey', 'iam:CreateUser'], incident: null, routine: ['sts:GetCallerIdentity'], tools: ['kali', 'pacu', 'trufflehog']};
MATCH (e:Event)
WHERE e.action IN $actions AND ($incident IS NULL OR $incident IN e.incidents) AND coalesce(e.userType, '') <> 'AWSService'
  AND coalesce(properties(e).invokedBy, '') = '' AND coalesce(e.sourceIPAddress, '') <> 'AWS Internal'
  AND NOT coalesce(e.sourceIPAddress, '') ENDS WITH '.amazonaws.com'
  AND (NOT e.action IN $routine OR any(tool IN $tools WHERE toLower(coalesce(e.userAgent, '')) CONTAINS tool))
OPTIONAL MATCH (k:AccessKey)-[:SIGNED]->(e)
OPTIONAL MATCH (p:Principal)-[:MADE]->(e)
WITH e, k, p
WHERE coalesce(p.type, '') <> 'AWSService'
RETURN k.accessKeyId AS credential, p.id AS principal, e.action AS action, e.succeeded AS succeeded, count(*) AS findings,
       min(e.eventTime) AS firstEvent, max(e.eventTime) AS lastEvent
ORDER BY credential, principal, action, succeeded
