// Purpose: Whether the evidence reaches a time: found is 1 when an event at or after $since exists (in the incident),
//          else 0. The end of the evidence (what a blast radius asks "still alive?" at) is found by a galloping search
//          over this index range seek: a max() over every event would scan them all.
// Parameters:
//   $since: string — ISO time
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: found
:param {since: '', incident: null};
MATCH (e:Event)
WHERE e.eventTime >= $since AND ($incident IS NULL OR $incident IN e.incidents)
WITH e LIMIT 1
RETURN count(e) AS found
