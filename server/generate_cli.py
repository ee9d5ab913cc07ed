"""``mutualog-server generate``: a large honest pool in an empty instance,
for measuring the system at scale (a log of ten million members in minutes).

A command of the server rather than a script of the benchmarks, so that the
instance it builds is an ordinary one — its key, its database, served by
``serve`` or gunicorn and audited like any other — and every benchmark of
scale starts from the same command.  The pool comes from
:class:`verifiable.testonly.bulk.BulkSimulation` and is written by
:func:`server.bulkload.load_generated`.  Unlike ``demo`` it makes no
accounts, documents or witness: only the log.
"""

from __future__ import annotations

import os
import random
import sys
import time

import click

from server.bulkload import load_generated
from server.config import load_settings
from server.db import make_engine, upgrade
from server.keys import create_key_file, load_log_signer
from server.private.key_check import refuse_lost_keys
from server.private.sealing import Sealer
from verifiable.testonly.bulk import BulkSimulation, large_pool_config

__all__ = ["GENERATED_ORIGIN", "generate"]

#: The origin of a generated log whose instance names none.
GENERATED_ORIGIN = "localhost/mutualog/generated"


@click.command()
@click.option(
    "--members",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(200, 200_000_000),
    help="Members who join over the simulated days (half of them founders).",
)
@click.option("--days", default=60, show_default=True, type=click.IntRange(1, 3650))
@click.option(
    "--claims-per-day",
    default=20,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Claims filed a day, each through notice, panel, votes and decision.",
)
@click.option("--seed", default=2024, show_default=True, type=int, help="The simulation's seed.")
@click.pass_context
def generate(ctx: click.Context, members: int, days: int, claims_per_day: int, seed: int) -> None:
    """Generate an honest pool of MEMBERS members into an empty instance's log."""
    settings = load_settings(ctx.obj or {})
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = make_engine(settings.database_url, Sealer(settings.instance))
    ctx.call_on_close(engine.dispose)
    refuse_lost_keys(engine, settings.instance)
    upgrade(engine)
    if not settings.key_file.exists():
        origin = settings.origin or GENERATED_ORIGIN
        create_key_file(settings.key_file, origin, os.urandom(32))
    signer = load_log_signer(settings)
    config = large_pool_config(members, days=days, claims_per_day=claims_per_day * 100)
    simulation = BulkSimulation(random.Random(seed), config)
    began = time.perf_counter()

    def progress(size: int) -> None:
        rate = size / max(time.perf_counter() - began, 1e-9)
        click.echo(f"  {size:>12,} entries stored, {rate:,.0f}/s", err=True)

    loaded = load_generated(engine, simulation.run(), signer, signer.verifier().name, progress)
    seconds = time.perf_counter() - began
    stats = simulation.stats
    click.echo(
        f"generated {loaded.size:,} entries in {seconds:,.1f} s "
        f"({loaded.size / seconds:,.0f}/s): {stats['member.joined']:,} joins, "
        f"{stats['member.left']:,} leaves, {stats['claim.filed']:,} claims, "
        f"{stats['claim.paid']:,} paid, {stats['period.closed']:,} periods closed; "
        f"root {loaded.root_hash.hex()}",
        file=sys.stdout,
    )
