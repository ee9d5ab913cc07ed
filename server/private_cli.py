"""``mutualog-server private``: the private store's encryption at rest.

``upgrade`` brings an instance made before migration 0010 to it in place:
migrates the database, seals every name, ID number, phone, document and
file name still stored in plaintext, and stores the keyed hash of the ID
number of each active member who joined before migration 0008.
``consents USERNAME`` lists the consents an account gave (PIPL: the
separate consent to process medical information, a guardian's consent
for a child), with the sentence ticked, its language and time.
``rotate-key`` puts a fresh data key in ``private-data.key``, seals every
value again under it and then drops the old key.  ``rehash-identities``
hashes the active members' ID numbers again under a new identity key (for a
lost or a rotated ``identity-hash.key``).  ``status`` counts the stored
values by key.  Each works in batches with its progress on stderr;
each can be interrupted and run again, and a second run finds nothing to
do.  A key that is missing or wrong, or an ID number two members share,
is one line on stderr and exit status 2 (docs/operations.md).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import click
from sqlalchemy import Engine, Table, delete, select

from server.app import create_app
from server.config import load_settings
from server.context import EXTENSION, LogContext
from server.db import make_engine
from server.db import upgrade as migrate
from server.models import AccountRow, MemberIdentityRow
from server.private._tx import private_transaction
from server.private.at_rest import census, fill_identity_hashes, reseal
from server.private.consents import consents_of
from server.private.identity_key import IDENTITY_KEY_FILE, IdentityKeyError, identity_key
from server.private.key_check import refuse_lost_data_key
from server.private.key_files import new_key, replace_key_file
from server.private.sealing import Sealer, SealingKeyError, sealer_of
from server.storage import LogStore
from verifiable.errors import MutualogError
from verifiable.log.bodies import MemberLeft
from verifiable.log.entry import parse_entry

__all__ = ["IdentityConflictError", "private"]

_CHUNK = 5000
_identities = cast(Table, MemberIdentityRow.__table__)


class IdentityConflictError(MutualogError):
    """Members who joined before one membership per person was enforced and
    share an ID number: their keyed hashes cannot all be stored."""


def _context(ctx: click.Context) -> LogContext:
    app = create_app(ctx.obj or {})
    context: LogContext = app.extensions[EXTENSION]
    ctx.call_on_close(context.engine.dispose)
    return context


def _progress(table: str, done: int) -> None:
    click.echo(f"  {table}: {done:,} rows", err=True)


def _left_members(engine: Engine) -> set[str]:
    """Every member the log says has left."""
    store = LogStore(engine)
    size = store.size()
    left: set[str] = set()
    for start in range(0, size, _CHUNK):
        for offset, data in enumerate(store.entries(start, min(size, start + _CHUNK))):
            if b'"member.left"' in data:
                body = parse_entry(data, seq=start + offset).body
                if isinstance(body, MemberLeft):
                    left.add(body.member)
    return left


def _report(counts: Counter[str]) -> None:
    click.echo(
        f"{counts['sealed']:,} values sealed, {counts['resealed']:,} sealed again "
        "under the current key"
    )


@click.group()
def private() -> None:
    """The private store's encryption at rest (docs/operations.md)."""


@private.command("upgrade")
@click.pass_context
def upgrade_command(ctx: click.Context) -> None:
    """Migrate, seal what is stored in plaintext, fill the missing keyed hashes."""
    context = _context(ctx)
    engine, settings = context.engine, context.settings
    migrate(engine)
    sealer = sealer_of(engine)
    click.echo(f"sealing under the data key in {sealer.path}...", err=True)
    _report(reseal(engine, sealer, _progress))
    _fill_hashes(engine, settings.instance)


