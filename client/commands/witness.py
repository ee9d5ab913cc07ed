"""``mutualog witness keygen``, ``witness cosign``, ``witness serve`` and
``witness evidence``: witness mode (docs/client.md, docs/witnesses.md)."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from datetime import UTC, datetime
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
from client.witness_logs import (
    LogListError,
    WitnessedLog,
    logs_from_pins,
    merge_logs,
    parse_log_list,
)
from client.witness_service import PATH, Witness, serve
from client.witness_store import Evidence, WitnessStore
from verifiable.log.cosignature import CosignatureSigner

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


# --- serve -----------------------------------------------------------------------


def _read_log_list(path: Path) -> list[WitnessedLog]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise CannotVerify(f"{path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise CannotVerify(_("{path}: not UTF-8 text").format(path=path)) from e
    try:
        return parse_log_list(text, str(path))
    except LogListError as e:
        raise CannotVerify(detail(str(e))) from e


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@witness.command("serve")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witness's private key file.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=7380, show_default=True, type=click.IntRange(1, 65535), help="Port."
)
@click.option(
    "--log-list",
    "log_lists",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A log list in the witness network's logs/v0 format. Repeatable.",
)
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Processes."
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per process.",
)
@click.pass_context
def serve_command(
    ctx: click.Context,
    key_file: Path,
    host: str,
    port: int,
    log_lists: tuple[Path, ...],
    workers: int,
    threads: int,
) -> int:
    """Serve C2SP tlog-witness POST /add-checkpoint for every log pinned with
    `trust` in the state folder and every log of the --log-list files."""
    state = state_of(ctx)
    try:
        signer = load_witness_key(key_file)
    except WitnessKeyError as e:
        raise CannotVerify(detail(str(e))) from e
    logs = merge_logs([logs_from_pins(state), *(_read_log_list(p) for p in log_lists)])
    if not logs:
        raise CannotVerify(
            _(
                "no log to witness: pin one with `mutualog trust ORIGIN VERIFIER_KEY` "
                "or give --log-list FILE"
            )
        )
    # Open the database once here, so that a folder it cannot be created in
    # stops the command before any worker starts.
    check = WitnessStore.of(state)
    check.cosigned()
    check.close()
    _announce(signer, logs, f"http://{_bind(host, port)}{PATH}")

    def factory() -> Witness:
        return Witness(signer, logs, WitnessStore.of(state), lambda: int(time.time()))

    sys.stdout.flush()
    serve(factory, _bind(host, port), workers, threads)
    return EXIT_VERIFIED


def _announce(signer: CosignatureSigner, logs: dict[str, WitnessedLog], url: str) -> None:
    click.echo(
        _("witness {vkey} cosigning {n} log(s) at {url}").format(
            vkey=signer.verifier().to_vkey(), n=len(logs), url=url
        ),
        err=True,
    )
    for origin, log in sorted(logs.items()):
        click.echo(f"  {origin}  [{log.source}]", err=True)


# --- evidence --------------------------------------------------------------------


def _evidence_json(item: Evidence) -> dict[str, object]:
    return {
        "id": item.id,
        "origin": item.origin,
        "witness": item.witness,
        "received": item.received,
        "kind": item.kind,
        "detail": item.detail,
        "held_size": item.held_size,
        "held_checkpoint": item.held_note.decode("utf-8", "replace") if item.held_note else None,
        "submitted_base64": base64.b64encode(item.submitted).decode("ascii"),
    }


@witness.command("evidence")
@click.option("--origin", help="Only this log's evidence.")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON, with the checkpoints.")
@click.pass_context
def evidence_command(ctx: click.Context, origin: str | None, as_json: bool) -> int:
    """List the checkpoints the witness refused and kept as evidence."""
    items = WitnessStore.of(state_of(ctx)).evidence(origin)
    if as_json:
        click.echo(json.dumps([_evidence_json(i) for i in items], indent=2, ensure_ascii=False))
        return EXIT_VERIFIED
    if not items:
        click.echo(_("no evidence kept"))
    for item in items:
        when = datetime.fromtimestamp(item.received, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        held = "-" if item.held_size is None else str(item.held_size)
        click.echo(f"#{item.id}  {when}  {item.origin}  {item.kind}  {item.witness}  {held}")
        click.echo(f"    {detail(item.detail)}")
    return EXIT_VERIFIED
