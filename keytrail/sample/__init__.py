"""Deterministic sample CloudTrail data: incidents with known answers, a fast
synthetic stream for benchmarks, and writers for the shapes CloudTrail is
delivered in (S3 layout, JSON lines, lookup-events, EventBridge).

Standard library only; every generator takes a seed and is reproducible.
"""

from keytrail.sample.layout import write_eventbridge, write_jsonl, write_lookup_events, write_s3_layout
from keytrail.sample.scenarios import (
    CrossAccountFacts,
    SessionTokenFacts,
    cross_account_incident,
    session_token_incident,
)
from keytrail.sample.synthetic import ATTACKER_NET, synthetic_records
from keytrail.sample.workshop import AccessKeyFact, Incident, Record, WorkshopFacts, workshop_incident

__all__ = [
    "ATTACKER_NET",
    "AccessKeyFact",
    "CrossAccountFacts",
    "Incident",
    "Record",
    "SessionTokenFacts",
    "WorkshopFacts",
    "cross_account_incident",
    "session_token_incident",
    "synthetic_records",
    "workshop_incident",
    "write_eventbridge",
    "write_jsonl",
    "write_lookup_events",
    "write_s3_layout",
]
