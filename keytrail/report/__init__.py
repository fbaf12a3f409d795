"""Reports assembled from named queries: the blast radius of a key, and findings across a store.

The graph walks are Cypher (``keytrail/cypher``); this package only calls them,
labels events with ATT&CK tactics from ``keytrail/data/attack_mapping.json``,
decides statuses and containment from the rows, and renders the result.
"""

from keytrail.report.attack import AttackLabel, AttackMapping, load_mapping
from keytrail.report.blast_radius import build_blast_radius
from keytrail.report.findings import build_findings

__all__ = ["AttackLabel", "AttackMapping", "build_blast_radius", "build_findings", "load_mapping"]
