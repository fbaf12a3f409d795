"""Concrete containment actions, derived from what a blast radius found.

Each rule is stated here in one place (and in docs/blast-radius.md): a status or a
successful call of a given kind calls for a given action. Failed calls never call for
anything: they had no effect.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from keytrail.report.model import ContainmentAction, ContainmentTarget, Credential, DoorEntry, Finding, PrincipalCreated, Upstream

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
    "rds:ModifyDBClusterSnapshotAttribute": ("revoke-sharing", "remove the DB cluster snapshot's sharing with other accounts"),
    "s3:PutBucketPolicy": ("review-bucket", "restore the bucket policy"),
    "s3:PutBucketAcl": ("review-bucket", "restore the bucket ACL"),
    "s3:DeleteBucketPublicAccessBlock": ("review-bucket", "restore the public access block"),
    "s3:PutBucketLogging": ("review-bucket", "restore the bucket's access logging"),
    "s3:PutBucketLifecycle": ("review-bucket", "restore the lifecycle rules: an expiration rule deletes objects on a schedule"),
    "s3:PutBucketVersioning": ("review-bucket", "restore versioning: suspended, overwritten and deleted objects cannot be recovered"),
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
    "kms:DisableKey": ("enable-key", "enable the KMS key again (data encrypted under it is unreadable while it is disabled)"),
    "kms:CreateGrant": ("revoke-grant", "retire or revoke the grant, which lets its grantee use the key without a policy change"),
    "securityhub:DisableSecurityHub": ("re-enable-detection", "enable Security Hub again"),
    "macie2:DisableMacie": ("re-enable-detection", "enable Macie again"),
    "inspector2:Disable": ("re-enable-detection", "enable Inspector again"),
    "access-analyzer:DeleteAnalyzer": ("re-enable-detection", "re-create the IAM Access Analyzer analyzer"),
    "cloudtrail:DeleteEventDataStore": ("re-enable-logging", "restore the CloudTrail Lake event data store (it can be restored during its deletion wait)"),
    "cloudtrail:StopEventDataStoreIngestion": ("re-enable-logging", "start the event data store's ingestion again"),
    "bedrock:DeleteModelInvocationLoggingConfiguration": ("re-enable-logging", "re-create Bedrock model-invocation logging"),
    "ec2:ModifyInstanceMetadataOptions": ("review-instance", "require IMDSv2 again (HttpTokens required) and check the instance's credentials"),
    "s3:PutObjectAcl": ("review-bucket", "restore the object's ACL"),
    "s3:PutBucketWebsite": ("review-bucket", "remove the website configuration or check what it serves"),
    "s3:PutBucketObjectLockConfiguration": ("review-bucket", "check the object-lock retention: it can keep the owner from deleting or replacing data"),
    "s3:CreateBucket": ("review-bucket", "check, then delete, the bucket the attacker created (a staging place for data)"),
    "secretsmanager:PutResourcePolicy": ("review-resource-policy", "restore the secret's resource policy"),
    "ec2:CopySnapshot": ("review-copy", "check where the snapshot copy went and delete it if it is not yours"),
    "dynamodb:ExportTableToPointInTime": ("review-export", "the table was exported: find and secure the export in its S3 bucket"),
    "backup:DeleteRecoveryPoint": ("review-backups", "a recovery point was deleted: check what backups remain"),
    "backup:DeleteBackupVault": ("review-backups", "a backup vault was deleted: check what backups remain"),
    "account:PutAlternateContact": ("restore-alternate-contact", "restore the account's alternate contact (AWS writes to it about the account)"),
    "ses:SendRawEmail": ("review-email", "email was sent through SES: check what and to whom, and the sending quota"),
    "iam:CreateInstanceProfile": ("delete-instance-profile", "delete the instance profile the attacker created"),
}


#: What each action asks for, said once for a group of targets.
SUMMARIES: dict[str, str] = {
    "deactivate-and-delete-key": "deactivate, then delete, these access keys",
    "delete-login-profile": "delete these console passwords",
    "revoke-sessions": "revoke every session of these principals issued before the end of the evidence",
    "delete-user": "delete these users after removing their keys, passwords and policies",
    "delete-role": "delete these roles after revoking their sessions",
    "investigate-upstream": "these credentials made the key: treat them as compromised",
    # What shuts an open door (keytrail/report/doors.door_actions).
    "restore-trust-policy": "remove the admitted principals from these roles' trust policies",
    "detach-policy": "detach these policies the attacker attached",
    "delete-inline-policy": "delete these inline policies the attacker wrote",
    "delete-function": "delete or restore these functions and revoke their roles' sessions",
    "remove-permission": "remove the statements that admit outsiders from these resource policies",
    "delete-function-url": "delete these unauthenticated function URLs",
    "isolate-instance": "isolate or terminate these instances and revoke their roles' sessions",
    "delete-permission-set": "delete these Identity Center permission sets and their assignments",
    "delete-account-assignment": "delete these Identity Center account assignments",
    "delete-identity-center-user": "delete these Identity Center users and sign out their sessions",
    "delete-trust-anchor": "delete these IAM Roles Anywhere trust anchors and profiles",
    "review-door": "review these doors",
    "re-enable-logging": "restore the logging these calls stopped, deleted or changed",
    "re-enable-detection": "restore the detection these calls switched off or changed",
    "review-bucket": "review what was changed, read, written or deleted in these buckets",
    "rotate-secret": "these secrets or parameters were read: rotate them",
    "review-trust-policy": "review who these roles' trust policies let in",
    "review-policy-versions": "restore the previous default version of these policies",
    "revoke-sharing": "remove these snapshots' and images' sharing with other accounts",
    "review-function": "restore these functions' code, configuration and permissions",
    "review-instance": "check these instances' user data, attributes and metadata options",
    "review-backups": "backups were deleted: check what remains",
} | {action: text for action, text in CALL_RULES.values() if len({t for a, t in CALL_RULES.values() if a == action}) == 1}


def _bucket_of(target: str) -> str:
    """An S3 object's ARN names its bucket before the first '/'."""
    if target.startswith("arn:aws:s3:::"):
        return target.split("/", 1)[0]
    return target


