// Purpose: Whether the store's Tally nodes count every event: the events stored, and the sum of the tallies'
//          firstCount (each event counted once, under the incident it was first stored under). Equal: every event
//          was counted once, by a keytrail that keeps tallies, and `findings` and `stats` may count from them. Not
//          equal (a store loaded by an older keytrail, or data written by something else): they read the events.
//          Tallies counted by other fields than this keytrail's (keyVersion) are outdated: they read the events too.
// Parameters:
//   $keyVersion: int — the fields this keytrail counts tallies by (graph/transform.TALLY_KEY_VERSION)
// Returns: events, tallied, outdated
:param {keyVersion: 3};
MATCH (e:Event)
WITH count(e) AS events
OPTIONAL MATCH (t:Tally)
RETURN events, coalesce(sum(t.firstCount), 0) AS tallied,
       count(CASE WHEN t IS NOT NULL AND coalesce(t.keyVersion, 1) <> $keyVersion THEN 1 END) AS outdated
