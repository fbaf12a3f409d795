"""Databases and backups: RDS, DynamoDB, AWS Backup."""

from __future__ import annotations

from keytrail.rules.base import Call, Node
from keytrail.rules.registry import resources


@resources("rds")
def rds_resources(call: Call) -> list[Node]:
    for field, kind, rtype in (
        ("dBSnapshotIdentifier", "snapshot", "AWS::RDS::DBSnapshot"),
        ("dBClusterSnapshotIdentifier", "cluster-snapshot", "AWS::RDS::DBClusterSnapshot"),
        ("dBInstanceIdentifier", "db", "AWS::RDS::DBInstance"),
        ("dBClusterIdentifier", "cluster", "AWS::RDS::DBCluster"),
    ):
        value = call.text(field)
        if value:
            return [call.resource(value if value.startswith("arn:") else call.arn("rds", f"{kind}:{value}"), rtype, value)]
    return []


@resources("dynamodb")
def dynamodb_resources(call: Call) -> list[Node]:
    table = call.text("tableName", "tableArn")
    if table:
        return [call.resource(table if table.startswith("arn:") else call.arn("dynamodb", f"table/{table}"), "AWS::DynamoDB::Table", table.rsplit("/", 1)[-1])]
    # Resource-policy calls name a table or one of its streams by ARN: arn:…:table/<name>[/stream/<label>].
    arn = call.text("resourceArn")
    if not arn or "table/" not in arn:
        return []
    name = arn.split("table/", 1)[1].split("/", 1)[0]
    return [call.resource(arn, "AWS::DynamoDB::Stream" if "/stream/" in arn else "AWS::DynamoDB::Table", name)]


@resources("backup")
def backup_resources(call: Call) -> list[Node]:
    vault = call.text("backupVaultName")
    point = call.text("recoveryPointArn")
    found = []
    if point:
        found.append(call.resource(point, "AWS::Backup::RecoveryPoint", point.rsplit(":", 1)[-1]))
    if vault:
        found.append(call.resource(call.arn("backup", f"backup-vault:{vault}"), "AWS::Backup::BackupVault", vault))
    return found
