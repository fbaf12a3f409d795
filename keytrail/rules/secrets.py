"""Secrets: Secrets Manager secrets, SSM parameters and KMS keys."""

from __future__ import annotations

from typing import Any

from keytrail.rules.base import Call, Node
from keytrail.rules.registry import resources


@resources("secretsmanager")
def secret_resources(call: Call) -> list[Node]:
    secret = call.text("secretId", "name")
    if not secret:
        return []
    return [call.resource(secret if secret.startswith("arn:") else call.arn("secretsmanager", f"secret:{secret}"), "AWS::SecretsManager::Secret", secret)]


@resources("kms")
def kms_resources(call: Call) -> list[Node]:
    key = call.text("keyId")
    if not key:
        return []
    return [call.resource(key if key.startswith("arn:") else call.arn("kms", f"key/{key}"), "AWS::KMS::Key", key)]


@resources("ssm")
def ssm_resources(call: Call) -> list[Node]:
    found: list[Node] = []
    if call.name.startswith(("GetParameter", "PutParameter", "DeleteParameter")):
        listed = call.params.get("names")
        names: list[Any] = listed if isinstance(listed, list) else [call.params.get("name")]
        for value in names:
            if isinstance(value, str) and value:
                found.append(call.resource(call.arn("ssm", f"parameter/{value.lstrip('/')}"), "AWS::SSM::Parameter", value))
    return found
