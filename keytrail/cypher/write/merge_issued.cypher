// Purpose: Credential lineage: the key that signed a CreateAccessKey / GetSessionToken / AssumeRole...
//          call ISSUED the credential that call brought into being.
// Mode: write; idempotent.
// Parameters:
//   $rows: list<map{parent: string, child: string, eventID: string, eventTime: string, via: string, rule: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
UNWIND $rows AS row
MATCH (p:AccessKey {accessKeyId: row.parent})
MATCH (c:AccessKey {accessKeyId: row.child})
MERGE (p)-[r:ISSUED {eventID: row.eventID}]->(c)
SET r.eventTime = row.eventTime, r.via = row.via, r.rule = row.rule
RETURN count(*) AS landed
