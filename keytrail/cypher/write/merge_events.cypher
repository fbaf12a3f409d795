// Purpose: Store events with the action they invoked, their source IP and user agent.
// Mode: write; creates each event and its three edges. Only for events not yet stored: the loader asks which are
//       (find_existing_events) inside the same unit of writing, under the write lock, so no other load can store
//       one in between; the Event(eventID) uniqueness constraint refuses a second copy rather than merging it.
//       CREATE, not MERGE: a MERGE of an edge onto a hub (an Action called a million times) first looks for it.
// Parameters:
//   $rows: list<map{eventID: string, props: map, incident: string, action: string, eventSource: string,
//                   eventName: string, ip: string|null, agent: string|null}>
// Returns: landed — how many rows found their nodes and were written; the writer requires every row sent
// Relies on: uniqueness of Event(eventID), Action(name), SourceIP(address), UserAgent(value).
UNWIND $rows AS row
MERGE (a:Action {name: row.action})
ON CREATE SET a.eventSource = row.eventSource, a.eventName = row.eventName
CREATE (e:Event {eventID: row.eventID})
SET e += row.props, e.incidents = [row.incident]
CREATE (e)-[:INVOKED]->(a)
FOREACH (ip IN CASE WHEN row.ip IS NULL THEN [] ELSE [row.ip] END |
  MERGE (s:SourceIP {address: ip})
  CREATE (e)-[:FROM_IP]->(s))
FOREACH (agent IN CASE WHEN row.agent IS NULL THEN [] ELSE [row.agent] END |
  MERGE (u:UserAgent {value: agent})
  CREATE (e)-[:WITH_AGENT]->(u))
RETURN count(*) AS landed
