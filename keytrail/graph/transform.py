"""CloudTrail records to node and relationship rows: pure functions, no database.

What each event *means* is decided by the rule modules in ``keytrail/rules`` (one per
AWS service); this module turns their :class:`~keytrail.rules.Interpretation` of a record
into rows for the named write queries in ``keytrail/cypher/write``. Every derived
relationship carries the ``eventID`` and the ``rule`` that produced it (PMapper's habit),
so a responder can always ask "why is this edge here?". Principals' canonical ids are
described in :mod:`keytrail.model.identity`.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from keytrail.graph.effects import EFFECT_QUERY, relationship_type
from keytrail.graph.keys import bound_keys
from keytrail.model.fingerprint import Kept, keep
from keytrail.model.identity import key_kind, made_by_aws, principal_of_identity, session_issuer, valid_key
from keytrail.model.secrets import redact_tokens
from keytrail.model.time import event_time_of, normalise_time
from keytrail.rules import interpret
from keytrail.rules.base import json_text, parse_json, read_only

#: Write queries in the order a batch must run them: nodes before the relationships between them.
WRITE_ORDER: tuple[str, ...] = (
    "merge_events",
    "merge_principals",
    "merge_access_keys",
    "merge_login_profiles",
    "merge_resources",
    "merge_made",
    "merge_signed",
    "merge_key_owners",
    "merge_login_profile_owners",
    "merge_sessions",
    "merge_issued",
    "merge_key_usage",
    "merge_effects_on_access_keys",
    "merge_effects_on_principals",
    "merge_effects_on_login_profiles",
    "merge_effects_on_resources",
    "merge_tallies",
)


def _response(record: dict[str, Any]) -> Any:
    value = record.get("responseElements")
    if isinstance(value, str):
        parsed = _exact_json(value)
        return parsed if isinstance(parsed, dict) else value
    return value


def _is_true(value: Any) -> bool:
    # Not str(value): this field is not checked, and the text of a value nested a thousand levels deep cannot be made.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _not_a_number(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _exact_json(text: str) -> Any:
    """JSON text as its value, integers of any size kept (orjson reads those beyond 64 bits as floats, changing them).

    The value is written back as the Event's text, so it must be the value the text held.
    """
    try:
        return json.loads(text, parse_constant=_not_a_number)
    except (ValueError, RecursionError):
        return parse_json(text)


# -- Rows ----------------------------------------------------------------------------


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """Drop nulls: a null in a SET map removes a property on one backend and fails on another."""
    return {k: v for k, v in row.items() if v is not None}


def key_caption(access_key_id: str) -> str:
    """What Neo4j Browser's style shows on a key: its prefix and last six characters (``AKIA…KTDGC5``), which tell
    keys of one account apart where the whole id would be cut to the same first letters."""
    return f"{access_key_id[:4]}…{access_key_id[-6:]}" if len(access_key_id) > 10 else access_key_id


def key_row(access_key_id: str, props: dict[str, Any]) -> dict[str, Any]:
    """One ``merge_access_keys`` row."""
    return {"accessKeyId": access_key_id, "kind": key_kind(access_key_id), "caption": key_caption(access_key_id), "props": props}


def event_rows(record: dict[str, Any], *, origin: str, index: int, incident: str, run_id: str, kept: Kept | None = None) -> dict[str, list[dict[str, Any]]]:
    """All rows one (already checked) record contributes, keyed by write query name.

    ``kept`` is the record's :func:`~keytrail.model.fingerprint.keep`, when the caller has it already. Keys too long
    for a store to index are bounded (:mod:`keytrail.graph.keys`).
    """
    return bound_keys(_event_rows(record, origin=origin, index=index, incident=incident, run_id=run_id, kept=kept))


def _event_rows(record: dict[str, Any], *, origin: str, index: int, incident: str, run_id: str, kept: Kept | None) -> dict[str, list[dict[str, Any]]]:
    kept = kept or keep(record)
    # A plain record's parts are shallow and hold no token; a responseElements given as text is parsed here, and may hold either.
    plain = kept.plain
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in WRITE_ORDER}
    identity = record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else None
    actor = principal_of_identity(identity, record.get("awsRegion"))
    found = event_time_of(record)
    assert found is not None  # check_record guarantees it
    event_time, ts = normalise_time(found[0])
    event_id = record["eventID"]
    error = record.get("errorCode")
    response = _response(record)
    console_failed = record["eventName"] == "ConsoleLogin" and isinstance(response, dict) and response.get("ConsoleLogin") == "Failure"
    succeeded = not error and not console_failed
    action = f"{record['eventSource'].split('.', 1)[0]}:{record['eventName']}"
    key = valid_key((identity or {}).get("accessKeyId"))
    meaning = interpret(record, actor)
    first_effect = meaning.effects[0] if meaning.effects else None
    target = (first_effect.key or first_effect.node.get("intendedOwner")) if first_effect else None

    props = _clean(
        {
            "eventTime": event_time,
            "ts": ts,
            "eventTimeField": None if found[1] == "eventTime" else found[1],
            "eventName": record["eventName"],
            "eventSource": record["eventSource"],
            "action": action,
            "awsRegion": record.get("awsRegion"),
            "sourceIPAddress": record.get("sourceIPAddress"),
            "userAgent": record.get("userAgent"),
            "errorCode": error,
            "errorMessage": record.get("errorMessage"),
            "succeeded": succeeded,
            "readOnly": read_only(record),
            "eventType": record.get("eventType"),
            "eventCategory": record.get("eventCategory"),
            "recipientAccountId": record.get("recipientAccountId"),
            "sharedEventID": record.get("sharedEventID"),
            "requestID": record.get("requestID"),
            "userType": (identity or {}).get("type"),
            # A service acting for the principal names itself here: such a call is not the principal's own.
            "invokedBy": (identity or {}).get("invokedBy") or None,
            "principal": actor["id"] if actor else None,
            "accessKeyId": (identity or {}).get("accessKeyId") or None,
            # Marks the temporary keys of a console session, so a ConsoleLogin can be followed to them.
            "sessionCredentialFromConsole": True if _is_true(record.get("sessionCredentialFromConsole")) else None,
            "verb": first_effect.verb if first_effect else None,
            "target": target or None,
            "targetType": ("Principal" if not first_effect.key else first_effect.label) if first_effect and target else None,
            "requestParameters": json_text(record.get("requestParameters"), shallow=plain),
            "responseElements": json_text(response, shallow=True)
            if plain and response is record.get("responseElements")
            else json_text(redact_tokens(response)),
            "additionalEventData": json_text(record.get("additionalEventData"), shallow=plain),
            "resources": json_text(record.get("resources"), shallow=plain),
            "source": origin,
            "sourceIndex": index,
            "loadRunId": run_id,
            # The record itself, every field as read (tokens redacted), and its fingerprint for conflicts.
            "raw": kept.text,
            "recordSha256": kept.sha256,
        }
    )
    ip = record.get("sourceIPAddress") or None
    agent = record.get("userAgent") or None
    rows["merge_events"].append(
        {
            "eventID": event_id,
            "props": props,
            "incident": incident,
            "action": action,
            "eventSource": record["eventSource"],
            "eventName": record["eventName"],
            "ip": ip,
            "agent": agent,
        }
    )

    aws = made_by_aws(props.get("userType"), props.get("invokedBy"), props.get("sourceIPAddress")) is not None or (actor or {}).get("type") == "AWSService"
    call = {
        "credential": key,
        "principal": actor["id"] if actor else None,
        "action": action,
        "succeeded": succeeded,
        "userAgent": props.get("userAgent"),
        "madeByAws": aws,
        "sourceIPAddress": props.get("sourceIPAddress"),
        "errorCode": props.get("errorCode"),
        "account": props.get("recipientAccountId"),
        "region": props.get("awsRegion"),
    }
    rows["merge_tallies"].append(tally_row(incident, call, event_time))

    principals = rows["merge_principals"]
    if actor is not None:
        principals.append(_clean(actor))
        rows["merge_made"].append({"eventID": event_id, "principal": actor["id"]})
    issuer = session_issuer(identity)
    if actor is not None and issuer is not None and actor["id"] != issuer["id"]:
        principals.append(_clean(issuer))
        rows["merge_sessions"].append(
            {"session": actor["id"], "parent": issuer["id"], "eventID": event_id, "eventTime": event_time, "rule": "userIdentity.sessionIssuer"}
        )
    if key is not None:
        rows["merge_access_keys"].append(key_row(key, {}))
        rows["merge_signed"].append({"eventID": event_id, "accessKeyId": key})
        if actor is not None and actor.get("type") not in ("AWSService", "Anonymous"):
            rows["merge_key_owners"].append(
                {"accessKeyId": key, "principal": actor["id"], "eventID": event_id, "eventTime": event_time, "rule": "userIdentity.accessKeyId"}
            )
        rows["merge_key_usage"].append({"accessKeyId": key, "action": action, "succeeded": succeeded, "eventID": event_id, "eventTime": event_time})

    if not succeeded:
        # A failed call is evidence of intent, never of effect: no effects, no new nodes.
        return rows

    principals.extend(_clean(p) for p in meaning.principals)
    for link in meaning.sessions:
        principals.append(_clean(link.parent))
        rows["merge_sessions"].append(
            {"session": link.session["id"], "parent": link.parent["id"], "eventID": event_id, "eventTime": event_time, "rule": link.rule}
        )
    born = {credential.access_key_id for credential in meaning.credentials}
    for credential in meaning.credentials:
        props = _clean(dict(credential.props))
        if credential.via:
            props.update({"bornBy": credential.via, "bornEventID": event_id, "bornAt": event_time})
        rows["merge_access_keys"].append(key_row(credential.access_key_id, props))
        if credential.owner is not None:
            principals.append(_clean(credential.owner))
            rows["merge_key_owners"].append(
                {
                    "accessKeyId": credential.access_key_id,
                    "principal": credential.owner["id"],
                    "eventID": event_id,
                    "eventTime": event_time,
                    "rule": credential.rule,
                }
            )
        if credential.via and key is not None and key != credential.access_key_id:
            rows["merge_issued"].append(
                {"parent": key, "child": credential.access_key_id, "eventID": event_id, "eventTime": event_time, "via": credential.via, "rule": credential.rule}
            )
    for owned in meaning.login_profile_owners:
        principals.append(_clean(owned.owner))
        rows["merge_login_profiles"].append({"id": owned.profile, "props": {"userName": owned.owner.get("name")}})
        rows["merge_login_profile_owners"].append(
            {"profile": owned.profile, "principal": owned.owner["id"], "eventID": event_id, "eventTime": event_time, "rule": owned.rule}
        )
    for effect in meaning.effects:
        if not effect.key:
            continue
        if effect.label == "Principal":
            principals.append(_clean(effect.node))
        elif effect.label == "Resource":
            rows["merge_resources"].append({"id": effect.key, "props": _clean(effect.node)})
        elif effect.label == "AccessKey" and effect.key not in born:
            rows["merge_access_keys"].append(key_row(effect.key, {}))
        relationship_type(effect.label, effect.verb)
        rows[EFFECT_QUERY[effect.label]].append(
            {"eventID": event_id, "target": effect.key, "verb": effect.verb, "rule": effect.rule, "eventTime": event_time, "detail": _clean(effect.detail)}
        )
    return rows


def aggregate_key_usage(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Collapse per-event key usage into one row per (key, action, outcome) for the batch."""
    grouped: dict[tuple[str, str, bool], dict[str, Any]] = {}
    for row in rows:
        group = (row["accessKeyId"], row["action"], row["succeeded"])
        agg = grouped.get(group)
        if agg is None:
            grouped[group] = {
                "accessKeyId": group[0],
                "action": group[1],
                "succeeded": group[2],
                "count": 1,
                "firstSeen": row["eventTime"],
                "lastSeen": row["eventTime"],
                "eventIDs": [row["eventID"]],
            }
            continue
        agg["count"] += 1
        agg["firstSeen"] = min(agg["firstSeen"], row["eventTime"])
        agg["lastSeen"] = max(agg["lastSeen"], row["eventTime"])
        # The samples are the smallest eventIDs, sorted: which ones are kept must not depend on the order records arrive in.
        if row["eventID"] not in agg["eventIDs"]:
            bisect.insort(agg["eventIDs"], row["eventID"])
            del agg["eventIDs"][USAGE_SAMPLES:]
    return list(grouped.values())


