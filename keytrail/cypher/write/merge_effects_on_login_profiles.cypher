// Purpose: Effects of successful events on console login profiles (created, updated, deleted):
//          (Event)-[:VERB {rule, eventID, eventTime, ...detail}]->(LoginProfile).
// Mode: write; creates the edges: their event was created in the same unit of writing (merge_events), and the
//       rows come one per edge (transform.reduce_batch), so none exists yet. Failed events never reach this query.
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
  CREATE (e)-[x:CREATED]->(l) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'UPDATED' THEN [1] ELSE [] END |
  CREATE (e)-[x:UPDATED]->(l) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'DELETED' THEN [1] ELSE [] END |
  CREATE (e)-[x:DELETED]->(l) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
// Count the rows a branch above wrote (a verb with no branch writes nothing and is caught). Not a MATCH of the
// edges written: after the FOREACHes Neo4j plans that as a scan of every relationship in the store.
RETURN sum(CASE WHEN row.verb IN ['CREATED', 'UPDATED', 'DELETED'] THEN 1 ELSE 0 END) AS landed
