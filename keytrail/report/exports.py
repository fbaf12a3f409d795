"""A blast radius in the formats other tools read: a Timesketch timeline and an ATT&CK Navigator layer.

Both are built from the typed report only, like the renderers. The JSON lines keep every value exactly as
the logs had it (programs read them). The CSV does too, except that a cell that a spreadsheet would run as a
formula (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: OWASP's list) is written
with a leading ``'``: an attacker's user agent must not run in the responder's spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from keytrail import __version__
from keytrail.report.attack import load_mapping
from keytrail.report.model import BlastRadius

#: Timesketch's required columns first (message, datetime, timestamp_desc), then what keytrail adds.
TIMELINE_COLUMNS = (
    "message",
    "datetime",
    "timestamp",
    "timestamp_desc",
    "eventID",
    "eventName",
    "credential",
    "succeeded",
    "errorCode",
    "target",
    "sourceIPAddress",
    "userAgent",
    "account",
    "tactic",
    "technique",
    "incident",
    "blast_radius_of",
    "data_type",
)
#: The Navigator version whose layer format (4.5) the layer follows, and the ATT&CK version of the mapping.
NAVIGATOR_VERSION = "5.1.0"
LAYER_VERSION = "4.5"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def timeline_rows(report: BlastRadius) -> Iterator[dict[str, Any]]:
    """One Timesketch event per timeline event, in time order."""
    labels = {f.eventID: f for f in report.findings}
    for event in report.timeline:
        finding = labels.get(event.eventID)
        moment = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
        result = "ok" if event.succeeded else f"FAILED ({event.errorCode})" if event.errorCode else "FAILED"
        words = [event.eventName, f"by {event.credential}" if event.credential else "", f"on {event.target}" if event.target else ""]
        words += [f"from {event.sourceIPAddress}" if event.sourceIPAddress else "", result]
        yield {
            "message": " ".join(w for w in words if w),
            "datetime": moment.isoformat(),
            "timestamp": int(moment.timestamp() * 1_000_000),
            "timestamp_desc": "Event Time",
            "eventID": event.eventID,
            "eventName": event.eventName,
            "credential": event.credential,
            "succeeded": event.succeeded,
            "errorCode": event.errorCode,
            "target": event.target,
            "sourceIPAddress": event.sourceIPAddress,
            "userAgent": event.userAgent,
            "account": event.account,
            "tactic": finding.category if finding else None,
            "technique": finding.technique if finding else None,
            "incident": report.incident,
            "blast_radius_of": report.key,
            "data_type": "aws:cloudtrail:event",
        }


def _spreadsheet_safe(value: Any) -> str:
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def timeline_csv(report: BlastRadius) -> str:
    """The timeline as CSV with a header, for Timesketch's importer (formula-looking cells guarded, see the module)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TIMELINE_COLUMNS)
    for row in timeline_rows(report):
        writer.writerow([_spreadsheet_safe(row[column]) for column in TIMELINE_COLUMNS])
    return out.getvalue()


def navigator_layer(report: BlastRadius) -> dict[str, Any]:
    """An ATT&CK Navigator layer (format 4.5) of the techniques the blast radius's findings show, scored by count.

    A technique is pinned to each tactic it was seen under (one entry per technique and tactic), with the
    failed attempts counted in the comment: a failed call is intent, not effect.
    """
    counts: Counter[tuple[str, str]] = Counter()
    failed: Counter[tuple[str, str]] = Counter()
    events: dict[tuple[str, str], list[str]] = {}
    for finding in report.findings:
        key = (finding.technique, finding.category)
        counts[key] += 1
        failed[key] += not finding.succeeded
        events.setdefault(key, []).append(finding.eventName)
    techniques = [
        {
            "techniqueID": technique,
            "tactic": tactic,
            "score": count,
            "color": "",
            "comment": f"{count} events ({failed[(technique, tactic)]} failed): " + ", ".join(sorted(set(events[(technique, tactic)]))),
            "enabled": True,
            "metadata": [],
            "links": [],
            "showSubtechniques": False,
        }
        for (technique, tactic), count in sorted(counts.items())
    ]
    name = f"keytrail: {report.key}" + (f" ({report.incident})" if report.incident else "")
    return {
        "name": name[:250],
        "versions": {"attack": load_mapping().attack_version, "navigator": NAVIGATOR_VERSION, "layer": LAYER_VERSION},
        "domain": "enterprise-attack",
        "description": f"Techniques seen in the blast radius of {report.key}, scored by the number of events (keytrail {__version__}).",
        "filters": {"platforms": ["IaaS", "Identity Provider", "SaaS"]},
        "sorting": 3,
        "layout": {"layout": "side", "aggregateFunction": "max", "showID": True, "showName": True, "showAggregateScores": False, "countUnscored": False},
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": ["#ffe6e6", "#ff3333"], "minValue": 0, "maxValue": max(counts.values(), default=1)},
        "legendItems": [],
        "metadata": [{"name": "key", "value": report.key}, {"name": "incident", "value": report.incident or "(all)"}],
        "links": [],
        "showTacticRowBackground": False,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": False,
        "selectSubtechniquesWithParent": False,
        "selectVisibleTechniques": False,
    }
