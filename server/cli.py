"""``mutualog-server``: set up, run, append to, snapshot, restore and export a
log, and run the pool (the ``pool`` group of :mod:`server.pool_cli`).

Every command reads the settings of :mod:`server.config` (``--instance`` and
``--database-url`` override the environment).  Errors are one line on
stderr, never a traceback: exit status 2 for a usage or input error (a bad
option, a malformed file, a snapshot that fails verification, an existing
key), 1 for an operational failure (the database cannot be reached).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from server.app import create_app
from server.config import PUBLIC_URL, TILE_DIR, Settings, load_settings
from server.db import make_engine, upgrade
from server.generate_cli import generate
from server.keys import create_key_file, load_log_signer
from server.mail import notify
from server.pool_cli import pool
from server.private.accounts import Accounts, Role, check_password, normalize_username
from server.private.key_check import refuse_lost_keys
from server.private.passwords import Passwords
from server.private.sealing import Sealer
from server.private.throttle import RequestLimits
from server.private_cli import private
from server.sequencer import Sequencer
from server.serving import serve as serve_with_gunicorn
from server.serving import served_url
from server.snapshot import export_tiles, restore, write_snapshot
from server.state_cli import state
from server.storage import LogStore
from server.tilefiles import TileFiles, tile_files
from server.verifier.cli import build as build_verifier_page
from server.verifier_cli import verifier
from server.witnessing.cli import witness
from verifiable.errors import MalformedError, MutualogError
from verifiable.log.bodies import BODY_TYPES, Body, parse_body
from verifiable.log.entry import load_strict_json

__all__ = ["APPEND_BATCH", "cli", "main"]

#: Entries per sequencer transaction when appending a file.
APPEND_BATCH = 1000

_SEED_SIZE = 32


class InputError(MutualogError):
    """A command's input that cannot be used (a malformed line, a missing key)."""


def _settings(ctx: click.Context) -> Settings:
    overrides: dict[str, object] = ctx.obj or {}
    return load_settings(overrides)


def _engine(ctx: click.Context, settings: Settings) -> Engine:
    engine = make_engine(settings.database_url, Sealer(settings.instance))
    # Connections closed now, not by the garbage collector at exit.
    ctx.call_on_close(engine.dispose)
    # An old instance whose key file was lost must not go on with a new one.
    refuse_lost_keys(engine, settings.instance)
    return engine


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    help="Instance folder (database, key). Default: $MUTUALOG_INSTANCE or ./instance.",
)
@click.option(
    "--database-url",
    help="SQLAlchemy URL. Default: $MUTUALOG_DATABASE_URL or a SQLite file in the instance.",
)
@click.pass_context
def cli(ctx: click.Context, instance: Path | None, database_url: str | None) -> None:
    """Run a mutualog transparency log server."""
    overrides: dict[str, object] = {}
    if instance is not None:
        overrides["MUTUALOG_INSTANCE"] = instance
    if database_url is not None:
        overrides["MUTUALOG_DATABASE_URL"] = database_url
    ctx.obj = overrides


