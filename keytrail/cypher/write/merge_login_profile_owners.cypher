// Purpose: A login profile belongs to its IAM user.
// Mode: write; idempotent.
// Parameters:
//   $rows: list<map{profile: string, principal: string, eventID: string, rule: string}>
// Returns: nothing
UNWIND $rows AS row
MATCH (l:LoginProfile {id: row.profile})
MATCH (p:Principal {id: row.principal})
MERGE (l)-[b:BELONGS_TO]->(p)
ON CREATE SET b.eventID = row.eventID, b.rule = row.rule
