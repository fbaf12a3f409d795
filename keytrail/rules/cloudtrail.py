"""CloudTrail: trails and event data stores (logging switched off or deleted)."""

from __future__ import annotations

from keytrail.model.identity import last_segment
from keytrail.rules.base import Call, Node
from keytrail.rules.registry import resources


@resources("cloudtrail")
def cloudtrail_resources(call: Call) -> list[Node]:
    trail = call.text("name", "trailName")
    if trail:
        rid = trail if trail.startswith("arn:") else call.arn("cloudtrail", f"trail/{trail}")
        return [call.resource(rid, "AWS::CloudTrail::Trail", last_segment(trail))]
    store = call.text("eventDataStore")
    if store:
        rid = store if store.startswith("arn:") else call.arn("cloudtrail", f"eventdatastore/{store}")
        return [call.resource(rid, "AWS::CloudTrail::EventDataStore", last_segment(store))]
    return []