@cli.command()
@click.option(
    "--origin", help="The log's origin line (its permanent name). Default: $MUTUALOG_ORIGIN."
)
@click.pass_context
def init(ctx: click.Context, origin: str | None) -> None:
    """Create the instance folder, the database, the log key and the private
    store's data key; print the verifier key."""
    overrides = dict(ctx.obj or {})
    if origin is not None:
        overrides["MUTUALOG_ORIGIN"] = origin
    settings = load_settings(overrides)
    if settings.origin is None:
        raise click.UsageError(
            "give the log's origin with --origin or MUTUALOG_ORIGIN "
            "(e.g. example.org/mutualog/pool-1); it names the log forever"
        )
    if settings.key_file.exists():
        raise InputError(
            f"key file {settings.key_file} already exists; refusing to overwrite a log's key"
        )
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = _engine(ctx, settings)
    upgrade(engine)
    if LogStore(engine).latest_checkpoint() is not None:
        raise InputError(
            "the database already holds a log; a new key cannot sign for it "
            "(restore the old key file instead)"
        )
    settings.key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    vkey = create_key_file(settings.key_file, settings.origin, os.urandom(_SEED_SIZE))
    signer = load_log_signer(settings)
    Sequencer(engine, signer, settings.origin, _utc_now).ensure_checkpoint()
    click.echo(f"created log {settings.origin} in {settings.instance}", err=True)
    click.echo(f"private key: {settings.key_file} (keep it secret; back it up)", err=True)
    # Made now rather than at the first join, so the first backup holds it.
    data_key = Sealer(settings.instance)
    data_key.current_key_id()
    click.echo(f"private-data key: {data_key.path} (back it up apart from the database)", err=True)
    click.echo(vkey)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port."
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the log with Werkzeug's development server (use gunicorn in production)."""
    overrides = dict(ctx.obj or {})
    if not os.environ.get(PUBLIC_URL):
        overrides[PUBLIC_URL] = served_url(host, port)
    app = create_app(overrides)
    ctx.call_on_close(app.extensions["mutualog"].engine.dispose)
    app.run(host=host, port=port)


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.pass_context
def snapshot(ctx: click.Context, out: Path) -> None:
    """Write a snapshot (a tar of the checkpoint, tiles and entries) to OUT ('-': stdout)."""
    store = LogStore(_engine(ctx, _settings(ctx)))
    if str(out) == "-":
        checkpoint = write_snapshot(store, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        with _atomic_output(out) as f:
            checkpoint = write_snapshot(store, f)
    click.echo(f"snapshot of tree size {checkpoint.size} written to {out}", err=True)


@cli.command("restore")
@click.argument(
    "snapshot_file", metavar="SNAPSHOT", type=click.Path(dir_okay=False, path_type=Path)
)
@click.pass_context
def restore_command(ctx: click.Context, snapshot_file: Path) -> None:
    """Verify SNAPSHOT completely and load it into the instance's empty database."""
    settings = _settings(ctx)
    verifier = load_log_signer(settings).verifier()
    if not snapshot_file.is_file():
        raise InputError(f"{snapshot_file}: no such file")
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = _engine(ctx, settings)
    upgrade(engine)
    checkpoint = restore(snapshot_file, engine, verifier, verifier.name)
    click.echo(
        f"restored {checkpoint.size} entries of {checkpoint.origin}, "
        f"root {checkpoint.root_hash.hex()}"
    )


@cli.command("export-tiles")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def export_tiles_command(ctx: click.Context, directory: Path) -> None:
    """Write the checkpoint, tiles and entry bundles into DIR as static files."""
    settings = _settings(ctx)
    verifier = load_log_signer(settings).verifier()
    store = LogStore(_engine(ctx, settings))
    checkpoint = export_tiles(store, directory, verifier, verifier.name)
    click.echo(f"exported tree size {checkpoint.size} to {directory}")


@cli.group()
def tiles() -> None:
    """The log's files kept for a web server in $MUTUALOG_TILE_DIR."""


@tiles.command("sync")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder. Default: $MUTUALOG_TILE_DIR.",
)
@click.pass_context
def tiles_sync(ctx: click.Context, directory: Path | None) -> None:
    """Bring the checkpoint, tiles and entry bundles in the folder up to the
    database, removing temporary files a killed writer left."""
    settings = _settings(ctx)
    files = TileFiles(directory) if directory is not None else tile_files(settings)
    if files is None:
        raise InputError(f"no tile folder: set {TILE_DIR} or give --dir")
    published = files.publish(_engine(ctx, settings), clean=True)
    click.echo(
        f"{files.directory}: tiles of tree size {published.tiles_size}, checkpoint of "
        f"{'none yet' if published.checkpoint_size is None else published.checkpoint_size}, "
        f"{published.written} files written"
    )


