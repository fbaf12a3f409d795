// Purpose: A key belongs to its principal: seen in userIdentity, or named by the call that made it.
// Mode: write; idempotent. The first evidence is kept (eventID, rule, firstSeen).
// Parameters:
//   $rows: list<map{accessKeyId: string, principal: string, eventID: string, eventTime: string, rule: string}>
// Returns: nothing
UNWIND $rows AS row
MATCH (k:AccessKey {accessKeyId: row.accessKeyId})
MATCH (p:Principal {id: row.principal})
MERGE (k)-[b:BELONGS_TO]->(p)
ON CREATE SET b.eventID = row.eventID, b.rule = row.rule, b.firstSeen = row.eventTime
