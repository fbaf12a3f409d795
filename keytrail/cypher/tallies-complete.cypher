// Purpose: Whether the store's Tally nodes count every event: the events stored, and the sum of the whole store's
//          tallies (Tally nodes with no incident). Equal: every event was counted once, by a keytrail that keeps
//          tallies, and `findings` and `stats` may count from them. Not equal (a store loaded by an older keytrail,
//          or data written by something else): they read the events instead.
// Parameters: none
// Returns: events, tallied
MATCH (e:Event)
WITH count(e) AS events
OPTIONAL MATCH (t:Tally)
WHERE t.incident IS NULL
RETURN events, coalesce(sum(t.count), 0) AS tallied
