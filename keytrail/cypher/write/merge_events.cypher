// Purpose: Store events with the action they invoked, their source IP and user agent.
// Mode: write; idempotent on eventID (the loader only sends events not yet stored).
// Parameters:
//   $rows: list<map{eventID: string, props: map, incident: string, action: string, eventSource: string,
//                   eventName: string, ip: string|null, agent: string|null}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Relies on: uniqueness of Event(eventID), Action(name), SourceIP(address), UserAgent(value).
UNWIND $rows AS row
MERGE (e:Event {eventID: row.eventID})
SET e += row.props, e.incidents = [row.incident]
MERGE (a:Action {name: row.action})
ON CREATE SET a.eventSource = row.eventSource, a.eventName = row.eventName
MERGE (e)-[:INVOKED]->(a)
FOREACH (ip IN CASE WHEN row.ip IS NULL THEN [] ELSE [row.ip] END |
  MERGE (s:SourceIP {address: ip})
  MERGE (e)-[:FROM_IP]->(s))
FOREACH (agent IN CASE WHEN row.agent IS NULL THEN [] ELSE [row.agent] END |
  MERGE (u:UserAgent {value: agent})
  MERGE (e)-[:WITH_AGENT]->(u))
RETURN count(*) AS landed
