"""keytrail: a graph-based attacker path analyser for AWS CloudTrail."""

__version__ = "0.1.0"
