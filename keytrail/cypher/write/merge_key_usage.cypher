// Purpose: Aggregate what each key called: USED for successful calls, ATTEMPTED for failed ones,
//          with count, first and last time, and as samples the ten smallest eventIDs, sorted (the same
//          whatever order the events were loaded in: each row's eventIDs are sorted too).
// Mode: write; counts add up across loads because a stored event is never sent twice.
// Parameters:
//   $rows: list<map{accessKeyId: string, action: string, succeeded: boolean, count: int,
//                   firstSeen: string, lastSeen: string, eventIDs: list<string>}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MATCH (k:AccessKey {accessKeyId: row.accessKeyId})
MATCH (a:Action {name: row.action})
FOREACH (_ IN CASE WHEN row.succeeded THEN [1] ELSE [] END |
  MERGE (k)-[u:USED]->(a)
  ON CREATE SET u.count = 0, u.eventIDs = [], u.firstSeen = row.firstSeen, u.lastSeen = row.lastSeen, u.rule = 'userIdentity.accessKeyId'
  SET u.count = u.count + row.count,
      u.eventIDs = reduce(ids = u.eventIDs, id IN row.eventIDs |
        CASE WHEN id IN ids THEN ids ELSE [x IN ids WHERE x < id] + [id] + [x IN ids WHERE x > id] END)[0..10],
      u.firstSeen = CASE WHEN row.firstSeen < u.firstSeen THEN row.firstSeen ELSE u.firstSeen END,
      u.lastSeen = CASE WHEN row.lastSeen > u.lastSeen THEN row.lastSeen ELSE u.lastSeen END)
FOREACH (_ IN CASE WHEN row.succeeded THEN [] ELSE [1] END |
  MERGE (k)-[t:ATTEMPTED]->(a)
  ON CREATE SET t.count = 0, t.eventIDs = [], t.firstSeen = row.firstSeen, t.lastSeen = row.lastSeen, t.rule = 'userIdentity.accessKeyId+failed'
  SET t.count = t.count + row.count,
      t.eventIDs = reduce(ids = t.eventIDs, id IN row.eventIDs |
        CASE WHEN id IN ids THEN ids ELSE [x IN ids WHERE x < id] + [id] + [x IN ids WHERE x > id] END)[0..10],
      t.firstSeen = CASE WHEN row.firstSeen < t.firstSeen THEN row.firstSeen ELSE t.firstSeen END,
      t.lastSeen = CASE WHEN row.lastSeen > t.lastSeen THEN row.lastSeen ELSE t.lastSeen END)
RETURN count(*) AS landed
