"""What a rule produces from one record: typed effects, credentials, sessions and doors.

A rule reads one :class:`Call` (the record, with its caller, parameters and response
already unpacked) and adds to an :class:`Interpretation`. The graph layer turns an
interpretation into rows; rules know nothing of rows or stores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from keytrail.model.identity import partition_of, principal_from_arn, role_id, user_id
from keytrail.rules.doors import door_kind

Node = dict[str, Any]

#: The deepest nesting handed to orjson. orjson 3.13's dumps refuses more than 254 levels, and corrupts the
#: heap (the process aborts, nothing can catch it) on some values nested about 180 levels deep; 64 is the
#: limit its maintainers discussed for the same trouble (GHSA-hx9q-6w63-j58v). Deeper values use _deep_json.
ORJSON_DEPTH = 64


@dataclass(slots=True)
class Effect:
    """What a call did (or tried to do) to one thing: ``(Event)-[:verb]->(label {key})``.

    ``verb`` is a verb of the write plan (``keytrail.graph.effects``); ``node`` holds the
    target's properties; ``detail`` goes on the edge. ``OPENED`` effects are doors: what
    they admit, and how the sessions that come through them are named, is in ``detail``.
    """

    verb: str
    label: str
    key: str
    rule: str
    node: Node = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Credential:
    """An access key a call brought into being (``via`` set) or named with its owner."""

    access_key_id: str
    owner: Node | None
    via: str
    rule: str
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SessionLink:
    """A session principal and the role or user it was issued from."""

    session: Node
    parent: Node
    rule: str


@dataclass(slots=True)
class LoginProfileOwner:
    profile: str
    owner: Node
    rule: str


@dataclass(slots=True)
class Interpretation:
    """Everything the rules understood of one record, before it becomes rows."""

    effects: list[Effect] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)
    principals: list[Node] = field(default_factory=list)
    sessions: list[SessionLink] = field(default_factory=list)
    login_profile_owners: list[LoginProfileOwner] = field(default_factory=list)


def json_text(value: Any, *, sort_keys: bool = True, shallow: bool = False) -> str | None:
    """A value as compact JSON text with sorted keys, whole, whatever its size or depth; text is kept as it is.

    Nothing is cut: neither store limits the length of a property, and the reports read this
    text back as JSON, which a cut would make unreadable. ``shallow`` says the caller knows the
    value is nested no deeper than :data:`ORJSON_DEPTH`, so it need not be walked to find out.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if not shallow and _nested_deeper_than(value, ORJSON_DEPTH):
        return _deep_json(value, sort_keys=sort_keys)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0).decode()
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits and lone surrogates; JSON can hold both, so the
        # value is written another way rather than lost.
        return _deep_json(value, sort_keys=sort_keys)


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` has objects or arrays more than ``limit`` levels deep (a walk of its own, no recursion)."""
    work: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while work:
        item, depth = work.pop()
        if depth > limit:
            return True
        work.extend((inner, depth + 1) for inner in (item.values() if isinstance(item, dict) else item) if isinstance(inner, dict | list))
    return False


def _json_string(text: str) -> str:
    try:
        return orjson.dumps(text).decode()
    except orjson.JSONEncodeError:
        # A lone surrogate has no UTF-8 form; its JSON escape (\ud800) is exact and can be stored.
        return json.dumps(text)


def _json_scalar(value: Any) -> str:
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return orjson.dumps(value).decode()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _deep_json(value: Any, *, sort_keys: bool = True) -> str:
    """The text :func:`json_text` gives, without recursion: any depth, any integer, any string."""
    out: list[str] = []
    # A stack of (is literal text, item): containers are opened into their members, in order, without recursion.
    work: list[tuple[bool, Any]] = [(False, value)]
    while work:
        literal, item = work.pop()
        if literal:
            out.append(item)
        elif isinstance(item, dict):
            keys = sorted(item) if sort_keys else list(item)
            work.append((True, "}"))
            for position in range(len(keys) - 1, -1, -1):
                key = keys[position]
                if not isinstance(key, str):
                    raise TypeError(f"a JSON object's keys are strings, not {type(key).__name__}")
                work.append((False, item[key]))
                work.append((True, ("," if position else "") + _json_string(key) + ":"))
            work.append((True, "{"))
        elif isinstance(item, list | tuple):
            work.append((True, "]"))
            for position in range(len(item) - 1, -1, -1):
                work.append((False, item[position]))
                if position:
                    work.append((True, ","))
            work.append((True, "["))
        else:
            out.append(_json_scalar(item))
    return "".join(out)


def parse_json(value: Any) -> Any:
    """A JSON document that CloudTrail may log as text (policy documents) or as an object."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


def read_only(record: dict[str, Any]) -> bool | None:
    value = record.get("readOnly")
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    return None


def _object(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        # Some pipelines deliver responseElements as JSON text; read it, or lineage is lost.
        value = parse_json(value)
    return value if isinstance(value, dict) else {}


def members(value: Any) -> dict[str, Any]:
    """``value`` when it is an object, else an empty one.

    Requests and responses are each service's own, and a member may be of another type than a
    rule expects (a list, a string, null): such a member names nothing, and the call is still read.
    """
    return value if isinstance(value, dict) else {}


@dataclass(slots=True)
class Call:
    """One record as a rule sees it."""

    record: dict[str, Any]
    actor: Node | None
    service: str
    name: str
    params: dict[str, Any]
    response: dict[str, Any]
    account: str
    region: str
    partition: str
    out: Interpretation

    @classmethod
    def of(cls, record: dict[str, Any], actor: Node | None, name: str) -> Call:
        identity = record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else {}
        account = str(record.get("recipientAccountId") or (identity or {}).get("accountId") or (actor or {}).get("accountId") or "")
        region = str(record.get("awsRegion") or "")
        return cls(
            record=record,
            actor=actor,
            service=str(record["eventSource"]).split(".", 1)[0],
            name=name,
            params=_object(record.get("requestParameters")),
            response=_object(record.get("responseElements")),
            account=account,
            region=region,
            partition=partition_of((identity or {}).get("arn"), region),
            out=Interpretation(),
        )

    @property
    def rule(self) -> str:
        """The rule name every edge derived from this call records: ``<service>.<eventName>``."""
        return f"{self.service}.{self.record['eventName']}"

    def obj(self, name: str, source: Any = None) -> dict[str, Any]:
        """The member ``name`` of the response (or ``source``) when it is an object, else an empty one."""
        return members(members(self.response if source is None else source).get(name))

    def text(self, *names: str, source: Any = None) -> str | None:
        """The first of ``names`` that is a non-empty string in the request (or ``source``, when it is an object)."""
        where = self.params if source is None else members(source)
        for name in names:
            value = where.get(name)
            if isinstance(value, str) and value:
                return value
        return None

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in the call's partition and account (``region=False`` for global services such as IAM)."""
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def user(self, name: Any) -> Node | None:
        """The IAM user a call names, defaulting to the caller when it names none (IAM's rule)."""
        if name is not None and not isinstance(name, str):
            # A name of another type names no user we can know, and not the caller either.
            return None
        if isinstance(name, str) and name and self.account:
            return {"id": user_id(self.account, name, self.partition), "type": "IAMUser", "name": name, "accountId": self.account}
        if self.actor is not None and self.actor.get("type") == "IAMUser":
            return {k: v for k, v in self.actor.items() if k in ("id", "type", "name", "accountId")}
        return None

    def role(self, name_or_arn: Any) -> Node | None:
        if not isinstance(name_or_arn, str) or not name_or_arn:
            return None
        if name_or_arn.startswith("arn:"):
            return principal_from_arn(name_or_arn)
        if not self.account:
            return None
        return {"id": role_id(self.account, name_or_arn, self.partition), "type": "IAMRole", "name": name_or_arn, "accountId": self.account}

    def resource(self, rid: str, rtype: str, name: str | None, **props: Any) -> Node:
        node = {"type": rtype, "name": name, "accountId": self.account or None, "arn": rid if rid.startswith("arn:") else None, **props}
        return {"id": rid, **{k: v for k, v in node.items() if v is not None}}

    # -- what a rule adds

    def effect(self, verb: str, label: str, key: str, node: Node | None = None, rule: str | None = None, **detail: Any) -> None:
        self.out.effects.append(Effect(verb, label, key, rule or self.rule, node=node or {}, detail={k: v for k, v in detail.items() if v is not None}))

    def on_principal(self, verb: str, target: Node | None, **detail: Any) -> None:
        if target is not None:
            self.effect(verb, "Principal", target["id"], node=target, **detail)

    def on_resource(self, verb: str, node: Node, rule: str | None = None, **detail: Any) -> None:
        self.effect(verb, "Resource", node["id"], node={k: v for k, v in node.items() if k != "id"}, rule=rule, **detail)

    def door(self, kind: str, label: str, target: Node | None, **detail: Any) -> None:
        """Record a door the call opened on ``target`` (an ``OPENED`` edge), with what it admits; ``kind`` is in ``rules.doors``."""
        door_kind(kind)
        if target is None:
            return
        node = target if label == "Principal" else {k: v for k, v in target.items() if k != "id"}
        self.effect("OPENED", label, target["id"], node=node, door=kind, **detail)
