"""What the ``mutualog`` commands share: exit codes, "cannot verify", the
state folder, the clock, finding a log's key, and printing checks.

The clock is read here (:func:`now`) and in ``witness cosign``, nowhere
else: the time of an evidence folder and of a witness's cosignature come in
as arguments below the commands.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click

from client.state import PinnedLog, StateDir, default_state_dir
from verifiable.errors import MalformedError, MutualogError
from verifiable.findings import Finding
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.note import Ed25519Verifier, Note

__all__ = [
    "EXIT_CANNOT_VERIFY",
    "EXIT_FAILED",
    "EXIT_VERIFIED",
    "CannotVerify",
    "example_log",
    "now",
    "origin_of",
    "pinned",
    "print_checks",
    "resolve_key",
    "state_of",
]

EXIT_VERIFIED, EXIT_FAILED, EXIT_CANNOT_VERIFY = 0, 1, 2

EXAMPLE_LOG = "example-log.tar"
EXAMPLE_KEY = "example-log.vkey"

_SEED_SIZE = 32


class CannotVerify(click.ClickException):
    """Anything that stops a command before it reaches a verdict: exit 2."""

    exit_code = EXIT_CANNOT_VERIFY

    def show(self, file: Any = None) -> None:
        click.echo(f"mutualog: cannot verify: {self.format_message()}", err=True)


def example_log() -> tuple[Path, str]:
    folder = resources.files("client") / "examples"
    with resources.as_file(folder / EXAMPLE_LOG) as tar:
        key = (folder / EXAMPLE_KEY).read_text(encoding="ascii").strip()
        return Path(tar), key


def state_of(ctx: click.Context) -> StateDir:
    root: Path | None = ctx.obj
    if root is None:
        root = default_state_dir(os.environ)
    return StateDir(root)


def now() -> datetime:
    return datetime.now(UTC)


def origin_of(note: bytes, where: str) -> str:
    """The origin line of a checkpoint not yet verified: only used to find
    which pinned log it claims to be, which then verifies it."""
    try:
        return Checkpoint.from_text(Note.from_bytes(note).text).origin
    except MalformedError as e:
        raise CannotVerify(f"{where}: the checkpoint is not a signed checkpoint note: {e}") from e


def pinned(state: StateDir, origin: str) -> PinnedLog:
    pin = state.load_pin(origin)
    if pin is None:
        raise CannotVerify(
            f"the log {origin!r} is not pinned in {state.root}: "
            "run `mutualog trust ORIGIN VERIFIER_KEY` first"
        )
    return pin


def print_checks(checks: list[Finding], err: bool = False) -> None:
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"[{mark}] {check.name}: {check.detail}", err=err)


def resolve_key(
    state: StateDir | None, vkey: str | None, origin: str | None, note: bytes, where: str
) -> tuple[Ed25519Verifier, str, PinnedLog | None]:
    if vkey is not None:
        try:
            verifier = Ed25519Verifier.from_vkey(vkey)
        except MutualogError as e:
            raise click.UsageError(f"--key: {e}") from e
        origin = origin or verifier.name
        pin = state.load_pin(origin) if state is not None else None
        if pin is not None and pin.verifier_key != vkey:
            raise CannotVerify(
                f"--key differs from the key pinned for {origin} ({pin.verifier_key})"
            )
        return verifier, origin, pin
    origin = origin or origin_of(note, where)
    if state is None:
        raise click.UsageError("give --key: there is no state folder to find a pinned key in")
    pin = state.load_pin(origin)
    if pin is None:
        raise click.UsageError(
            f"give SOURCE and --key, or pin {origin!r} with `mutualog trust ORIGIN VERIFIER_KEY`"
        )
    return pin.verifier(), origin, pin
