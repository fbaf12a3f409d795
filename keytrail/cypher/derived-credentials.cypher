// Purpose: Every credential issued from an access key, transitively and in time order: access keys it created
//          (iam:CreateAccessKey, for any user) and temporary keys minted with it (sts:GetSessionToken,
//          GetFederationToken, AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity), then what those issued,
//          role chains and other accounts included. A hop counts only if it is no earlier than the hop before it
//          (a credential counts only from the event that made it) and no earlier than $since. twinEventID is the
//          same call as logged by the other account (same sharedEventID), when both accounts' logs are loaded.
// Parameters:
//   $key: string — the access key id to start from
//   $since: string — ISO time from which the key counts ('' for all of its events)
//   $incident: string|null — only events loaded under this incident (null: every incident)
// Returns: credential, parent, depth, via, eventID, eventTime, kind, expiration, owner, ownerName, ownerType, ownerArn, account, sharedEventID, twinEventID, twinAccount
:param {key: 'AKIAIOSFODNN7EXAMPLE', since: '', incident: null};
MATCH p = (root:AccessKey {accessKeyId: $key})-[:ISSUED*1..12]->(k:AccessKey)
WITH p, k, relationships(p) AS rs
WHERE rs[0].eventTime >= $since
  AND all(i IN range(0, size(rs) - 2) WHERE rs[i].eventTime <= rs[i + 1].eventTime)
WITH k, rs[size(rs) - 1] AS r, size(rs) AS depth, nodes(p)[size(rs) - 1] AS parent
MATCH (e:Event {eventID: r.eventID})
WHERE $incident IS NULL OR $incident IN e.incidents
OPTIONAL MATCH (k)-[:BELONGS_TO]->(candidate:Principal)
WITH k, r, depth, parent, e, min(candidate.id) AS ownerId
OPTIONAL MATCH (o:Principal {id: ownerId})
// An event without sharedEventID looks up '', which no event carries: the index answers, nothing matches.
OPTIONAL MATCH (t:Event {sharedEventID: coalesce(e.sharedEventID, '')})
WHERE t.eventID <> e.eventID
WITH k, r, depth, parent, e, o, min(t.eventID) AS twinEventID
OPTIONAL MATCH (twin:Event {eventID: twinEventID})
RETURN k.accessKeyId AS credential, parent.accessKeyId AS parent, depth, r.via AS via, e.eventID AS eventID,
       e.eventTime AS eventTime, k.kind AS kind, k.expiration AS expiration, o.id AS owner, o.name AS ownerName,
       o.type AS ownerType, coalesce(o.arn, o.id) AS ownerArn, o.accountId AS account, e.sharedEventID AS sharedEventID,
       twinEventID, twin.recipientAccountId AS twinAccount
ORDER BY depth, eventTime, credential
