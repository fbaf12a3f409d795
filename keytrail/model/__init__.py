"""What a CloudTrail record is made of, shared by the loaders, the rules and the graph.

``time`` parses every timestamp style CloudTrail writes; ``identity`` turns the
``userIdentity`` block and IAM/STS ARNs into canonical principals. Nothing here knows
about a database or a source.
"""
