// Purpose: Effects of successful events on other resources (created, deleted, modified, stopped, started, read, policies):
//          (Event)-[:VERB {rule, eventID, eventTime, ...detail}]->(Resource).
// Mode: write; creates the edges: their event was created in the same unit of writing (merge_events), and the
//       rows come one per edge (transform.reduce_batch), so none exists yet. Failed events never reach this query.
// Parameters:
//   $rows: list<map{eventID: string, target: string, verb: CREATED|DELETED|MODIFIED|STOPPED|STARTED|READ|ATTACHED_POLICY|DETACHED_POLICY|PUT_POLICY|DELETED_POLICY|OPENED,
//                   rule: string, eventTime: string, detail: map}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Why FOREACH: relationship types cannot be parameters, and one static file per label keeps every
// statement reviewable and identical on Neo4j and FalkorDB.
UNWIND $rows AS row
MATCH (e:Event {eventID: row.eventID})
MATCH (r:Resource {id: row.target})
FOREACH (_ IN CASE WHEN row.verb = 'CREATED' THEN [1] ELSE [] END |
  CREATE (e)-[x:CREATED]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'DELETED' THEN [1] ELSE [] END |
  CREATE (e)-[x:DELETED]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'MODIFIED' THEN [1] ELSE [] END |
  CREATE (e)-[x:MODIFIED]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'STOPPED' THEN [1] ELSE [] END |
  CREATE (e)-[x:STOPPED]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'STARTED' THEN [1] ELSE [] END |
  CREATE (e)-[x:STARTED]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'READ' THEN [1] ELSE [] END |
  CREATE (e)-[x:READ]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'ATTACHED_POLICY' THEN [1] ELSE [] END |
  CREATE (e)-[x:ATTACHED_POLICY]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'DETACHED_POLICY' THEN [1] ELSE [] END |
  CREATE (e)-[x:DETACHED_POLICY]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'PUT_POLICY' THEN [1] ELSE [] END |
  CREATE (e)-[x:PUT_POLICY]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'DELETED_POLICY' THEN [1] ELSE [] END |
  CREATE (e)-[x:DELETED_POLICY]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'OPENED' THEN [1] ELSE [] END |
  CREATE (e)-[x:OPENED]->(r) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
// Count the rows a branch above wrote (a verb with no branch writes nothing and is caught). Not a MATCH of the
// edges written: after the FOREACHes Neo4j plans that as a scan of every relationship in the store.
RETURN sum(CASE WHEN row.verb IN ['CREATED', 'DELETED', 'MODIFIED', 'STOPPED', 'STARTED', 'READ', 'ATTACHED_POLICY', 'DETACHED_POLICY', 'PUT_POLICY', 'DELETED_POLICY', 'OPENED'] THEN 1 ELSE 0 END) AS landed
