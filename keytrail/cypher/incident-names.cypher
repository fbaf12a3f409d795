// Purpose: The names of the incidents loaded into the store (cheap: reads no event), to check an --incident option.
// Parameters: none
// Returns: incident
MATCH (i:Incident)
RETURN i.name AS incident
ORDER BY incident
