// Purpose: Every relationship, with its type, its properties and both ends' labels and properties (a test's snapshot).
// Parameters: none
// Returns: fromLabels (list<string>), from (map), type (string), properties (map), toLabels (list<string>), to (map)
MATCH (a)-[r]->(b)
RETURN labels(a) AS fromLabels, properties(a) AS from, type(r) AS type, properties(r) AS properties,
       labels(b) AS toLabels, properties(b) AS to
