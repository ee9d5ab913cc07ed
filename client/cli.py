"""The ``mutualog`` command: verify a log on your own machine.

Exit codes: 0 verified; 1 a check failed (evidence that the log is not what
it claims); 2 cannot verify (bad usage, unreadable input, network failure,
a damaged state folder).  No input gives a traceback.

The clock is read here and nowhere else: the time of an evidence folder and
of a witness's cosignature come in as arguments below this module.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from client.audit import AuditReport, audit_log
from client.bundles import (
    BundleError,
    BundleReport,
    claim_path,
    deduction_path,
    fetch_claim,
    fetch_deduction,
    read_bundle,
    save_bundle,
    verify_claim,
    verify_deduction,
)
from client.fetch import Fetcher, FetchError, HttpFetcher
from client.receipt import (
    ReceiptError,
    ReceiptReport,
    check_against_log,
    check_offline,
    parse_receipt,
)
from client.sources import SourceError, open_source
from client.state import (
    PinnedLog,
    PinnedWitness,
    StateDir,
    StateError,
    default_state_dir,
    safe_name,
)
from client.sync import Check, SyncReport, open_stored, sync_log
from client.witness import WitnessKeyError, cosign, create_witness_key, load_witness_key
from verifiable.errors import MalformedError, MutualogError
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.note import Ed25519Verifier, Note

__all__ = ["EXIT_CANNOT_VERIFY", "EXIT_FAILED", "EXIT_VERIFIED", "cli", "main"]

EXIT_VERIFIED, EXIT_FAILED, EXIT_CANNOT_VERIFY = 0, 1, 2

EXAMPLE_LOG = "example-log.tar"
EXAMPLE_KEY = "example-log.vkey"

_SEED_SIZE = 32


class CannotVerify(click.ClickException):
    """Anything that stops a command before it reaches a verdict: exit 2."""

    exit_code = EXIT_CANNOT_VERIFY

    def show(self, file: Any = None) -> None:
        click.echo(f"mutualog: cannot verify: {self.format_message()}", err=True)


def _example() -> tuple[Path, str]:
    folder = resources.files("client") / "examples"
    with resources.as_file(folder / EXAMPLE_LOG) as tar:
        key = (folder / EXAMPLE_KEY).read_text(encoding="ascii").strip()
        return Path(tar), key


def _state(ctx: click.Context) -> StateDir:
    root: Path | None = ctx.obj
    if root is None:
        root = default_state_dir(os.environ)
    return StateDir(root)


def _now() -> datetime:
    return datetime.now(UTC)


def _origin_of(note: bytes, where: str) -> str:
    """The origin line of a checkpoint not yet verified: only used to find
    which pinned log it claims to be, which then verifies it."""
    try:
        return Checkpoint.from_text(Note.from_bytes(note).text).origin
    except MalformedError as e:
        raise CannotVerify(f"{where}: the checkpoint is not a signed checkpoint note: {e}") from e


def _pinned(state: StateDir, origin: str) -> PinnedLog:
    pin = state.load_pin(origin)
    if pin is None:
        raise CannotVerify(
            f"the log {origin!r} is not pinned in {state.root}: "
            "run `mutualog trust ORIGIN VERIFIER_KEY` first"
        )
    return pin


def _print_checks(checks: list[Check], err: bool = False) -> None:
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"[{mark}] {check.name}: {check.detail}", err=err)


def _print_report(report: AuditReport) -> None:
    click.echo(f"log     {report.origin}")
    click.echo(f"source  {report.source}")
    if report.size:
        click.echo(f"size    {report.size}   root {report.root}")
    _print_checks(report.checks)
    if report.rules is not None:
        mark = {"ok": "ok  ", "failed": "FAIL", "skipped": "skip"}[report.rules.status]
        click.echo(f"[{mark}] rules: {report.rules.detail}")
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo("VERIFIED" if report.ok else "NOT VERIFIED")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Trust state folder. Default: $MUTUALOG_STATE, else $XDG_STATE_HOME/mutualog, "
    "else ~/.local/state/mutualog.",
)
@click.pass_context
def cli(ctx: click.Context, state_dir: Path | None) -> None:
    """Verify a mutualog log on your own machine."""
    ctx.obj = state_dir


# --- trust ---------------------------------------------------------------------


@cli.command()
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
@click.pass_context
def trust(
    ctx: click.Context,
    origin: str,
    verifier_key: str,
    witnesses: tuple[tuple[str, str], ...],
    witnesses_required: int | None,
    replace: bool,
) -> int:
    """Pin the log ORIGIN with its VERIFIER_KEY (name+hexid+base64) and a witness policy."""
    pinned_witnesses = tuple(PinnedWitness(name, key) for name, key in witnesses)
    required = len(pinned_witnesses) if witnesses_required is None else witnesses_required
    try:
        pin = PinnedLog(origin, verifier_key, pinned_witnesses, required)
    except (MutualogError, StateError) as e:
        raise click.UsageError(str(e)) from e
    state = _state(ctx)
    old = state.load_pin(origin)
    if old is not None and old.verifier_key != pin.verifier_key:
        if not replace:
            raise CannotVerify(
                f"{origin} is already pinned with key {old.verifier_key}; refusing a "
                "different key (give --replace to pin it and forget the log's last checkpoint)"
            )
        state.forget_log(origin)
    state.save_pin(pin)
    policy = (
        f"{pin.witnesses_required} of {len(pin.witnesses)} witnesses "
        f"({', '.join(w.name for w in pin.witnesses)}) must cosign"
        if pin.witnesses
        else "no witnesses"
    )
    click.echo(f"pinned {origin}: key {pin.verifier_key}; {policy}")
    return EXIT_VERIFIED


# --- sync ----------------------------------------------------------------------


def _print_sync(report: SyncReport) -> None:
    click.echo(f"log     {report.origin}")
    click.echo(f"url     {report.url}")
    _print_checks(report.checks)
    if report.stored:
        click.echo(f"stored  checkpoint of size {report.new_size}, root {report.new_root}")
    if report.evidence is not None:
        click.echo(f"evidence saved in {report.evidence}")
    click.echo("VERIFIED" if report.ok else "NOT VERIFIED")


@cli.command()
@click.argument("url")
@click.option("--origin", help="The pinned log to sync (default: the checkpoint's origin line).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def sync(ctx: click.Context, url: str, origin: str | None, as_json: bool) -> int:
    """Fetch the log's checkpoint from URL, verify it against the pinned key, the
    witness policy and the last checkpoint, and store it."""
    state = _state(ctx)
    fetcher = HttpFetcher(url)
    note = fetcher.checkpoint()
    if origin is None:
        origin = _origin_of(note, fetcher.url("checkpoint"))
    pin = _pinned(state, origin)
    report = sync_log(pin, state, fetcher, _now(), note=note)
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
            bar = click.progressbar(length=max(total, 1), label="auditing", file=sys.stderr)
            bar.render_progress()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.render_finish()


def _resolve_key(
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
    origin = origin or _origin_of(note, where)
    if state is None:
        raise click.UsageError("give --key: there is no state folder to find a pinned key in")
    pin = state.load_pin(origin)
    if pin is None:
        raise click.UsageError(
            f"give SOURCE and --key, or pin {origin!r} with `mutualog trust ORIGIN VERIFIER_KEY`"
        )
    return pin.verifier(), origin, pin


@cli.command()
@click.argument("source", required=False)
@click.option("--key", "vkey", help="The log's verifier key (default: the pinned one).")
@click.option("--origin", help="The log's origin line (default: the key's name or the pin's).")
@click.option("--example", is_flag=True, help="Audit the example log shipped with mutualog.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--restart", is_flag=True, help="Forget where an interrupted audit stopped.")
@click.pass_context
def audit(
    ctx: click.Context,
    source: str | None,
    vkey: str | None,
    origin: str | None,
    example: bool,
    as_json: bool,
    restart: bool,
) -> int:
    """Audit a whole log from its URL, a snapshot tar or a folder of exported tiles:
    the signed checkpoint, every tile and bundle, every entry and the chain, and
    the pool's rules when the log has a rulebook.  Resumes where an interrupted
    audit of the same log stopped."""
    if example:
        if source is not None or vkey is not None:
            raise click.UsageError("--example takes no SOURCE or --key")
        path, vkey = _example()
        source = str(path)
    if source is None:
        raise click.UsageError(
            "give SOURCE and --key (SOURCE: a URL, a snapshot tar or a folder), or --example"
        )
    try:
        state: StateDir | None = _state(ctx)
    except StateError:
        # Only a pin and resuming need the state folder; an audit with
        # --key works without one.
        state = None
    opened: Fetcher = open_source(source)
    try:
        note = opened.checkpoint()
        verifier, origin, pin = _resolve_key(state, vkey, origin, note, opened.label)
        synced = None
        if pin is not None and state is not None:
            stored = state.load_checkpoint(origin)
            if stored is not None:
                path = state.checkpoint_path(origin)
                synced = open_stored(stored, pin, path).checkpoint
        with _progress_bar(sys.stderr.isatty()) as bar:
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
                )
            except (FetchError, SourceError) as e:
                raise CannotVerify(f"{e}{_resume_hint(state, origin)}") from e
            except KeyboardInterrupt:
                raise CannotVerify(f"interrupted{_resume_hint(state, origin)}") from None
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
    try:
        progress = state.load_progress(origin)
    except StateError:
        return ""
    if progress is None:
        return ""
    return (
        f"\n  entries 0..{progress.position - 1} are proven and saved; run the same command "
        "again to continue from there (--restart to start over)"
    )


# --- verify-receipt --------------------------------------------------------------


def _print_receipt(report: ReceiptReport) -> None:
    r = report.receipt
    click.echo(f"log     {report.origin}")
    click.echo(f"vote    juror {r.juror}, claim {r.claim}, round {r.round}, entry {r.leaf_index}")
    if report.log is not None:
        click.echo(f"source  {report.log}")
    for check in report.checks:
        mark = {"ok": "ok  ", "FAIL": "FAIL", "pending": "wait", "skip": "skip"}[check.status]
        click.echo(f"[{mark}] {check.name}: {check.detail}")
    click.echo(
        {"verified": "VERIFIED", "failed": "NOT VERIFIED"}.get(report.verdict, "NOT YET VERIFIABLE")
    )


@cli.command("verify-receipt")
@click.argument("receipt_file", metavar="RECEIPT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "vkey", help="The log's verifier key (default: the pinned one).")
@click.option(
    "--log",
    "log_source",
    metavar="URL|SNAPSHOT.tar|DIR",
    help="Also read the log: the vote is still there, revealed as sealed, and counted.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify_receipt(
    ctx: click.Context,
    receipt_file: Path,
    vkey: str | None,
    log_source: str | None,
    as_json: bool,
) -> int:
    """Check a juror's vote receipt: the sealed vote is in the log under a
    signed checkpoint and opens to the receipt's vote; with --log, its reveal
    matches and the round's decision counted it."""
    try:
        data = receipt_file.read_bytes()
    except OSError as e:
        raise CannotVerify(f"{receipt_file}: cannot be read: {e.strerror or e}") from e
    try:
        receipt = parse_receipt(data)
    except ReceiptError as e:
        raise CannotVerify(f"{receipt_file}: not a vote receipt: {e}") from e
    try:
        state: StateDir | None = _state(ctx)
    except StateError:
        state = None
    verifier, origin, _ = _resolve_key(state, vkey, None, receipt.checkpoint, str(receipt_file))
    if log_source is None:
        report = check_offline(receipt, verifier, origin)
    else:
        opened: Fetcher = open_source(log_source)
        try:
            report = check_against_log(
                receipt, verifier, origin, opened.checkpoint(), opened.fetch, opened.label
            )
        finally:
            opened.close()
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_receipt(report)
    if report.failed:
        return EXIT_FAILED
    return EXIT_CANNOT_VERIFY if report.pending else EXIT_VERIFIED


