"""Bedrock: the models a call runs (LLMjacking) and the account's model-invocation logging."""

from __future__ import annotations

from keytrail.model.identity import last_segment
from keytrail.rules.base import Call, Node
from keytrail.rules.registry import resources

#: ARN resource type -> CloudFormation-style type, for a ``modelId`` given as an ARN.
_ARN_TYPES = {
    "foundation-model": "AWS::Bedrock::FoundationModel",
    "inference-profile": "AWS::Bedrock::InferenceProfile",
    "application-inference-profile": "AWS::Bedrock::ApplicationInferenceProfile",
    "custom-model": "AWS::Bedrock::CustomModel",
    "provisioned-model": "AWS::Bedrock::ProvisionedModel",
}


def model(call: Call, model_id: str) -> Node:
    """The model ``modelId`` names: an ARN as given, a cross-Region inference profile, else a foundation model.

    Foundation-model ids are ``<provider>.<model>`` and their ARNs have no account; cross-Region inference
    profile ids put a geography first (``us.anthropic.…``) and belong to the caller's account.
    """
    if model_id.startswith("arn:"):
        kind = model_id.split(":", 5)[-1].split("/", 1)[0]
        return call.resource(model_id, _ARN_TYPES.get(kind, "AWS::Bedrock::Model"), last_segment(model_id))
    if len(model_id.split(":", 1)[0].split(".")) >= 3:
        return call.resource(call.arn("bedrock", f"inference-profile/{model_id}"), "AWS::Bedrock::InferenceProfile", model_id)
    return call.resource(f"arn:{call.partition}:bedrock:{call.region}::foundation-model/{model_id}", "AWS::Bedrock::FoundationModel", model_id)


@resources("bedrock")
def bedrock_resources(call: Call) -> list[Node]:
    model_id = call.text("modelId", "modelIdentifier")
    if model_id:
        return [model(call, model_id)]
    if call.name.endswith("ModelInvocationLoggingConfiguration") and call.account:
        # One setting per account and region, with no ARN of its own.
        rid = f"bedrock-invocation-logging:{call.account}:{call.region}"
        return [call.resource(rid, "AWS::Bedrock::ModelInvocationLoggingConfiguration", f"model invocation logging in {call.account} {call.region}")]
    return []