@cli.command()
@click.argument("file", type=click.File("rb"))
@click.pass_context
def append(ctx: click.Context, file: BinaryIO) -> None:
    """Append the entries in FILE ('-': stdin), one {"type": ..., "body": ...} JSON object a line.

    Every line is checked before anything is appended; then the entries go
    in, in order, in batches of one transaction each.
    """
    settings = _settings(ctx)
    signer = load_log_signer(settings)
    items = list(_read_items(file, getattr(file, "name", "input")))
    if not items:
        raise InputError("no entries to append: the file has no lines")
    sequencer = Sequencer(
        _engine(ctx, settings), signer, signer.name, _utc_now, files=tile_files(settings)
    )
    first = size = 0
    for start in range(0, len(items), APPEND_BATCH):
        result = sequencer.append(items[start : start + APPEND_BATCH])
        if start == 0:
            first = result.first_seq
        size = result.size
    click.echo(f"appended {len(items)} entries (seq {first} to {size - 1}); tree size {size}")


@cli.command("create-operator")
@click.argument("username")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@click.pass_context
def create_operator(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Create an operator account USERNAME (the password is prompted for twice)."""
    settings = _settings(ctx)
    if password_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
    else:
        password = click.prompt("Password", hide_input=True, default="", show_default=False)
        again = click.prompt("Repeat the password", hide_input=True, default="", show_default=False)
        if password != again:
            raise InputError("the two passwords differ; nothing was created")
    if not password:
        raise InputError("the password is empty; nothing was created")
    # Input first: a refused name or password touches neither folder nor database.
    check_password(password, normalize_username(username))
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = _engine(ctx, settings)
    upgrade(engine)
    accounts = Accounts(engine, Passwords(), RequestLimits(engine))
    account = accounts.register(username, password, _utc_now(), role=Role.OPERATOR)
    click.echo(f"created operator account {account.username!r}")


@cli.command("reset-password")
@click.argument("username")
@click.option(
    "--hours",
    default=24,
    show_default=True,
    type=click.IntRange(1, 168),
    help="How long the code can be used.",
)
@click.pass_context
def reset_password(ctx: click.Context, username: str, hours: int) -> None:
    """Issue a one-time code with which the account USERNAME sets a new
    password at /reset (its earlier codes stop working)."""
    settings = _settings(ctx)
    engine = _engine(ctx, settings)
    upgrade(engine)
    accounts = Accounts(engine, Passwords(), RequestLimits(engine))
    issued = accounts.issue_reset(username, _utc_now(), timedelta(hours=hours))
    click.echo(f"one-time reset code for {username.lower()!r}: {issued.code}")
    until = f"{issued.expires:%Y-%m-%d %H:%M} UTC"
    click.echo(f"valid once, until {until}, at {settings.public_url}/reset")


# --- demo ------------------------------------------------------------------------

DEMO_ORIGIN = "localhost/mutualog/demo"


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port."
)
@click.option(
    "--members",
    default=10_000,
    show_default=True,
    type=click.IntRange(200, 1_000_000),
    help="Founding members of the simulated pool.",
)
@click.option("--seed", default=2024, show_default=True, type=int, help="The simulation's seed.")
@click.option("--no-serve", is_flag=True, help="Build the demo and exit without serving it.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, members: int, seed: int, no_serve: bool) -> None:
    """Build a realistic demo pool in an empty instance and serve it on localhost."""
    from server.demo import DemoBuilder
    from server.demo_clock import start_demo_clock
    from server.pool_app import POOL_EXTENSION, PoolHolder
    from server.private.identity_key import identity_key

    settings = _settings(ctx)
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = _engine(ctx, settings)
    upgrade(engine)
    if LogStore(engine).latest_checkpoint() is not None:
        raise InputError(
            f"the database of {settings.instance} already holds a log; build the demo in an "
            "empty instance: mutualog-server --instance DIR demo"
        )
    if not settings.key_file.exists():
        origin = settings.origin or DEMO_ORIGIN
        create_key_file(settings.key_file, origin, os.urandom(_SEED_SIZE))
    signer = load_log_signer(settings)
    builder = DemoBuilder(
        engine, signer, members, seed=seed, identity_key=identity_key(settings.instance)
    )
    click.echo(f"simulating a pool of {members:,} founding members...", err=True)
    entries = builder.simulate()
    with click.progressbar(
        length=len(entries), label="storing the log", file=sys.stderr, show_pos=True
    ) as bar:
        builder.store(bar.update)
    # The demo's time, in its database: every process serving this instance
    # (gunicorn's workers too) reads it, and the operator can move it on.
    start_demo_clock(engine, builder.start())
    overrides = dict(ctx.obj or {})
    overrides.update({"MUTUALOG_SECURE_COOKIES": False})
    if not os.environ.get(PUBLIC_URL):
        # The commands the pages print reach this server, not whatever Host a request names.
        overrides[PUBLIC_URL] = served_url(host, port)
    app = create_app(overrides)
    ctx.call_on_close(app.extensions["mutualog"].engine.dispose)
    click.echo("replaying the log through the rulebook...", err=True)
    holder: PoolHolder = app.extensions[POOL_EXTENSION]
    service = holder.service()
    claim, accounts = builder.finish(service, service.now())
    stats = builder.stats
    state = service.state()
    click.echo(
        f"demo pool: {state.size:,} log entries, {state.member_count:,} members, "
        f"{stats.get('claim.filed', 0)} claims, {len(state.closed_periods)} periods closed; "
        f"claim {claim.id} is open for voting"
    )
    for account in accounts:
        click.echo(
            f"  {account.role:<8} username {account.username:<9} password {account.password}"
            f"  ({account.note})"
        )
    if no_serve:
        return
    from server.demo_witness import start_demo_witness

    log_vkey = signer.verifier().to_vkey()
    witness = start_demo_witness(
        settings.instance, engine, settings.database_url, builder.witness, log_vkey
    )
    click.echo(f"demo witness {builder.witness.name} cosigning at {witness.url}", err=True)
    click.echo(f"serving on {served_url(host, port)}/ (Ctrl-C to stop)", err=True)
    try:
        serve_with_gunicorn(app, host, port)
    finally:
        witness.stop()


cli.add_command(generate)
cli.add_command(pool)
cli.add_command(private)
cli.add_command(notify)
cli.add_command(witness)
cli.add_command(verifier)
cli.add_command(state)
verifier.add_command(build_verifier_page)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _read_items(file: BinaryIO, name: str) -> Iterator[tuple[str, Body]]:
    for number, raw in enumerate(file, start=1):
        where = f"{name}, line {number}"
        if not raw.strip():
            continue
        try:
            obj = load_strict_json(raw, where)
        except MalformedError as e:
            raise InputError(str(e)) from e
        if not isinstance(obj, dict) or set(obj) != {"type", "body"}:
            raise InputError(f'{where}: expected an object with exactly "type" and "body"')
        type_ = obj["type"]
        if not isinstance(type_, str) or type_ not in BODY_TYPES:
            raise InputError(f"{where}: unknown entry type {str(type_)[:60]!r}")
        try:
            yield type_, parse_body(type_, obj["body"], "body")
        except MalformedError as e:
            raise InputError(f"{where}: {e}") from e


@contextmanager
def _atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A file written under a temporary name and renamed over ``path`` only
    when complete, so a failed snapshot never leaves a truncated tar."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """The ``mutualog-server`` entry point; returns the exit status."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="mutualog-server",
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as e:
        e.show()
        return 2
    except (MutualogError, OSError) as e:
        click.echo(f"error: {e}", err=True)
        return 2
    except SQLAlchemyError as e:
        # SQLAlchemy's own text carries the SQL and its parameters; the
        # driver's first line says what failed.
        reason = str(getattr(e, "orig", None) or type(e).__name__).splitlines()[0][:200]
        click.echo(f"error: database failure: {reason}", err=True)
        return 1
    except Exception as e:
        click.echo(f"error: unexpected {type(e).__name__}: {e}", err=True)
        return 1
    return result if isinstance(result, int) else 0
