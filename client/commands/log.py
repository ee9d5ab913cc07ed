"""``mutualog trust``, ``sync`` and ``audit``: pinning a log, following its
checkpoints, and checking the whole of it (docs/client.md)."""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from client.audit import AuditReport, audit_log
from client.audit_store import saved_position
from client.commands.common import (
    EXIT_FAILED,
    EXIT_VERIFIED,
    CannotVerify,
    check_line,
    example_log,
    heading,
    now,
    origin_of,
    pinned,
    print_checks,
    resolve_key,
    state_of,
    verdict_line,
)
from client.fetch import Fetcher, FetchError, HttpFetcher
from client.i18n import _, detail
from client.sources import SourceError, open_source
from client.state import PinnedLog, PinnedWitness, StateDir, StateError
from client.sync import SyncReport, open_stored, sync_log
from verifiable.errors import MutualogError
from verifiable.findings import Status
from verifiable.log.trust_text import TrustText

__all__ = ["audit", "export_trust", "sync", "trust"]


def size_line(size: int | None, root: str) -> str:
    return heading(_("size"), _("{size}   root {root}").format(size=size, root=root))


def _print_report(report: AuditReport) -> None:
    click.echo(heading(_("log"), report.origin))
    click.echo(heading(_("source"), report.source))
    if report.size:
        click.echo(size_line(report.size, report.root))
    print_checks(report.checks)
    if report.rules is not None:
        status = {"ok": Status.OK, "failed": Status.FAIL, "skipped": Status.SKIP}
        click.echo(check_line("rules", status[report.rules.status], report.rules.detail))
    page = report.verifier_page
    if page is not None:
        click.echo(check_line(page.name, page.status, page.detail))
    for note in report.notes:
        click.echo(_("note: {note}").format(note=detail(note)))
    click.echo(verdict_line("verified" if report.ok else "failed"))


# --- trust ---------------------------------------------------------------------


@click.command()
@click.argument("origin")
@click.argument("verifier_key")
@click.option(
    "--witness",
    "witnesses",
    nargs=2,
    multiple=True,
    metavar="NAME KEY",
    help="A witness to trust: its name and cosignature verifier key. Repeatable.",
)
@click.option(
    "--witnesses-required",
    type=click.IntRange(min=0),
    help="How many trusted witnesses must cosign a checkpoint. Default: all of them.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Pin a different key for an already pinned origin, forgetting its last checkpoint.",
)
@click.option(
    "--pool",
    is_flag=True,
    help="The log is a pool's: audits and checks fail unless it begins with its rulebook.",
)
@click.pass_context
def trust(
    ctx: click.Context,
    origin: str,
    verifier_key: str,
    witnesses: tuple[tuple[str, str], ...],
    witnesses_required: int | None,
    replace: bool,
    pool: bool,
) -> int:
    """Pin the log ORIGIN with its VERIFIER_KEY (name+hexid+base64) and a witness policy."""
    pinned_witnesses = tuple(PinnedWitness(name, key) for name, key in witnesses)
    required = len(pinned_witnesses) if witnesses_required is None else witnesses_required
    try:
        pin = PinnedLog(origin, verifier_key, pinned_witnesses, required)
    except (MutualogError, StateError) as e:
        raise click.UsageError(detail(str(e))) from e
    state = state_of(ctx)
    old = state.load_pin(origin)
    if old is not None and old.verifier_key != pin.verifier_key:
        if not replace:
            raise CannotVerify(
                _(
                    "{origin} is already pinned with key {key}; refusing a different key "
                    "(give --replace to pin it and forget the log's last checkpoint)"
                ).format(origin=origin, key=old.verifier_key)
            )
        state.forget_log(origin)
    elif old is not None and old.pool:
        # Pinning the same key again keeps what an audit learnt.
        pool = True
    if pool:
        pin = dataclasses.replace(pin, pool=True)
    state.save_pin(pin)
    if not pin.key_name_is_origin:
        click.echo(
            _(
                "note: the key is named {name}, not after the origin {origin}; "
                "pinned as given (a witness accepts it; tlog-checkpoint recommends the origin)"
            ).format(name=repr(pin.verifier().name), origin=repr(origin)),
            err=True,
        )
    policy = (
        # One form for any number: the English output has always said "witnesses".
        _("{k} of {n} witnesses ({names}) must cosign").format(
            k=pin.witnesses_required,
            n=len(pin.witnesses),
            names=", ".join(w.name for w in pin.witnesses),
        )
        if pin.witnesses
        else _("no witnesses")
    )
    click.echo(
        _("pinned {origin}: key {key}; {policy}").format(
            origin=origin, key=pin.verifier_key, policy=policy
        )
    )
    return EXIT_VERIFIED


@click.command("export-trust")
@click.argument("origin")
@click.pass_context
def export_trust(ctx: click.Context, origin: str) -> int:
    """Print what is pinned for ORIGIN (its key, witnesses and K) as a trust text
    (mutualog trust v1), for an auditor to publish: the verifier page reads it,
    pasted or from a QR code."""
    pin = pinned(state_of(ctx), origin)
    witnesses = tuple(w.vkey for w in pin.witnesses)
    text = TrustText(pin.origin, pin.verifier_key, witnesses, pin.witnesses_required).to_text()
    click.echo(text, nl=False)
    return EXIT_VERIFIED