# --- fetch, verify-deduction, verify-claim -----------------------------------------

_ID = re.compile(r"[0-9a-f]{32}")
DEFAULT_SAMPLE = 3


class _IdType(click.ParamType[str]):
    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not isinstance(value, str) or not _ID.fullmatch(value):
            self.fail(f"expected 32 lowercase hex digits, got {value!r}", param, ctx)
        return value


class _PeriodType(click.ParamType[date]):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(f"expected a period's notice date YYYY-MM-DD, got {value!r}", param, ctx)


ID = _IdType()
PERIOD = _PeriodType()


def _sync_for_fetch(ctx: click.Context, url: str) -> tuple[HttpFetcher, str, int]:
    """Sync the pinned log at URL; the fetcher, origin and synced size.  A sync
    that fails is evidence: its report is printed and the command exits 1."""
    state = _state(ctx)
    fetcher = HttpFetcher(url)
    note = fetcher.checkpoint()
    origin = _origin_of(note, fetcher.url("checkpoint"))
    pin = _pinned(state, origin)
    report = sync_log(pin, state, fetcher, _now(), note=note)
    if not report.ok:
        _print_checks(report.checks, err=True)
        if report.evidence is not None:
            click.echo(f"evidence saved in {report.evidence}", err=True)
        click.echo("NOT VERIFIED: sync failed, nothing fetched", err=True)
        raise click.exceptions.Exit(EXIT_FAILED)
    assert report.new_size is not None
    return fetcher, origin, report.new_size


