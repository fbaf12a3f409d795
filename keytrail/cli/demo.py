"""``keytrail demo``: the AWS CIRT workshop's questions answered on a shipped sample incident.

The sample is made by keytrail's own generator (:mod:`keytrail.sample.workshop`), written
as CloudTrail delivers it (gzipped S3 log files) and loaded into an embedded store of its
own, so the demo never touches the user's data and needs no server.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from keytrail.cli.settings import settings_of
from keytrail.graph.backends import FalkorDBBackend
from keytrail.graph.runner import run_query
from keytrail.ingest import Ingest
from keytrail.loaders.files import FileSource


def demo(
    ctx: typer.Context,
    folder: Annotated[Path | None, typer.Option(help="Where to write the sample logs and the demo store. Default: <KEYTRAIL_HOME>/demo")] = None,
) -> None:
    """Load a sample leaked-key incident into a fresh embedded store and answer the workshop's questions."""
    # The generator is imported here, not with the module: every other command starts faster without it.
    from keytrail.sample import workshop_incident
    from keytrail.sample.layout import write_s3_layout

    settings = settings_of(ctx)
    root = folder or settings.home / "demo"
    if root.exists():
        shutil.rmtree(root)
    logs = root / "logs"
    incident = workshop_incident()
    write_s3_layout(incident.records, logs, duplicate_every=50)
    backend = FalkorDBBackend(root / "store")
    try:
        summary = Ingest(backend, "workshop-demo", rejects_path=root / "rejects.jsonl").run(FileSource([logs]), [str(logs)])
        answers = _answers(backend, incident.facts.leaked_key.access_key_id)
    finally:
        backend.close()
    console = Console()
    console.print(
        Panel.fit(
            f"Sample incident: {summary.read:,} CloudTrail records read from {logs}\n"
            f"= {summary.loaded:,} loaded + {summary.duplicates:,} duplicate deliveries + {summary.rejected:,} rejected"
            f" ({summary.seconds:.1f} s, embedded store)\n"
            f"The exposed access key is [bold]{answers['key']}[/bold] (as in the AWS CIRT workshop).",
            title="keytrail demo",
        )
    )
    _print_report(console, answers)
    console.print(
        "\n[bold]Explore the same data in Neo4j Browser[/bold]\n"
        "  scripts/neo4j-local start          # or: NEO4J_PASSWORD=... docker compose up -d --wait\n"
        f"  keytrail --neo4j bolt://127.0.0.1:7687 load {logs} --incident workshop-demo\n"
        "  open http://127.0.0.1:7474/browser/ and run:\n"
        f"  MATCH p=(k:AccessKey {{accessKeyId: '{answers['key']}'}})-[:ISSUED*0..]->(c)-[:SIGNED]->(e) RETURN p"
    )


def _answers(backend: FalkorDBBackend, key: str) -> dict[str, Any]:
    identity = run_query(backend, "key-identity", {"key": key})
    user = identity[0]["userName"] if identity else None
    created = run_query(backend, "keys-created-by", {"user": user}) if user else []
    return {
        "key": key,
        "first": run_query(backend, "key-first-use", {"key": key}),
        "identity": identity,
        "activity": run_query(backend, "key-activity", {"key": key}),
        "created": [dict(row, activity=run_query(backend, "key-activity", {"key": row["accessKeyId"]})) for row in created],
        "deleted": run_query(backend, "user-deleted", {"user": user}) if user else [],
    }


def _print_report(console: Console, answers: dict[str, Any]) -> None:
    first = answers["first"][0] if answers["first"] else None
    console.print("\n[bold]1. When was the key first used, and for what?[/bold]")
    console.print(f"   {first['eventTime']}  {first['eventName']}  from {first['sourceIPAddress']}" if first else "   never used")
    console.print("[bold]2. Whose key is it?[/bold]")
    for who in answers["identity"]:
        console.print(f"   {who['type']} {who['userName']}  ({who['arn']}, account {who['accountId']})")
    console.print(f"[bold]3. What did it do?[/bold]  {len(answers['activity'])} calls")
    table = Table("time", "call", "result", "target", box=None, pad_edge=False)
    for row in answers["activity"]:
        table.add_row(row["eventTime"], row["eventName"], row["errorCode"] or "ok", row["target"] or "")
    console.print(table)
    console.print("[bold]4. Which keys did it create?[/bold]")
    for row in answers["created"]:
        used = len(row["activity"])
        verdict = "[yellow]never used (a sleeper)[/yellow]" if used == 0 else f"used {used} times"
        console.print(f"   {row['accessKeyId']} for {row['owner']} at {row['eventTime']}: {verdict}")
    for row in answers["created"]:
        if row["activity"]:
            console.print(f"[bold]5. What did {row['accessKeyId']} ({row['owner']}) do?[/bold]")
            for event in row["activity"]:
                console.print(f"   {event['eventTime']}  {event['eventName']}  {event['errorCode'] or 'ok'}  {event['target'] or ''}")
    console.print("[bold]6. Who deleted the key's user?[/bold]")
    for row in answers["deleted"]:
        console.print(f"   {row['eventTime']}  {row['eventName']} by {row['actor']} with key {row['credential']}  (event {row['eventID']})")
    if not answers["deleted"]:
        console.print("   nobody")
