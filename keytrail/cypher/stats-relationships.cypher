// Purpose: How many relationships of each type the store holds.
// Parameters: none
// Returns: type, count
MATCH ()-[r]->()
RETURN type(r) AS type, count(r) AS count
ORDER BY type
