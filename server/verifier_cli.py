"""``mutualog-server verifier``: the verifier page and its hash in the log.

``verifier publish`` appends a ``verifier.published`` entry with the SHA-256
of the page this release serves (:mod:`server.verifier_publish`), unless
that hash is already the one in force; then it says so, appends nothing and
exits 0, so a deploy script may run it every time.  It is a deploy step,
not something ``serve`` does on start (docs/verifier.md, "Publishing the
page's hash").
"""

from __future__ import annotations

import click

from server.app import create_app
from server.pool_app import POOL_EXTENSION, PoolHolder
from server.verifier_publish import publish_page

__all__ = ["verifier"]


@click.group()
def verifier() -> None:
    """The verifier page served at /verifier, and its hash in the log."""


@verifier.command()
@click.pass_context
def publish(ctx: click.Context) -> None:
    """Publish the SHA-256 of the verifier page this release serves, unless
    the log already holds it as the hash in force."""
    app = create_app(ctx.obj or {})
    ctx.call_on_close(app.extensions["mutualog"].engine.dispose)
    holder: PoolHolder = app.extensions[POOL_EXTENSION]
    latest, appended = publish_page(holder.service())
    what = f"the page's SHA-256 {latest.sha256.hex()} ({latest.size} bytes, {latest.build})"
    if appended:
        click.echo(f"published {what} in entry {latest.seq}")
    else:
        click.echo(f"already published: {what} is in force since entry {latest.seq}")
