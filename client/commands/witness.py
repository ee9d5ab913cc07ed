"""``mutualog witness keygen`` and ``witness cosign``: witness mode (docs/client.md)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from client.commands.common import (
    EXIT_FAILED,
    EXIT_VERIFIED,
    CannotVerify,
    now,
    origin_of,
    pinned,
    print_checks,
    state_of,
)
from client.fetch import HttpFetcher
from client.i18n import _, detail
from client.state import safe_name
from client.witness import WitnessKeyError, cosign, create_witness_key, load_witness_key

__all__ = ["witness"]

_SEED_SIZE = 32


# --- witness -------------------------------------------------------------------


@click.group()
def witness() -> None:
    """Witness mode: cosign a log's checkpoints after checking they never fork or shrink."""


@witness.command("keygen")
@click.argument("name")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the private key (default: witness-keys/NAME.key in the state folder).",
)
@click.pass_context
def keygen(ctx: click.Context, name: str, out: Path | None) -> int:
    """Make a new witness key NAME; print its verifier key."""
    if out is None:
        out = state_of(ctx).root / "witness-keys" / f"{safe_name(name)}.key"
    try:
        vkey = create_witness_key(out, name, os.urandom(_SEED_SIZE))
    except WitnessKeyError as e:
        raise CannotVerify(detail(str(e))) from e
    click.echo(_("private key written to {path} (keep it secret)").format(path=out), err=True)
    click.echo(vkey)
    return EXIT_VERIFIED


@witness.command("cosign")
@click.argument("url")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witness's private key file.",
)
@click.option("--origin", help="The pinned log (default: the checkpoint's origin line).")
@click.pass_context
def cosign_command(ctx: click.Context, url: str, key_file: Path, origin: str | None) -> int:
    """Fetch the log's checkpoint from URL, check it against the pinned key and the
    last checkpoint this witness cosigned, and print it cosigned."""
    state = state_of(ctx)
    try:
        signer = load_witness_key(key_file)
    except WitnessKeyError as e:
        raise CannotVerify(detail(str(e))) from e
    fetcher = HttpFetcher(url)
    note = fetcher.checkpoint()
    if origin is None:
        origin = origin_of(note, fetcher.url("checkpoint"))
    pin = pinned(state, origin)
    report = cosign(pin, state, fetcher, signer, int(time.time()), now(), note=note)
    print_checks(report.checks, err=True)
    if report.note is None:
        if report.evidence is not None:
            click.echo(_("evidence saved in {path}").format(path=report.evidence), err=True)
        click.echo(_("NOT COSIGNED"), err=True)
        return EXIT_FAILED
    sys.stdout.flush()
    click.echo(report.note.decode("utf-8"), nl=False)
    return EXIT_VERIFIED
