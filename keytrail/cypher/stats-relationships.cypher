// Purpose: How many relationships of each of keytrail's types the store holds: one row per type, in the order of
//          the branches below. Each branch is the bare count both stores answer from their counters without
//          reading a relationship (a column naming the type would make FalkorDB walk every relationship of it);
//          keytrail stats runs the branches one by one and names each row by its branch's type.
// Parameters: none
// Returns: count
MATCH ()-[r:ACTIVATED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:ADDED_TO_GROUP]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:ASSUMED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:ATTACHED_POLICY]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:ATTEMPTED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:BELONGS_TO]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:CREATED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:DEACTIVATED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:DELETED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:DELETED_POLICY]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:DETACHED_POLICY]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:FOR_INCIDENT]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:FROM_IP]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:INVOKED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:IN_ACCOUNT]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:ISSUED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:MADE]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:MINTED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:MODIFIED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:OPENED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:PUT_POLICY]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:READ]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:REMOVED_FROM_GROUP]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:SESSION_OF]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:SIGNED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:STARTED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:STOPPED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:UPDATED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:USED]->() RETURN count(r) AS count
UNION ALL
MATCH ()-[r:WITH_AGENT]->() RETURN count(r) AS count
