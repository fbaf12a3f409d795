"""Concrete containment actions, derived from what a blast radius found.

Each rule is stated here in one place (and in docs/blast-radius.md): a status or a
successful call of a given kind calls for a given action. Failed calls never call for
anything: they had no effect.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Successful calls and the action each calls for on its target.
CALL_RULES: dict[str, tuple[str, str]] = {
    "iam:AttachUserPolicy": ("detach-policy", "detach the policy the attacker attached"),
    "iam:AttachRolePolicy": ("detach-policy", "detach the policy the attacker attached"),
    "iam:AttachGroupPolicy": ("detach-policy", "detach the policy the attacker attached"),
    "iam:PutUserPolicy": ("delete-inline-policy", "delete the inline policy the attacker wrote"),
    "iam:PutRolePolicy": ("delete-inline-policy", "delete the inline policy the attacker wrote"),
    "iam:PutGroupPolicy": ("delete-inline-policy", "delete the inline policy the attacker wrote"),
    "iam:CreatePolicyVersion": ("review-policy-versions", "restore the previous default policy version"),
    "iam:SetDefaultPolicyVersion": ("review-policy-versions", "restore the previous default policy version"),
    "iam:AddUserToGroup": ("remove-from-group", "remove the user from the group"),
    "iam:UpdateAssumeRolePolicy": ("review-trust-policy", "restore the role's trust policy"),
    "iam:CreateRole": ("review-trust-policy", "delete the role or review who its trust policy lets in"),
    "iam:CreateVirtualMFADevice": ("delete-mfa-device", "delete the MFA device the attacker registered"),
    "iam:UploadSSHPublicKey": ("delete-ssh-key", "delete the uploaded SSH public key"),
    "cloudtrail:StopLogging": ("re-enable-logging", "start logging again and check the gap"),
    "cloudtrail:DeleteTrail": ("re-enable-logging", "re-create the trail"),
    "cloudtrail:UpdateTrail": ("re-enable-logging", "restore the trail's settings"),
    "cloudtrail:PutEventSelectors": ("re-enable-logging", "restore the trail's event selectors"),
    "ec2:DeleteFlowLogs": ("re-enable-logging", "re-create the VPC flow logs"),
    "route53resolver:DeleteResolverQueryLogConfig": ("re-enable-logging", "re-create DNS query logging"),
    "logs:DeleteLogGroup": ("re-enable-logging", "re-create the log group"),
    "guardduty:DeleteDetector": ("re-enable-detection", "re-create the GuardDuty detector"),
    "guardduty:UpdateDetector": ("re-enable-detection", "restore the GuardDuty detector"),
    "guardduty:CreateIPSet": ("re-enable-detection", "delete the trusted IP set"),
    "config:StopConfigurationRecorder": ("re-enable-detection", "start the AWS Config recorder"),
    "config:DeleteConfigurationRecorder": ("re-enable-detection", "re-create the AWS Config recorder"),
    "ec2:RunInstances": ("terminate-instances", "terminate the instances the attacker launched"),
    "ec2:CreateKeyPair": ("delete-key-pair", "delete the EC2 key pair"),
    "ec2:ImportKeyPair": ("delete-key-pair", "delete the EC2 key pair"),
    "ec2:ModifyInstanceAttribute": ("review-instance", "check the instance's user data and attributes"),
    "ec2:AuthorizeSecurityGroupIngress": ("revoke-ingress", "revoke the ingress rule"),
    "ec2:ModifySnapshotAttribute": ("revoke-sharing", "remove the snapshot's sharing with other accounts"),
    "ec2:ModifyImageAttribute": ("revoke-sharing", "remove the image's sharing with other accounts"),
    "rds:ModifyDBSnapshotAttribute": ("revoke-sharing", "remove the DB snapshot's sharing with other accounts"),
    "s3:PutBucketPolicy": ("review-bucket", "restore the bucket policy"),
    "s3:PutBucketAcl": ("review-bucket", "restore the bucket ACL"),
    "s3:DeleteBucketPublicAccessBlock": ("review-bucket", "restore the public access block"),
    "s3:PutBucketLogging": ("review-bucket", "restore the bucket's access logging"),
    "s3:GetObject": ("review-bucket", "objects were read: assess the data exposed"),
    "s3:DeleteObject": ("review-bucket", "objects were deleted: restore from versions or backups"),
    "s3:PutObject": ("review-bucket", "objects were written: check them"),
    "secretsmanager:GetSecretValue": ("rotate-secret", "the secret was read: rotate it"),
    "secretsmanager:BatchGetSecretValue": ("rotate-secret", "secrets were read: rotate them"),
    "ssm:GetParameter": ("rotate-secret", "the parameter was read: rotate it if it is a secret"),
    "ssm:GetParameters": ("rotate-secret", "the parameters were read: rotate them if they are secrets"),
    "lambda:UpdateFunctionCode20150331v2": ("review-function", "restore the function's code"),
    "lambda:UpdateFunctionConfiguration20150331v2": ("review-function", "restore the function's configuration and layers"),
    "lambda:AddPermission20150331v2": ("review-function", "remove the permission added to the function"),
    "rolesanywhere:CreateTrustAnchor": ("delete-trust-anchor", "delete the IAM Roles Anywhere trust anchor"),
    "kms:ScheduleKeyDeletion": ("cancel-key-deletion", "cancel the KMS key deletion"),
}


def _bucket_of(target: str) -> str:
    """An S3 object's ARN names its bucket before the first '/'."""
    if target.startswith("arn:aws:s3:::"):
        return target.split("/", 1)[0]
    return target


