// Purpose: Store principals (users, roles, sessions, root, services...) and their accounts.
// Mode: write; idempotent. Known values are never overwritten with unknowns.
// Parameters:
//   $rows: list<map{id: string, type: string, name: string, accountId?: string, arn?: string,
//                   principalId?: string, roleName?: string, path?: string}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Relies on: uniqueness of Principal(id), Account(accountId).
UNWIND $rows AS row
MERGE (p:Principal {id: row.id})
SET p.type = coalesce(row.type, p.type),
    p.name = coalesce(row.name, p.name),
    p.arn = coalesce(row.arn, p.arn),
    p.accountId = coalesce(row.accountId, p.accountId),
    p.principalId = coalesce(row.principalId, p.principalId),
    p.roleName = coalesce(row.roleName, p.roleName),
    p.path = coalesce(row.path, p.path)
FOREACH (account IN CASE WHEN row.accountId IS NULL THEN [] ELSE [row.accountId] END |
  MERGE (a:Account {accountId: account})
  MERGE (p)-[:IN_ACCOUNT]->(a))
RETURN count(*) AS landed
