"""A member's and a juror's checks: ``verify-receipt``, ``fetch`` (a
verification bundle), ``verify-deduction`` and ``verify-claim``
(docs/client.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

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
from client.commands.common import (
    EXIT_CANNOT_VERIFY,
    EXIT_FAILED,
    EXIT_VERIFIED,
    CannotVerify,
    check_line,
    heading,
    now,
    origin_of,
    pinned,
    print_checks,
    resolve_key,
    state_of,
    verdict_line,
)
from client.commands.log import size_line
from client.fetch import Fetcher, HttpFetcher
from client.i18n import _, detail
from client.receipt import ReceiptError, parse_receipt
from client.sources import open_source
from client.state import StateDir, StateError
from client.sync import sync_log
from verifiable.pool.receipt_check import (
    ReceiptReport,
    check_against_bundle,
    check_against_log,
    check_offline,
)

__all__ = ["fetch", "verify_claim_command", "verify_deduction_command", "verify_receipt"]


# --- verify-receipt --------------------------------------------------------------


def _print_receipt(report: ReceiptReport) -> None:
    r = report.receipt
    click.echo(heading(_("log"), report.origin))
    vote = _("juror {juror}, claim {claim}, round {round}, entry {entry}")
    click.echo(
        heading(
            _("vote"), vote.format(juror=r.juror, claim=r.claim, round=r.round, entry=r.leaf_index)
        )
    )
    if report.log is not None:
        click.echo(heading(_("source"), report.log))
    for check in report.checks:
        click.echo(check_line(check.name, check.status, check.detail))
    click.echo(verdict_line(report.verdict))


@click.command("verify-receipt")
@click.argument("receipt_file", metavar="RECEIPT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "vkey", help="The log's verifier key (default: the pinned one).")
@click.option(
    "--log",
    "log_source",
    metavar="URL|SNAPSHOT.tar|DIR",
    help="Also read the log: the vote is still there, revealed as sealed, and counted.",
)
@click.option(
    "--bundle",
    "bundle_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Or read the claim's bundle (fetch claim --since SIZE): the same checks as --log.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify_receipt(
    ctx: click.Context,
    receipt_file: Path,
    vkey: str | None,
    log_source: str | None,
    bundle_file: Path | None,
    as_json: bool,
) -> int:
    """Check a juror's vote receipt: the sealed vote is in the log under a
    signed checkpoint and opens to the receipt's vote; with --log (or the
    claim's --bundle), its reveal matches and the round's decision counted it."""
    if log_source is not None and bundle_file is not None:
        raise click.UsageError(_("give --log or --bundle, not both"))
    try:
        data = receipt_file.read_bytes()
    except OSError as e:
        raise CannotVerify(
            _("{path}: cannot be read: {error}").format(path=receipt_file, error=e.strerror or e)
        ) from e
    try:
        receipt = parse_receipt(data)
    except ReceiptError as e:
        raise CannotVerify(
            _("{path}: not a vote receipt: {error}").format(path=receipt_file, error=detail(str(e)))
        ) from e
    try:
        state: StateDir | None = state_of(ctx)
    except StateError:
        state = None
    verifier, origin, _pin = resolve_key(state, vkey, None, receipt.checkpoint, str(receipt_file))
    if bundle_file is not None:
        try:
            bundle = read_bundle(bundle_file)
        except BundleError as e:
            raise CannotVerify(detail(str(e))) from e
        report = check_against_bundle(receipt, verifier, origin, bundle)
    elif log_source is None:
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
            self.fail(
                _("expected 32 lowercase hex digits, got {value}").format(value=repr(value)),
                param,
                ctx,
            )
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
        self.fail(
            _("expected a period's notice date YYYY-MM-DD, got {value}").format(value=repr(value)),
            param,
            ctx,
        )


ID = _IdType()
PERIOD = _PeriodType()


def _sync_for_fetch(ctx: click.Context, url: str) -> tuple[HttpFetcher, str, int]:
    """Sync the pinned log at URL; the fetcher, origin and synced size.  A sync
    that fails is evidence: its report is printed and the command exits 1."""
    state = state_of(ctx)
    fetcher = HttpFetcher(url)
    note = fetcher.checkpoint()
    origin = origin_of(note, fetcher.url("checkpoint"))
    pin = pinned(state, origin)
    report = sync_log(pin, state, fetcher, now(), note=note)
    if not report.ok:
        print_checks(report.checks, err=True)
        if report.evidence is not None:
            click.echo(_("evidence saved in {path}").format(path=report.evidence), err=True)
        click.echo(_("NOT VERIFIED: sync failed, nothing fetched"), err=True)
        raise click.exceptions.Exit(EXIT_FAILED)
    assert report.new_size is not None
    return fetcher, origin, report.new_size


@click.group()
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
    path = output or deduction_path(state_of(ctx), origin, member, period)
    save_bundle(path, bundle)
    saved = _(
        "saved {path}: size {size}, {entries} entries, {claims} claims sampled, "
        "{wire} bytes fetched"
    )
    click.echo(
        saved.format(
            path=path,
            size=size,
            entries=len(bundle.entries),
            claims=len(bundle.claims),
            wire=fetcher.stats.wire_bytes,
        )
    )
    return EXIT_VERIFIED


@fetch.command("claim")
@click.argument("claim", type=ID)
@click.argument("url")
@_bundle_output
@click.option(
    "--since",
    type=click.IntRange(min=1),
    help="Also prove the log grew from this size (a vote receipt's tree_size), "
    "for verify-receipt --bundle.",
)
@click.pass_context
def fetch_claim_command(
    ctx: click.Context, claim: str, url: str, output: Path | None, since: int | None
) -> int:
    """Fetch the bundle for verify-claim CLAIM from the log at URL."""
    fetcher, origin, size = _sync_for_fetch(ctx, url)
    try:
        bundle = fetch_claim(fetcher, size, claim, since)
    finally:
        fetcher.close()
    path = output or claim_path(state_of(ctx), origin, claim)
    save_bundle(path, bundle)
    saved = _("saved {path}: size {size}, {entries} entries")
    click.echo(saved.format(path=path, size=size, entries=len(bundle.entries)))
    return EXIT_VERIFIED


def _find_bundle(
    ctx: click.Context, given: Path | None, name: Callable[[StateDir, str], Path]
) -> Path:
    """The bundle file: ``--bundle``, else the one in the state folder of the
    only pinned log that has it."""
    if given is not None:
        return given
    state = state_of(ctx)
    found = [p for p in (name(state, origin) for origin in state.pinned_origins()) if p.exists()]
    if not found:
        raise CannotVerify(
            _("no bundle in the state folder: run `mutualog fetch ...` or give --bundle")
        )
    if len(found) > 1:
        raise CannotVerify(
            _("bundles of several logs ({paths}): give --bundle").format(
                paths=", ".join(map(str, found))
            )
        )
    return found[0]


def _print_findings(report: BundleReport, lines: list[str]) -> None:
    click.echo(heading(_("log"), report.origin))
    click.echo(heading(_("bundle"), str(report.bundle)))
    click.echo(size_line(report.size, report.root))
    for line in lines:
        click.echo(line)
    for f in report.findings:
        click.echo(check_line(f.name, f.status, f.detail))
        if not f.ok:
            for label, value in (
                (_("where: {value}"), detail(f.where)),
                (_("expected: {value}"), detail(f.expected)),
                (_("found: {value}"), detail(f.found)),
            ):
                if value:
                    click.echo("         " + label.format(value=value))
    click.echo(verdict_line("verified" if report.ok else "failed"))


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


@click.command("verify-deduction")
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
    report = verify_deduction(state_of(ctx), path, read_bundle(path), member, period)
    share = report.subject.get("share")
    who = _("{member}, period {period}").format(member=member, period=period.isoformat())
    lines = [heading(_("member"), who)]
    if share is not None:
        lines.append(heading(_("share"), _("{fen} fen").format(fen=share)))
    return _finish(report, as_json, lines)


def _openings(files: tuple[Path, ...]) -> list[dict[str, object]]:
    """The redacted copies' openings, as the claimant downloaded them."""
    openings = []
    for file in files:
        try:
            data = json.loads(file.read_bytes())
        except (OSError, ValueError) as e:
            message = f"{file}: not a JSON file ({e})"
            raise click.BadParameter(message, param_hint="--redacted") from e
        if not isinstance(data, dict):
            raise click.BadParameter(f"{file}: not an opening", param_hint="--redacted")
        openings.append(data)
    return openings


@click.command("verify-claim")
@click.argument("claim", type=ID)
@click.option(
    "--redacted",
    "redacted_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A redacted copy's file from your claim's page: check it is what the panel was shown.",
)
@_bundle_options("claim")
@click.pass_context
def verify_claim_command(
    ctx: click.Context,
    claim: str,
    redacted_files: tuple[Path, ...],
    bundle_file: Path | None,
    as_json: bool,
) -> int:
    """Check, offline, one claim's whole history: notice, objections, panels,
    votes, decisions and payout; with --redacted, the redacted copies the
    panel was shown."""
    openings = _openings(redacted_files)
    path = _find_bundle(ctx, bundle_file, lambda s, o: claim_path(s, o, claim))
    report = verify_claim(state_of(ctx), path, read_bundle(path), claim, openings)
    return _finish(report, as_json, [heading(_("claim"), claim)])