def containment_actions(
    *,
    credentials: Iterable[dict[str, Any]],
    principals_created: Iterable[dict[str, Any]],
    findings: Iterable[dict[str, Any]],
    upstream: Iterable[dict[str, Any]],
    revoke_before: str | None,
    doors: Iterable[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The actions a responder should take, most urgent first, without duplicates.

    Args:
        credentials: The blast radius's credentials (``status``, ``kind``, ``owner``...).
        principals_created: Users and roles created in the blast radius.
        findings: The blast radius's findings; only successful ones call for action.
        upstream: The credentials that made the key (likely compromised too).
        revoke_before: The time before which sessions are revoked (the end of the evidence).
        doors: The doors the blast radius opened; each open one carries the actions that shut it.
    """
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(action: str, target: str | None, detail: str, evidence: str | None = None) -> None:
        if not target:
            return
        if (action, target) in seen:
            # One action per target; a different reason for it is added to the same entry.
            entry = next(e for e in out if (e["action"], e["target"]) == (action, target))
            if detail not in entry["detail"]:
                entry["detail"] += "; " + detail
            return
        seen.add((action, target))
        out.append({"action": action, "target": target, "detail": detail, "eventID": evidence})

    creds = list(credentials)
    principals_created = list(principals_created)
    door_targets: set[str] = set()
    for door in doors:
        for action in door["actions"]:
            add(action["action"], action["target"], action["detail"], door["eventID"])
            door_targets.add(action["target"])
    for cred in creds:
        if cred["kind"] == "long-term" and cred["status"] in ("active", "inactive"):
            add("deactivate-and-delete-key", cred["id"], f"deactivate, then delete, access key {cred['id']} of {cred.get('owner')}", cred.get("born_event"))
    for cred in creds:
        if cred["kind"] == "console-password" and cred["status"] == "active":
            add("delete-login-profile", cred.get("owner"), f"delete the console password of {cred.get('owner')}", cred.get("born_event"))
    sessions = [c for c in creds if c["kind"] == "temporary" and c["status"] == "active"]
    for cred in sessions:
        principal = cred.get("session_of") or cred.get("owner")
        until = f" (they expire at {cred['expires']})" if cred.get("expires") else ""
        add(
            "revoke-sessions",
            principal,
            f"attach a policy denying every action when aws:TokenIssueTime is before {revoke_before}: "
            f"revokes {cred['id']} and every other session of {principal}{until}",
            cred.get("born_event"),
        )
    for principal in principals_created:
        if principal.get("deleted"):
            continue
        kind = "delete-user" if principal.get("type") == "IAMUser" else "delete-role"
        add(
            kind,
            principal["arn"],
            f"delete {principal['arn']} (created by {principal['by']} at {principal['at']}) after removing its keys, password and policies",
            principal.get("eventID"),
        )
    # What the attacker created and someone deleted since needs no further action on it.
    gone = {p.get("id") for p in principals_created if p.get("deleted")} | {p["arn"] for p in principals_created if p.get("deleted")}
    for finding in findings:
        if not finding["succeeded"] or finding.get("target") in gone:
            continue
        rule = CALL_RULES.get(finding["action"])
        if rule is None:
            continue
        target = finding.get("target")
        if finding["action"].startswith("s3:") and target:
            target = _bucket_of(target)
        if target in door_targets:
            # The door's own action already says how to shut what this call opened.
            continue
        detail = rule[1] + (f": {finding['detail']}" if finding.get("detail") else "")
        add(rule[0], target or f"{finding['eventName']} {finding['eventID']}", detail, finding["eventID"])
    for row in upstream:
        if row.get("credential") and row.get("likely_compromised", True):
            add(
                "investigate-upstream",
                row["credential"],
                f"{row['credential']} made this key ({row['eventName']} {row['eventID']}): treat it as compromised",
                row["eventID"],
            )
    return out