@cli.group()
def fetch() -> None:
    """Sync a pinned log and download, once, what a verifying command needs."""


_bundle_output = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to save the bundle (default: in the state folder).",
)


@fetch.command("deduction")
@click.argument("url")
@click.option("--member", required=True, type=ID, help="Your member id.")
@click.option("--period", required=True, type=PERIOD, help="The period (its notice date).")
@click.option(
    "--sample",
    default=DEFAULT_SAMPLE,
    show_default=True,
    type=click.IntRange(0, 64),
    help="How many of the period's paid claims to check in full, drawn at random here.",
)
@_bundle_output
@click.pass_context
def fetch_deduction_command(
    ctx: click.Context, url: str, member: str, period: date, sample: int, output: Path | None
) -> int:
    """Fetch the bundle for verify-deduction from the log at URL."""
    fetcher, origin, size = _sync_for_fetch(ctx, url)
    try:
        bundle = fetch_deduction(fetcher, size, member, period, sample)
    finally:
        fetcher.close()
    path = output or deduction_path(_state(ctx), origin, member, period)
    save_bundle(path, bundle)
    click.echo(
        f"saved {path}: size {size}, {len(bundle.entries)} entries, "
        f"{len(bundle.claims)} claims sampled, {fetcher.stats.wire_bytes} bytes fetched"
    )
    return EXIT_VERIFIED


