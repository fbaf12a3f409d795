// Purpose: Whether the store's Tally nodes count every event: the events stored, and the sum of the tallies'
//          firstCount (each event counted once, under the incident it was first stored under). Equal: every event
//          was counted once, by a keytrail that keeps tallies, and `findings` and `stats` may count from them. Not
//          equal (a store loaded by an older keytrail, or data written by something else): they read the events.
// Parameters: none
// Returns: events, tallied
MATCH (e:Event)
WITH count(e) AS events
OPTIONAL MATCH (t:Tally)
RETURN events, coalesce(sum(t.firstCount), 0) AS tallied
