// Purpose: A role session belongs to its role; a federated user to the IAM user that minted it.
// Mode: write; idempotent.
// Parameters:
//   $rows: list<map{session: string, parent: string, eventID: string, rule: string}>
// Returns: nothing
UNWIND $rows AS row
MATCH (s:Principal {id: row.session})
MATCH (p:Principal {id: row.parent})
MERGE (s)-[r:SESSION_OF]->(p)
ON CREATE SET r.eventID = row.eventID, r.rule = row.rule
