// Purpose: Effects of successful events on console login profiles (created, updated, deleted):
//          (Event)-[:VERB {rule, eventID, eventTime, ...detail}]->(LoginProfile).
// Mode: write; idempotent. Failed events never reach this query.
// Parameters:
//   $rows: list<map{eventID: string, target: string, verb: CREATED|UPDATED|DELETED,
//                   rule: string, eventTime: string, detail: map}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Why FOREACH: relationship types cannot be parameters, and one static file per label keeps every
// statement reviewable and identical on Neo4j and FalkorDB.
UNWIND $rows AS row
MATCH (e:Event {eventID: row.eventID})
MATCH (l:LoginProfile {id: row.target})
FOREACH (_ IN CASE WHEN row.verb = 'CREATED' THEN [1] ELSE [] END |
  MERGE (e)-[x:CREATED]->(l) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'UPDATED' THEN [1] ELSE [] END |
  MERGE (e)-[x:UPDATED]->(l) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'DELETED' THEN [1] ELSE [] END |
  MERGE (e)-[x:DELETED]->(l) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
// Count the edges now present, not the rows: a verb with no branch above writes nothing and is caught.
WITH e, l, row
MATCH (e)-[x]->(l)
WHERE type(x) = row.verb
RETURN count(x) AS landed