# --- sync ----------------------------------------------------------------------


def _print_sync(report: SyncReport) -> None:
    click.echo(heading(_("log"), report.origin))
    click.echo(heading(_("url"), report.url))
    print_checks(report.checks)
    if report.stored:
        stored = _("checkpoint of size {size}, root {root}")
        click.echo(heading(_("stored"), stored.format(size=report.new_size, root=report.new_root)))
    if report.evidence is not None:
        click.echo(_("evidence saved in {path}").format(path=report.evidence))
    click.echo(verdict_line("verified" if report.ok else "failed"))


@click.command()
@click.argument("url")
@click.option("--origin", help="The pinned log to sync (default: the checkpoint's origin line).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def sync(ctx: click.Context, url: str, origin: str | None, as_json: bool) -> int:
    """Fetch the log's checkpoint from URL, verify it against the pinned key, the
    witness policy and the last checkpoint, and store it."""
    state = state_of(ctx)
    fetcher = HttpFetcher(url)
    note = fetcher.checkpoint()
    if origin is None:
        origin = origin_of(note, fetcher.url("checkpoint"))
    pin = pinned(state, origin)
    report = sync_log(pin, state, fetcher, now(), note=note)
    report.transfer = fetcher.stats.to_json()
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_sync(report)
    return EXIT_VERIFIED if report.ok else EXIT_FAILED


# --- audit ---------------------------------------------------------------------


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Any]:
    """A progress callback that draws a bar on stderr when it is a terminal."""
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if not enabled:
            return
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label=_("auditing"), file=sys.stderr)
            bar.render_progress()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.render_finish()


@click.command()
@click.argument("source", required=False)
@click.option("--key", "vkey", help="The log's verifier key (default: the pinned one).")
@click.option("--origin", help="The log's origin line (default: the key's name or the pin's).")
@click.option("--example", is_flag=True, help="Audit the example log shipped with mutualog.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--restart", is_flag=True, help="Forget where an interrupted audit stopped.")
@click.option(
    "--page",
    "page_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved copy of the verifier page to check against the log's published hash, "
    "instead of the page the server serves.",
)
@click.pass_context
def audit(
    ctx: click.Context,
    source: str | None,
    vkey: str | None,
    origin: str | None,
    example: bool,
    as_json: bool,
    restart: bool,
    page_file: Path | None,
) -> int:
    """Audit a whole log from its URL, a snapshot tar or a folder of exported tiles:
    the signed checkpoint, every tile and bundle, every entry and the chain, the
    pool's rules when the log has a rulebook, and the verifier page the server
    serves (or --page's copy) against the hash the log publishes.  Resumes where
    an interrupted audit of the same log stopped."""
    if example:
        if source is not None or vkey is not None:
            raise click.UsageError(_("--example takes no SOURCE or --key"))
        path, vkey = example_log()
        source = str(path)
    if source is None:
        raise click.UsageError(
            _("give SOURCE and --key (SOURCE: a URL, a snapshot tar or a folder), or --example")
        )
    try:
        state: StateDir | None = state_of(ctx)
    except StateError:
        # Only a pin and resuming need the state folder; an audit with
        # --key works without one.
        state = None
    page = (str(page_file), page_file.read_bytes()) if page_file is not None else None
    opened: Fetcher = open_source(source)
    try:
        note = opened.checkpoint()
        verifier, origin, pin = resolve_key(state, vkey, origin, note, opened.label)
        synced = None
        if pin is not None and state is not None:
            stored = state.load_checkpoint(origin)
            if stored is not None:
                path = state.checkpoint_path(origin)
                synced = open_stored(stored, pin, path).checkpoint
        with _progress_bar(sys.stderr.isatty()) as bar, _sigterm_interrupts():
            try:
                report = audit_log(
                    opened,
                    verifier,
                    origin,
                    pin=pin,
                    synced=synced,
                    state=state,
                    restart=restart,
                    on_progress=bar,
                    note=note,
                    page=page,
                )
            except (FetchError, SourceError) as e:
                raise CannotVerify(f"{detail(str(e))}{_resume_hint(state, origin)}") from e
            except KeyboardInterrupt:
                raise CannotVerify(f"{_('interrupted')}{_resume_hint(state, origin)}") from None
        if opened.stats is not None:
            report.transfer = opened.stats.to_json()
    finally:
        opened.close()
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_report(report)
    return EXIT_VERIFIED if report.ok else EXIT_FAILED


def _resume_hint(state: StateDir | None, origin: str) -> str:
    if state is None:
        return ""
    position = saved_position(state.audit_state_path(origin))
    if position is None:
        return ""
    return "\n  " + _(
        "entries 0..{last} are proven and saved; run the same command again to continue "
        "from there (--restart to start over)"
    ).format(last=position - 1)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a service stopped, a shell's kill) interrupts the audit as
    Ctrl-C does, so it saves where it stands first."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave SIGTERM as it is
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
