// Purpose: Every node keytrail stored, with its labels and all its properties (a test's snapshot of the store).
// Parameters: none
// Returns: labels (list<string>), properties (map)
MATCH (n)
RETURN labels(n) AS labels, properties(n) AS properties
