// Neo4j schema: uniqueness constraints back every MERGE key (Community edition has these),
// plus lookup indexes for the analysis queries. Applied before every load; each statement is idempotent.
// Statements are separated by semicolons.
CREATE CONSTRAINT event_event_id_unique IF NOT EXISTS FOR (n:Event) REQUIRE n.eventID IS UNIQUE;
CREATE CONSTRAINT access_key_access_key_id_unique IF NOT EXISTS FOR (n:AccessKey) REQUIRE n.accessKeyId IS UNIQUE;
CREATE CONSTRAINT principal_id_unique IF NOT EXISTS FOR (n:Principal) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT login_profile_id_unique IF NOT EXISTS FOR (n:LoginProfile) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT action_name_unique IF NOT EXISTS FOR (n:Action) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT resource_id_unique IF NOT EXISTS FOR (n:Resource) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT source_i_p_address_unique IF NOT EXISTS FOR (n:SourceIP) REQUIRE n.address IS UNIQUE;
CREATE CONSTRAINT user_agent_value_unique IF NOT EXISTS FOR (n:UserAgent) REQUIRE n.value IS UNIQUE;
CREATE CONSTRAINT account_account_id_unique IF NOT EXISTS FOR (n:Account) REQUIRE n.accountId IS UNIQUE;
CREATE CONSTRAINT incident_name_unique IF NOT EXISTS FOR (n:Incident) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT load_run_run_id_unique IF NOT EXISTS FOR (n:LoadRun) REQUIRE n.runId IS UNIQUE;
CREATE CONSTRAINT loaded_object_uri_unique IF NOT EXISTS FOR (n:LoadedObject) REQUIRE n.uri IS UNIQUE;
CREATE CONSTRAINT write_lock_name_unique IF NOT EXISTS FOR (n:WriteLock) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT tally_id_unique IF NOT EXISTS FOR (n:Tally) REQUIRE n.id IS UNIQUE;
CREATE INDEX event_event_time IF NOT EXISTS FOR (n:Event) ON (n.eventTime);
CREATE INDEX event_event_name IF NOT EXISTS FOR (n:Event) ON (n.eventName);
CREATE INDEX event_shared_event_id IF NOT EXISTS FOR (n:Event) ON (n.sharedEventID);
CREATE INDEX principal_name IF NOT EXISTS FOR (n:Principal) ON (n.name);
CREATE INDEX resource_name IF NOT EXISTS FOR (n:Resource) ON (n.name);
