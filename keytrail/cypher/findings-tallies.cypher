// Purpose: findings-summary.cypher's counts from the Tally nodes instead of every Event (use it only when
//          tallies-complete says they count every event): the calls of the given actions per credential,
//          principal, primary tactic and outcome, AWS's calls for a principal left out; with $byAgent also per user
//          agent, for the routine actions, which the caller keeps only with an attack tool's agent.
// Parameters:
//   $actions: list<string> — 'service:EventName' keys of the ATT&CK mapping (as Event.action) to count
//   $categories: map — each of those actions' primary tactic (report/attack.py), which the counts are grouped by
//   $incident: string|null — only events loaded under this incident (null: every incident)
//   $byAgent: boolean — count per user agent too (the userAgent column is null otherwise)
// Returns: credential, principal, category, succeeded, userAgent, findings, firstEvent, lastEvent
// The whole store counts each event once, in the incident it was first stored under (firstCount); its first and
// last times are those of the tallies that count any (every event of a tally is in one of them too).
:param {actions: ['iam:CreateAccessKey', 'iam:CreateUser'], categories: {`iam:CreateAccessKey`: 'persistence', `iam:CreateUser`: 'persistence'}, incident: null, byAgent: false};
MATCH (t:Tally)
WHERE t.action IN $actions AND NOT t.madeByAws AND (($incident IS NULL AND t.firstCount > 0) OR t.incident = $incident)
// Grouped by tactic, not action, and by agent only where asked: fewer and shorter rows to send (thousands at a
// million events), and most agents are long.
WITH t, $categories[t.action] AS category, CASE WHEN $byAgent THEN t.userAgent ELSE null END AS agent,
     CASE WHEN $incident IS NULL THEN t.firstCount ELSE t.count END AS calls
RETURN t.credential AS credential, t.principal AS principal, category, t.succeeded AS succeeded,
       agent AS userAgent, sum(calls) AS findings, min(t.firstEvent) AS firstEvent, max(t.lastEvent) AS lastEvent
ORDER BY credential, principal, category, succeeded, userAgent
