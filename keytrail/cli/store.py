"""``keytrail store status`` and ``keytrail store stop``: the embedded store's server, kept running between commands."""

from __future__ import annotations

from typing import Annotated

import typer

from keytrail.cli import exits
from keytrail.cli.output import print_json
from keytrail.cli.settings import Settings, settings_of
from keytrail.graph.backends import BackendError, stop_embedded_server
from keytrail.report.literal import visible

app = typer.Typer(
    name="store",
    help="The embedded store's server: it reads the store once and stays for the next commands until idle (KEYTRAIL_STORE_IDLE_SECONDS).",
    no_args_is_help=True,
)


def _embedded(settings: Settings) -> None:
    if settings.neo4j is not None:
        typer.secho(f"error: keytrail store is for the embedded store; the store in use is {settings.store_description}", err=True, fg=typer.colors.RED)
        raise typer.Exit(exits.USAGE)


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _mib(size: int | None) -> str:
    if size is None:
        return "?"
    mib = size / 1024 / 1024
    return f"{mib:,.1f} MiB" if mib < 10 else f"{mib:,.0f} MiB"


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Whether the store's server is running: its pid, memory, and how long until it stops when idle. Never starts it."""
    from keytrail.graph import embedded

    settings = settings_of(ctx)
    _embedded(settings)
    found = embedded.status(settings.home)
    if as_json:
        print_json(found.to_json())
        return
    where = visible(str(settings.home / embedded.SNAPSHOT))
    typer.echo(f"Store: {where} ({_mib(found.snapshot_bytes) if found.snapshot_bytes is not None else 'empty: no file yet'})")
    if not found.running:
        typer.echo("Server: not running; the next command starts it and reads the store into memory")
    else:
        typer.echo(f"Server: running, pid {found.pid}, up {_duration(found.up_seconds or 0)}, memory {_mib(found.memory_bytes)}")
        if found.idle_seconds is not None and found.stops_after_idle_seconds is not None:
            left = max(0.0, found.stops_after_idle_seconds - found.idle_seconds)
            typer.echo(f"Idle: {_duration(found.idle_seconds)}; it stops after {_duration(found.stops_after_idle_seconds)} idle (in {_duration(left)})")
        typer.echo(f"Socket: {visible(found.socket or '')} (owner-only); watcher pid {found.watcher_pid or 'none: it is not watched'}")
        if found.dirty is not None:
            typer.echo(f"Unsaved writes of keytrail process {found.dirty}: unless it is still running, the next command stops this server and reads the store")
        if found.snapshot_changed:
            typer.echo("The store file changed since the server read it: the next command reads it again")
    if found.in_use_by:
        typer.echo(f"In use by keytrail process {visible(found.in_use_by)}")


@app.command("stop")
def stop(ctx: typer.Context) -> None:
    """Stop the store's server now, without saving (the store file already holds every completed load)."""
    settings = settings_of(ctx)
    _embedded(settings)
    try:
        pid = stop_embedded_server(settings.home)
    except BackendError as exc:
        typer.secho(f"error: {visible(str(exc))}", err=True, fg=typer.colors.RED)
        raise typer.Exit(exits.STORE) from None
    if pid is None:
        typer.echo(f"No server of the store in {visible(str(settings.home))} was running.")
    else:
        typer.echo(f"Stopped the store's server (pid {pid}); the store file is as the last completed load left it.")