@fetch.command("claim")
@click.argument("claim", type=ID)
@click.argument("url")
@_bundle_output
@click.pass_context
def fetch_claim_command(ctx: click.Context, claim: str, url: str, output: Path | None) -> int:
    """Fetch the bundle for verify-claim CLAIM from the log at URL."""
    fetcher, origin, size = _sync_for_fetch(ctx, url)
    try:
        bundle = fetch_claim(fetcher, size, claim)
    finally:
        fetcher.close()
    path = output or claim_path(_state(ctx), origin, claim)
    save_bundle(path, bundle)
    click.echo(f"saved {path}: size {size}, {len(bundle.entries)} entries")
    return EXIT_VERIFIED


def _find_bundle(
    ctx: click.Context, given: Path | None, name: Callable[[StateDir, str], Path]
) -> Path:
    """The bundle file: ``--bundle``, else the one in the state folder of the
    only pinned log that has it."""
    if given is not None:
        return given
    state = _state(ctx)
    found = [p for p in (name(state, origin) for origin in state.pinned_origins()) if p.exists()]
    if not found:
        raise CannotVerify(
            "no bundle in the state folder: run `mutualog fetch ...` or give --bundle"
        )
    if len(found) > 1:
        raise CannotVerify(f"bundles of several logs ({', '.join(map(str, found))}): give --bundle")
    return found[0]


def _print_findings(report: BundleReport, lines: list[str]) -> None:
    click.echo(f"log     {report.origin}")
    click.echo(f"bundle  {report.bundle}")
    click.echo(f"size    {report.size}   root {report.root}")
    for line in lines:
        click.echo(line)
    for f in report.findings:
        click.echo(f"[{'ok  ' if f.ok else 'FAIL'}] {f.name}: {f.detail}")
        if not f.ok:
            for label, value in (("where", f.where), ("expected", f.expected), ("found", f.found)):
                if value:
                    click.echo(f"         {label}: {value}")
    click.echo("VERIFIED" if report.ok else "NOT VERIFIED")