#: Which call fields a Tally is counted by: 1 had no source address, error code, account and region, which the findings'
#: signals and ``keytrail incidents`` need; 2 had no account and region. A store holding tallies of another version is
#: read event by event (``tallies-complete``), never short.
TALLY_KEY_VERSION = 3


def tally_row(incident: str, call: dict[str, Any], event_time: str) -> dict[str, Any]:
    """One new event's row for ``merge_tallies``: its call counted once under ``incident``, where it is first stored.

    A ``Tally`` counts the calls with the same fields (``call``: credential, principal, action, succeeded, userAgent,
    madeByAws, sourceIPAddress, errorCode, account, region) under one incident, so that ``findings`` and ``stats`` count without
    reading every event; ``keyVersion`` says which fields those are (:data:`TALLY_KEY_VERSION`). ``count``
    is every event of the incident, ``firstCount`` those first stored under it: the whole store's count is the sum of
    ``firstCount``, each event once. An event already stored and tagged with another incident counts in that
    incident's ``count`` only (:func:`retagged`).
    """
    scope = {"incident": incident, **call}
    digest = hashlib.sha256(json.dumps(list(scope.values()), ensure_ascii=False).encode()).hexdigest()[:32]
    return {"id": digest, **scope, "keyVersion": TALLY_KEY_VERSION, "count": 1, "firstCount": 1, "firstEvent": event_time, "lastEvent": event_time}


