"""S3: buckets, and objects for data events."""

from __future__ import annotations

from keytrail.rules.base import Call, Node
from keytrail.rules.registry import resources


@resources("s3")
def s3_resources(call: Call) -> list[Node]:
    bucket = call.text("bucketName")
    if not bucket:
        return []
    key = call.text("key")
    if key and call.record.get("eventCategory") == "Data":
        return [call.resource(f"arn:{call.partition}:s3:::{bucket}/{key}", "AWS::S3::Object", key)]
    return [call.resource(f"arn:{call.partition}:s3:::{bucket}", "AWS::S3::Bucket", bucket)]