def _finish(report: BundleReport, as_json: bool, lines: list[str]) -> int:
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_findings(report, lines)
    return EXIT_VERIFIED if report.ok else EXIT_FAILED


_F = TypeVar("_F", bound=Callable[..., Any])


def _bundle_options(kind: str) -> Callable[[_F], _F]:
    """A verify command's ``--bundle`` (default: what ``fetch <kind>`` saved) and ``--json``."""

    def decorate(command: _F) -> _F:
        command = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")(
            command
        )
        return click.option(
            "--bundle",
            "bundle_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help=f"The bundle (default: the one `fetch {kind}` saved).",
        )(command)

    return decorate


@cli.command("verify-deduction")
@click.option("--member", required=True, type=ID, help="Your member id.")
@click.option("--period", required=True, type=PERIOD, help="The period (its notice date).")
@_bundle_options("deduction")
@click.pass_context
def verify_deduction_command(
    ctx: click.Context, member: str, period: date, bundle_file: Path | None, as_json: bool
) -> int:
    """Check, offline, your deduction for a period: the period entry, your place on
    the roster, the share formula, the paid claims, and a sample of claims in full."""
    path = _find_bundle(ctx, bundle_file, lambda s, o: deduction_path(s, o, member, period))
    report = verify_deduction(_state(ctx), path, read_bundle(path), member, period)
    share = report.subject.get("share")
    lines = [f"member  {member}, period {period.isoformat()}"]
    if share is not None:
        lines.append(f"share   {share} fen")
    return _finish(report, as_json, lines)


@cli.command("verify-claim")
@click.argument("claim", type=ID)
@_bundle_options("claim")
@click.pass_context
def verify_claim_command(
    ctx: click.Context, claim: str, bundle_file: Path | None, as_json: bool
) -> int:
    """Check, offline, one claim's whole history: notice, objections, panels,
    votes, decisions and payout."""
    path = _find_bundle(ctx, bundle_file, lambda s, o: claim_path(s, o, claim))
    report = verify_claim(_state(ctx), path, read_bundle(path), claim)
    return _finish(report, as_json, [f"claim   {claim}"])


# --- witness -------------------------------------------------------------------


@cli.group()
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
        out = _state(ctx).root / "witness-keys" / f"{safe_name(name)}.key"
    try:
        vkey = create_witness_key(out, name, os.urandom(_SEED_SIZE))
    except WitnessKeyError as e:
        raise CannotVerify(str(e)) from e
    click.echo(f"private key written to {out} (keep it secret)", err=True)
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
    state = _state(ctx)
    try:
        signer = load_witness_key(key_file)
    except WitnessKeyError as e:
        raise CannotVerify(str(e)) from e
    fetcher = HttpFetcher(url)
    note = fetcher.checkpoint()
    if origin is None:
        origin = _origin_of(note, fetcher.url("checkpoint"))
    pin = _pinned(state, origin)
    report = cosign(pin, state, fetcher, signer, int(time.time()), _now(), note=note)
    _print_checks(report.checks, err=True)
    if report.note is None:
        if report.evidence is not None:
            click.echo(f"evidence saved in {report.evidence}", err=True)
        click.echo("NOT COSIGNED", err=True)
        return EXIT_FAILED
    sys.stdout.flush()
    click.echo(report.note.decode("utf-8"), nl=False)
    return EXIT_VERIFIED


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting."""
    try:
        result = cli.main(args=argv, prog_name="mutualog", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        return EXIT_CANNOT_VERIFY
    except click.Abort:
        click.echo("aborted", err=True)
        return EXIT_CANNOT_VERIFY
    except click.exceptions.Exit as e:
        return e.exit_code
    except (FetchError, SourceError, StateError, BundleError, MutualogError) as e:
        click.echo(f"mutualog: cannot verify: {e}", err=True)
        return EXIT_CANNOT_VERIFY
    except OSError as e:
        click.echo(f"mutualog: cannot verify: {e}", err=True)
        return EXIT_CANNOT_VERIFY
    except SystemExit as e:
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_CANNOT_VERIFY
    return result if isinstance(result, int) else EXIT_VERIFIED


if __name__ == "__main__":
    sys.exit(main())
