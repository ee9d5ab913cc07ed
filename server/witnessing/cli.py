"""``mutualog-server witness``: the log's witnesses, and the submitter.

* ``witness add NAME URL VERIFIER_KEY``: a witness, by the name of its key,
  its C2SP tlog-witness submission prefix and its verifier key;
* ``witness list``: each witness, its URL, key, the last size it cosigned
  and how the last submission went;
* ``witness remove NAME``: stop submitting to it (what it cosigned stays);
* ``witness policy K``: ``/checkpoint`` serves the newest checkpoint K of
  them cosigned (0: the newest checkpoint, witnessed or not);
* ``witness run``: the submitter, a loop until interrupted (``--once`` for
  one round).

Bad input is one line on stderr and exit status 2, with nothing changed.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType

import click
from sqlalchemy import Engine

from server.config import load_settings
from server.db import make_engine, upgrade
from server.tilefiles import tile_files
from server.witnessing.store import (
    add_witness,
    list_witnesses,
    remove_witness,
    required_witnesses,
    set_required,
)
from server.witnessing.submit import Gatherer

__all__ = ["witness"]


def _now() -> datetime:
    return datetime.now(UTC)


def _engine(ctx: click.Context) -> Engine:
    settings = load_settings(ctx.obj or {})
    engine = make_engine(settings.database_url)
    ctx.call_on_close(engine.dispose)
    upgrade(engine)
    return engine


@click.group()
def witness() -> None:
    """The log's witnesses: who cosigns its checkpoints, and how many must."""


@witness.command()
@click.argument("name")
@click.argument("url")
@click.argument("verifier_key")
@click.pass_context
def add(ctx: click.Context, name: str, url: str, verifier_key: str) -> None:
    """Add the witness NAME at URL (its submission prefix) with VERIFIER_KEY."""
    added = add_witness(_engine(ctx), name, url, verifier_key, _now())
    click.echo(f"witness {added.name} added: {added.url}")


@witness.command("list")
@click.pass_context
def list_command(ctx: click.Context) -> None:
    """List the witnesses and the policy."""
    engine = _engine(ctx)
    witnesses = list_witnesses(engine)
    click.echo(f"policy: {required_witnesses(engine)} of {len(witnesses)} witnesses required")
    for w in witnesses:
        cosigned = "never" if w.last_cosigned is None else str(w.last_cosigned)
        state = f"error: {w.last_error}" if w.last_error else "ok"
        click.echo(f"{w.name}\t{w.url}\t{w.vkey}\tlast cosigned {cosigned}\t{state}")


@witness.command()
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Stop submitting to the witness NAME; its cosignatures are kept."""
    remove_witness(_engine(ctx), name)
    click.echo(f"witness {name} removed")


@witness.command()
@click.argument("required", type=click.IntRange(min=0))
@click.pass_context
def policy(ctx: click.Context, required: int) -> None:
    """Serve at /checkpoint only checkpoints REQUIRED of the witnesses cosigned."""
    engine = _engine(ctx)
    set_required(engine, required, _now())
    files = tile_files(load_settings(ctx.obj or {}))
    if files is not None:
        # A lower K may serve a newer checkpoint now (a file never goes back).
        files.publish_after_commit(engine)
    click.echo(f"policy: {required} witnesses required")


@witness.command()
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between rounds.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds to wait for a witness's answer.",
)
@click.option("--once", is_flag=True, help="One round, waiting for every answer, then exit.")
@click.pass_context
def run(ctx: click.Context, interval: float, timeout: float, once: bool) -> None:
    """Submit each new checkpoint to every witness, until interrupted."""
    files = tile_files(load_settings(ctx.obj or {}))
    gatherer = Gatherer(_engine(ctx), _now, timeout=timeout, files=files)
    if once:
        try:
            futures = gatherer.round(wait=True)
        finally:
            gatherer.close()
        if futures is None:
            click.echo("another submitter holds the lease; nothing done", err=True)
            return
        for future in futures:
            outcome = future.result()
            click.echo(
                f"{outcome.witness}\tsize {outcome.size}\t{outcome.status}\t{outcome.detail}"
            )
        return
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"submitting checkpoints to the witnesses every {interval} s", err=True)
    gatherer.run(stop, interval)