def _needs_action(row: dict[str, Any], ours: set[str]) -> bool:
    """A target needs the call's action unless the evidence shows it gone since, or it was the attacker's own and is gone.

    A trail the attacker deleted still needs re-creating; a flow log the attacker created and then deleted does not.
    """
    if row.get("deleted"):
        return False
    made_by = str(row.get("created") or "").split(" ", 1)[-1]
    return not (row.get("deletes") and made_by in ours)


def _call_targets(finding: Finding, targets: dict[str, list[dict[str, Any]]], ours: set[str]) -> list[str]:
    """What a successful call acted on and still needs its action: ARNs or ids, never eventIDs."""
    rows = targets.get(finding.eventID)
    # No row for the event (it reached no Resource or Principal, e.g. a ConsoleLogin): its own target, if any.
    own = [finding.target] if finding.target else []
    found = own if rows is None else [row["targetArn"] for row in rows if _needs_action(row, ours)]
    if finding.action.startswith("s3:"):
        found = [_bucket_of(t) for t in found]
    if not found and rows is None and finding.account:
        # An account-wide call (no resource in the record): the account is what needs the action.
        found = [f"account {finding.account}"]
    return list(dict.fromkeys(found))


def containment_actions(
    *,
    credentials: Iterable[Credential],
    principals_created: Iterable[PrincipalCreated],
    findings: Iterable[Finding],
    upstream: Iterable[Upstream],
    revoke_before: str | None,
    doors: Iterable[DoorEntry] = (),
    targets: dict[str, list[dict[str, Any]]] | None = None,
    ours: Iterable[str] = (),
) -> list[ContainmentAction]:
    """The actions a responder should take, most urgent first: one row per kind of action with every target it applies to.

    Args:
        credentials: The blast radius's credentials.
        principals_created: Users and roles created in the blast radius.
        findings: The blast radius's findings; only successful ones call for action.
        upstream: The credentials that made the key (likely compromised too).
        revoke_before: The time before which sessions are revoked (the end of the evidence).
        doors: The doors the blast radius opened; each open one carries the actions that shut it.
        targets: eventID → the ``event-targets`` rows of that event (everything it acted on, and later deletions).
            An event with no entry falls back to the finding's own target.
        ours: The eventIDs of the blast radius: what they created and is gone needs nothing.

    Returns:
        One action per kind, in order of urgency; a target appears once per action.
    """
    rows: dict[str, dict[str, ContainmentTarget]] = {}

    def add(action: str, target: str | None, detail: str, evidence: str | None = None) -> None:
        if not target:
            return
        entry = rows.setdefault(action, {}).get(target)
        if entry is not None:
            # One entry per target; a different reason for it is added to the same entry.
            if detail not in entry.detail:
                entry.detail += "; " + detail
            return
        rows[action][target] = ContainmentTarget(target, detail, evidence)

    creds = list(credentials)
    created = list(principals_created)
    mine = set(ours)
    door_targets: set[str] = set()
    for door in doors:
        for shut in door.actions:
            add(shut.action, shut.target, shut.detail, door.eventID)
            door_targets.add(shut.target)
    alive = ("active", "unknown")
    for cred in creds:
        if cred.kind == "long-term" and cred.status in (*alive, "inactive"):
            add("deactivate-and-delete-key", cred.id, f"deactivate, then delete, access key {cred.id} of {cred.owner}", cred.born_event)
    for cred in creds:
        if cred.kind == "console-password" and cred.status in alive:
            add("delete-login-profile", cred.owner, f"delete the console password of {cred.owner}", cred.born_event)
    for cred in creds:
        if cred.kind != "temporary" or cred.status not in alive:
            continue
        principal = cred.session_of or cred.owner
        until = f" (they expire at {cred.expires})" if cred.expires else ""
        add(
            "revoke-sessions",
            principal,
            f"attach a policy denying every action when aws:TokenIssueTime is before {revoke_before}: "
            f"revokes {cred.id} and every other session of {principal}{until}",
            cred.born_event,
        )
    for made in created:
        if made.deleted:
            continue
        kind = "delete-user" if made.type == "IAMUser" else "delete-role"
        add(
            kind,
            made.arn,
            f"delete {made.arn} (created by {made.by} at {made.at}) after removing its keys, password and policies",
            made.eventID,
        )
    # What the attacker created and someone deleted since needs no further action on it.
    gone = {p.id for p in created if p.deleted} | {p.arn for p in created if p.deleted}
    for finding in findings:
        rule = CALL_RULES.get(finding.action)
        if rule is None or not finding.succeeded:
            continue
        detail = rule[1] + (f": {finding.detail}" if finding.detail else "")
        for target in _call_targets(finding, targets or {}, mine):
            # A door's own action already says how to shut what this call opened.
            if target not in gone and target not in door_targets:
                add(rule[0], target, detail, finding.eventID)
    for row in upstream:
        if row.credential and row.likely_compromised:
            add(
                "investigate-upstream",
                row.credential,
                f"{row.credential} made this key ({row.eventName} {row.eventID}): treat it as compromised",
                row.eventID,
            )
    return [ContainmentAction(action, SUMMARIES.get(action, action), list(found.values())) for action, found in rows.items()]


def each_target(actions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON rows of ``containment`` as one ``{action, target, detail, eventID}`` per target, in the same order."""
    return [{"action": a["action"]} | t for a in actions for t in a["targets"]]