def retagged(row: dict[str, Any]) -> dict[str, Any]:
    """A ``merge_tallies`` row of an event already stored under another incident: in this incident's count, not the store's."""
    return row | {"firstCount": 0}


def aggregate_tallies(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``merge_tallies`` row per tally for the batch: counts summed, the first and last event times kept."""
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        agg = grouped.get(row["id"])
        if agg is None:
            grouped[row["id"]] = dict(row)
            continue
        agg["count"] += row["count"]
        agg["firstCount"] += row["firstCount"]
        agg["firstEvent"] = min(agg["firstEvent"], row["firstEvent"])
        agg["lastEvent"] = max(agg["lastEvent"], row["lastEvent"])
    return list(grouped.values())


#: How many eventIDs a USED or ATTEMPTED edge keeps as samples.
USAGE_SAMPLES = 10


#: Relationship rows that keep only their earliest evidence, by the fields that identify the pair.
_EARLIEST_EVIDENCE = {
    "merge_key_owners": ("accessKeyId", "principal"),
    "merge_sessions": ("session", "parent"),
    "merge_login_profile_owners": ("profile", "principal"),
}


#: Node rows, by the field that identifies the node: one row per node per batch.
_NODE_ROWS = {"merge_principals": "id", "merge_access_keys": "accessKeyId", "merge_resources": "id", "merge_login_profiles": "id"}


def _combine_nodes(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One row per node: later known values win, as the write queries' SET would make them."""
    combined: dict[Any, dict[str, Any]] = {}
    for row in rows:
        kept = combined.get(row[key])
        if kept is None:
            combined[row[key]] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in row.items()}
            continue
        for name, value in row.items():
            if isinstance(value, dict):
                kept.setdefault(name, {}).update(value)
            elif value is not None:
                kept[name] = value
    return list(combined.values())


