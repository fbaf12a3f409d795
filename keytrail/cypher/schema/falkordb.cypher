// FalkorDB schema: an exact-match index for every MERGE key and lookup property.
// FalkorDB has no IF NOT EXISTS: the backend ignores 'already indexed' errors.
// Unique constraints are created by the backend with GRAPH.CONSTRAINT (not Cypher) on the first
// group of indexes, which FalkorDB requires to exist first.
// Statements are separated by semicolons.
CREATE INDEX FOR (n:Event) ON (n.eventID);
CREATE INDEX FOR (n:AccessKey) ON (n.accessKeyId);
CREATE INDEX FOR (n:Principal) ON (n.id);
CREATE INDEX FOR (n:LoginProfile) ON (n.id);
CREATE INDEX FOR (n:Action) ON (n.name);
CREATE INDEX FOR (n:Resource) ON (n.id);
CREATE INDEX FOR (n:SourceIP) ON (n.address);
CREATE INDEX FOR (n:UserAgent) ON (n.value);
CREATE INDEX FOR (n:Account) ON (n.accountId);
CREATE INDEX FOR (n:Incident) ON (n.name);
CREATE INDEX FOR (n:LoadRun) ON (n.runId);
CREATE INDEX FOR (n:LoadedObject) ON (n.uri);
CREATE INDEX FOR (n:WriteLock) ON (n.name);
CREATE INDEX FOR (n:Tally) ON (n.id);
CREATE INDEX FOR (n:Event) ON (n.eventTime);
CREATE INDEX FOR (n:Event) ON (n.eventName);
CREATE INDEX FOR (n:Event) ON (n.sharedEventID);
CREATE INDEX FOR (n:Principal) ON (n.name);
CREATE INDEX FOR (n:Resource) ON (n.name);
