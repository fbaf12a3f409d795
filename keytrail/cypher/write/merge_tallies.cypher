// Purpose: Count calls into Tally nodes: one per incident (and one with no incident, for the whole store) and
//          credential, principal, action, outcome, user agent and whether AWS made the call for the principal,
//          with the count and the first and last event times. `findings` and `stats` read these instead of every
//          Event; they trust them only while the whole-store tallies add up to the events stored.
// Mode: write; counts add up across loads: a stored event is never sent twice, and an event already stored is
//       counted again only under an incident it is newly tagged with (Ingest).
// Parameters:
//   $rows: list<map{id: string, incident: string|null, credential: string|null, principal: string|null,
//                   action: string, succeeded: boolean, userAgent: string|null, madeByAws: boolean, count: int,
//                   firstEvent: string, lastEvent: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MERGE (t:Tally {id: row.id})
ON CREATE SET t.incident = row.incident, t.credential = row.credential, t.principal = row.principal, t.action = row.action,
              t.succeeded = row.succeeded, t.userAgent = row.userAgent, t.madeByAws = row.madeByAws, t.count = 0,
              t.firstEvent = row.firstEvent, t.lastEvent = row.lastEvent
SET t.count = t.count + row.count,
    t.firstEvent = CASE WHEN row.firstEvent < t.firstEvent THEN row.firstEvent ELSE t.firstEvent END,
    t.lastEvent = CASE WHEN row.lastEvent > t.lastEvent THEN row.lastEvent ELSE t.lastEvent END
RETURN count(*) AS landed
