"""What the ``mutualog`` commands share: exit codes, "cannot verify", the
state folder, the clock, finding a log's key, and printing checks.

The clock is read here (:func:`now`) and in ``witness cosign``, nowhere
else: the time of an evidence folder and of a witness's cosignature come in
as arguments below the commands.
"""

from __future__ import annotations

import os
import unicodedata
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click

from client.i18n import _, check_label, detail, pgettext
from client.state import PinnedLog, StateDir, default_state_dir
from verifiable.errors import MalformedError, MutualogError
from verifiable.findings import Finding, Status
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.note import Ed25519Verifier, Note

__all__ = [
    "EXIT_CANNOT_VERIFY",
    "EXIT_FAILED",
    "EXIT_VERIFIED",
    "CannotVerify",
    "cannot_verify",
    "check_line",
    "example_log",
    "heading",
    "now",
    "origin_of",
    "pinned",
    "print_checks",
    "resolve_key",
    "state_of",
    "verdict_line",
]

EXIT_VERIFIED, EXIT_FAILED, EXIT_CANNOT_VERIFY = 0, 1, 2

EXAMPLE_LOG = "example-log.tar"
EXAMPLE_KEY = "example-log.vkey"

_SEED_SIZE = 32


class CannotVerify(click.ClickException):
    """Anything that stops a command before it reaches a verdict: exit 2."""

    exit_code = EXIT_CANNOT_VERIFY

    def show(self, file: Any = None) -> None:
        click.echo(cannot_verify(self.format_message()), err=True)


def cannot_verify(message: str) -> str:
    """The one line on stderr of a run that reached no verdict (exit 2)."""
    return _("mutualog: cannot verify: {error}").format(error=detail(message))


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
        raise CannotVerify(
            _("{where}: the checkpoint is not a signed checkpoint note: {error}").format(
                where=where, error=detail(str(e))
            )
        ) from e


def pinned(state: StateDir, origin: str) -> PinnedLog:
    pin = state.load_pin(origin)
    if pin is None:
        raise CannotVerify(
            _(
                "the log {origin} is not pinned in {folder}: "
                "run `mutualog trust ORIGIN VERIFIER_KEY` first"
            ).format(origin=repr(origin), folder=state.root)
        )
    return pin


def _mark(status: Status) -> str:
    """A check's mark, four columns wide in every language."""
    if status is Status.OK:
        return pgettext("mark", "ok  ")
    if status is Status.FAIL:
        return pgettext("mark", "FAIL")
    if status is Status.PENDING:
        return pgettext("mark", "wait")
    return pgettext("mark", "skip")


def check_line(name: str, status: Status, text: str) -> str:
    """``[mark] name: detail``; a language with a label for the check shows
    the label with the id beside it, which stays as ``--json`` prints it."""
    label = check_label(name)
    shown = name if label == name else _("{label} ({id})").format(label=label, id=name)
    return _("[{mark}] {check}: {detail}").format(
        mark=_mark(status), check=shown, detail=detail(text)
    )


def print_checks(checks: list[Finding], err: bool = False) -> None:
    for check in checks:
        status = Status.OK if check.ok else Status.FAIL
        click.echo(check_line(check.name, status, check.detail), err=err)


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def heading(label: str, value: str) -> str:
    """A heading line of a report, ``label`` (already translated) padded to
    eight columns, as the English output has always been: ``log     ORIGIN``."""
    return f"{label}{' ' * max(1, 8 - _width(label))}{value}"


def verdict_line(verdict: str) -> str:
    """The last line of a report.  Every language keeps the English word
    (``VERIFIED``, ``NOT VERIFIED``...) so that it stays recognisable."""
    if verdict == "verified":
        return _("VERIFIED")
    if verdict == "failed":
        return _("NOT VERIFIED")
    return _("NOT YET VERIFIABLE")


def resolve_key(
    state: StateDir | None, vkey: str | None, origin: str | None, note: bytes, where: str
) -> tuple[Ed25519Verifier, str, PinnedLog | None]:
    if vkey is not None:
        try:
            verifier = Ed25519Verifier.from_vkey(vkey)
        except MutualogError as e:
            raise click.UsageError(_("--key: {error}").format(error=detail(str(e)))) from e
        origin = origin or verifier.name
        pin = state.load_pin(origin) if state is not None else None
        if pin is not None and pin.verifier_key != vkey:
            raise CannotVerify(
                _("--key differs from the key pinned for {origin} ({key})").format(
                    origin=origin, key=pin.verifier_key
                )
            )
        return verifier, origin, pin
    origin = origin or origin_of(note, where)
    if state is None:
        raise click.UsageError(_("give --key: there is no state folder to find a pinned key in"))
    pin = state.load_pin(origin)
    if pin is None:
        raise click.UsageError(
            _(
                "give SOURCE and --key, or pin {origin} with `mutualog trust ORIGIN VERIFIER_KEY`"
            ).format(origin=repr(origin))
        )
    return pin.verifier(), origin, pin
