// Purpose: Count calls into Tally nodes: one per incident, credential, principal, action, outcome, user agent,
//          whether AWS made the call for the principal, source address, error code, account and region (keyVersion 3),
//          with the count, how many of those events were first stored
//          under this incident (firstCount: the whole store counts each event once, in the incident it was first
//          stored under), and the first and last event times. `findings` and `stats` read these instead of every
//          Event; they trust them only while the tallies' firstCount adds up to the events stored.
// Mode: write; counts add up across loads: a stored event is never sent twice, and an event already stored is
//       counted again only under an incident it is newly tagged with, with firstCount 0 (Ingest).
// Parameters:
//   $rows: list<map{id: string, incident: string, credential: string|null, principal: string|null, action: string,
//                   succeeded: boolean, userAgent: string|null, madeByAws: boolean, sourceIPAddress: string|null,
//                   errorCode: string|null, account: string|null, region: string|null, keyVersion: int, count: int, firstCount: int,
//                   firstEvent: string, lastEvent: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MERGE (t:Tally {id: row.id})
ON CREATE SET t.incident = row.incident, t.credential = row.credential, t.principal = row.principal, t.action = row.action,
              t.succeeded = row.succeeded, t.userAgent = row.userAgent, t.madeByAws = row.madeByAws,
              t.sourceIPAddress = row.sourceIPAddress, t.errorCode = row.errorCode, t.account = row.account, t.region = row.region,
              t.keyVersion = row.keyVersion, t.count = 0,
              t.firstCount = 0, t.firstEvent = row.firstEvent, t.lastEvent = row.lastEvent
SET t.count = t.count + row.count,
    t.firstCount = t.firstCount + row.firstCount,
    t.firstEvent = CASE WHEN row.firstEvent < t.firstEvent THEN row.firstEvent ELSE t.firstEvent END,
    t.lastEvent = CASE WHEN row.lastEvent > t.lastEvent THEN row.lastEvent ELSE t.lastEvent END
RETURN count(*) AS landed
