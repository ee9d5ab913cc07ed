"""``mutualog-server state``: the pool's state in the database
(:mod:`server.pool.state_store`).

``state rebuild`` empties the state tables and builds them again from the
log the instance holds (what an instance upgraded past migration 0012
runs once, though the server also catches the state up on its own);
``state check`` recomputes the state from the log, in memory, and compares
it with the stored state: exit 0 when they are the same, 1 with the first
difference named.
"""

from __future__ import annotations

import click
from sqlalchemy import Engine

from server.config import load_settings
from server.db import make_engine, upgrade
from server.pool.state_store import check, rebuild
from verifiable.errors import MutualogError

__all__ = ["state"]


def _engine(ctx: click.Context) -> Engine:
    settings = load_settings(ctx.obj or {})
    engine = make_engine(settings.database_url)
    ctx.call_on_close(engine.dispose)
    upgrade(engine)
    return engine


@click.group()
def state() -> None:
    """The pool's state in the database: rebuild it, or check it against the log."""


@state.command("rebuild")
@click.pass_context
def rebuild_command(ctx: click.Context) -> None:
    """Build the state tables again from the stored log."""
    engine = _engine(ctx)

    def progress(done: int, size: int) -> None:
        click.echo(f"state: {done} of {size} entries", err=True)

    try:
        size = rebuild(engine, progress=progress)
    except MutualogError as e:
        raise click.ClickException(f"state rebuild: {e}") from e
    click.echo(f"state rebuilt from the log's {size} entries")


@state.command("check")
@click.pass_context
def check_command(ctx: click.Context) -> None:
    """Recompute the state from the log and compare it with the stored state."""
    difference = check(_engine(ctx))
    if difference is not None:
        click.echo(f"state check: {difference}", err=True)
        ctx.exit(1)
    click.echo("state check: the stored state is the state the log gives")
