// Purpose: Effects of successful events on principals (users and roles created, deleted, assumed, given or stripped of policies):
//          (Event)-[:VERB {rule, eventID, eventTime, ...detail}]->(Principal).
// Mode: write; creates the edges: their event was created in the same unit of writing (merge_events), and the
//       rows come one per edge (transform.reduce_batch), so none exists yet. Failed events never reach this query.
// Parameters:
//   $rows: list<map{eventID: string, target: string, verb: CREATED|DELETED|ASSUMED|MODIFIED|ATTACHED_POLICY|DETACHED_POLICY|PUT_POLICY|DELETED_POLICY|ADDED_TO_GROUP|REMOVED_FROM_GROUP|OPENED,
//                   rule: string, eventTime: string, detail: map}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Why FOREACH: relationship types cannot be parameters, and one static file per label keeps every
// statement reviewable and identical on Neo4j and FalkorDB.
UNWIND $rows AS row
MATCH (e:Event {eventID: row.eventID})
MATCH (p:Principal {id: row.target})
FOREACH (_ IN CASE WHEN row.verb = 'CREATED' THEN [1] ELSE [] END |
  CREATE (e)-[x:CREATED]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'DELETED' THEN [1] ELSE [] END |
  CREATE (e)-[x:DELETED]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'ASSUMED' THEN [1] ELSE [] END |
  CREATE (e)-[x:ASSUMED]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'MODIFIED' THEN [1] ELSE [] END |
  CREATE (e)-[x:MODIFIED]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'ATTACHED_POLICY' THEN [1] ELSE [] END |
  CREATE (e)-[x:ATTACHED_POLICY]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'DETACHED_POLICY' THEN [1] ELSE [] END |
  CREATE (e)-[x:DETACHED_POLICY]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'PUT_POLICY' THEN [1] ELSE [] END |
  CREATE (e)-[x:PUT_POLICY]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'DELETED_POLICY' THEN [1] ELSE [] END |
  CREATE (e)-[x:DELETED_POLICY]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'ADDED_TO_GROUP' THEN [1] ELSE [] END |
  CREATE (e)-[x:ADDED_TO_GROUP]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'REMOVED_FROM_GROUP' THEN [1] ELSE [] END |
  CREATE (e)-[x:REMOVED_FROM_GROUP]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
FOREACH (_ IN CASE WHEN row.verb = 'OPENED' THEN [1] ELSE [] END |
  CREATE (e)-[x:OPENED]->(p) SET x.rule = row.rule, x.eventID = row.eventID, x.eventTime = row.eventTime SET x += row.detail)
// Count the rows a branch above wrote (a verb with no branch writes nothing and is caught). Not a MATCH of the
// edges written: after the FOREACHes Neo4j plans that as a scan of every relationship in the store.
RETURN sum(CASE WHEN row.verb IN ['CREATED', 'DELETED', 'ASSUMED', 'MODIFIED', 'ATTACHED_POLICY', 'DETACHED_POLICY', 'PUT_POLICY', 'DELETED_POLICY', 'ADDED_TO_GROUP', 'REMOVED_FROM_GROUP', 'OPENED'] THEN 1 ELSE 0 END) AS landed
