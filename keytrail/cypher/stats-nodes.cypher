// Purpose: How many nodes of each of keytrail's labels the store holds: one row per label, in the order of the
//          branches below. Each branch is the bare count both stores answer from their counters without reading
//          a node (a column naming the label would make FalkorDB count node by node); keytrail stats runs the
//          branches one by one and names each row by its branch's label.
// Parameters: none
// Returns: count
MATCH (n:AccessKey) RETURN count(n) AS count
UNION ALL
MATCH (n:Account) RETURN count(n) AS count
UNION ALL
MATCH (n:Action) RETURN count(n) AS count
UNION ALL
MATCH (n:Event) RETURN count(n) AS count
UNION ALL
MATCH (n:Incident) RETURN count(n) AS count
UNION ALL
MATCH (n:LoadRun) RETURN count(n) AS count
UNION ALL
MATCH (n:LoadedObject) RETURN count(n) AS count
UNION ALL
MATCH (n:LoginProfile) RETURN count(n) AS count
UNION ALL
MATCH (n:Principal) RETURN count(n) AS count
UNION ALL
MATCH (n:Resource) RETURN count(n) AS count
UNION ALL
MATCH (n:SourceIP) RETURN count(n) AS count
UNION ALL
MATCH (n:Tally) RETURN count(n) AS count
UNION ALL
MATCH (n:UserAgent) RETURN count(n) AS count
UNION ALL
MATCH (n:WriteLock) RETURN count(n) AS count