def reduce_batch(rows_by_query: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Collapse a batch's rows so the store's result does not depend on row order.

    Key usage is summed per (key, action, outcome), tallies per tally; ownership and session facts keep
    their earliest evidence (time, then eventID);
    node rows are combined per node. Backends apply the rows of one
    ``UNWIND`` in different orders, so these choices are made here, once.
    """
    reduced = dict(rows_by_query)
    reduced["merge_key_usage"] = aggregate_key_usage(rows_by_query.get("merge_key_usage", []))
    reduced["merge_tallies"] = aggregate_tallies(rows_by_query.get("merge_tallies", []))
    for name, key in _NODE_ROWS.items():
        reduced[name] = _combine_nodes(rows_by_query.get(name, []), key)
    for name in EFFECT_QUERY.values():
        # One row per edge: the writer checks that each row it sends lands as exactly one edge.
        unique: dict[tuple[str, str, str], dict[str, Any]] = {}
        for row in rows_by_query.get(name, []):
            unique.setdefault((row["eventID"], row["target"], row["verb"]), row)
        reduced[name] = list(unique.values())
    for name, fields in _EARLIEST_EVIDENCE.items():
        best: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows_by_query.get(name, []):
            pair = tuple(row[f] for f in fields)
            kept = best.get(pair)
            if kept is None or (row["eventTime"], row["eventID"]) < (kept["eventTime"], kept["eventID"]):
                best[pair] = row
        reduced[name] = list(best.values())
    return reduced