def _fill_hashes(engine: Engine, instance: Path) -> None:
    """Store the keyed hash of every active member's ID number that has none;
    members sharing an ID number with an active member are refused by name."""
    left = _left_members(engine)
    click.echo("storing the keyed hashes of ID numbers that have none...", err=True)
    fill = fill_identity_hashes(
        engine,
        sealer_of(engine),
        identity_key(instance),
        left.__contains__,
        datetime.now(UTC),
        _progress,
    )
    click.echo(f"{fill.filled:,} keyed hashes stored")
    if fill.conflicts:
        pairs = ", ".join(f"{member} (held by {holder})" for member, holder in fill.conflicts)
        raise IdentityConflictError(
            f"{len(fill.conflicts)} members share an ID number with another active member and "
            f"have no keyed hash: {pairs}; one person holds one membership (docs/privacy.md)"
        )


@private.command("rotate-key")
@click.pass_context
def rotate_key_command(ctx: click.Context) -> None:
    """Seal everything again under a fresh data key, then drop the old one.

    Stop the servers first (docs/operations.md).  Interrupted, run it again:
    it finishes the rotation it began rather than starting another.
    """
    context = _context(ctx)
    engine = context.engine
    sealer = sealer_of(engine)
    if not sealer.path.exists():
        raise SealingKeyError(f"no data key to rotate: {sealer.path} does not exist")
    keys = sealer.keys_on_file()
    if len(keys) == 1:
        keys = [new_key(), *keys]
        replace_key_file(sealer.path, keys, SealingKeyError, "private-data key")
        click.echo(f"a new data key is first in {sealer.path}", err=True)
    else:
        click.echo(f"finishing the rotation begun in {sealer.path}", err=True)
    _report(reseal(engine, sealer, _progress))
    left = {kid: n for kid, n in census(engine).items() if kid != sealer.current_key_id().hex()}
    if left:
        raise SealingKeyError(f"values still not under the new key: {left}; run rotate-key again")
    replace_key_file(sealer.path, keys[:1], SealingKeyError, "private-data key")
    kid = sealer.current_key_id().hex()
    click.echo(f"rotated: {sealer.path} holds the new key only (key id {kid})")


@private.command("rehash-identities")
@click.pass_context
def rehash_identities_command(ctx: click.Context) -> None:
    """Hash every active member's ID number again under a new identity key.

    For a lost ``identity-hash.key``, or to rotate it.  Stop the servers
    first (docs/operations.md).  Interrupted, run it again.
    """
    settings = load_settings(ctx.obj or {})
    engine = make_engine(settings.database_url, Sealer(settings.instance))
    ctx.call_on_close(engine.dispose)
    # The identity key may be gone (that is what this is for); the data key,
    # which opens the ID numbers, may not.
    refuse_lost_data_key(engine, settings.instance)
    migrate(engine)
    with private_transaction(engine) as conn:
        dropped = conn.execute(delete(_identities)).rowcount
    path = settings.instance / IDENTITY_KEY_FILE
    replace_key_file(path, [new_key()], IdentityKeyError, "identity key")
    click.echo(f"{dropped:,} keyed hashes dropped; a new identity key is in {path}", err=True)
    _fill_hashes(engine, settings.instance)


@private.command("status")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Count the stored private values: in plaintext, and under each key id."""
    engine = _context(ctx).engine
    sealer = sealer_of(engine)
    current = sealer.current_key_id().hex()
    for kid, count in sorted(census(engine).items()):
        what = "plaintext" if kid == "plaintext" else f"key {kid}"
        mark = " (current)" if kid == current else ""
        click.echo(f"{count:,}\t{what}{mark}")


@private.command("consents")
@click.argument("username")
@click.pass_context
def consents_command(ctx: click.Context, username: str) -> None:
    """List the consents USERNAME gave: when, which, in which language,
    for which claim, and the sentence ticked."""
    engine = _context(ctx).engine
    with engine.connect() as conn:
        account = conn.execute(
            select(AccountRow.id).where(AccountRow.username == username.lower())
        ).scalar()
    if account is None:
        raise click.UsageError(f"no account named {username!r}")
    given = consents_of(engine, account)
    if not given:
        click.echo(f"{username} has given no consent recorded here", err=True)
    for c in given:
        claim = f"\tclaim {c.claim_id}" if c.claim_id else ""
        click.echo(f"{c.given.isoformat()}\t{c.kind.value}\t{c.lang}{claim}\t{c.wording}")
