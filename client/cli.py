"""The ``mutualog`` command: verify a log on your own machine.

Exit codes: 0 verified; 1 a check failed (evidence that the log is not what
it claims); 2 cannot verify (bad usage, unreadable input).
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import click

from client.audit import AuditReport, audit_source
from client.sources import SourceError
from verifiable.errors import MutualogError
from verifiable.note import Ed25519Verifier

__all__ = ["main"]

EXIT_VERIFIED, EXIT_FAILED, EXIT_CANNOT_VERIFY = 0, 1, 2

EXAMPLE_LOG = "example-log.tar"
EXAMPLE_KEY = "example-log.vkey"


def _example() -> tuple[Path, str]:
    folder = resources.files("client") / "examples"
    with resources.as_file(folder / EXAMPLE_LOG) as tar:
        key = (folder / EXAMPLE_KEY).read_text(encoding="ascii").strip()
        return Path(tar), key


def _print_report(report: AuditReport) -> None:
    click.echo(f"log     {report.origin}")
    click.echo(f"source  {report.source}")
    if report.size:
        click.echo(f"size    {report.size}   root {report.root}")
    for check in report.checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"[{mark}] {check.name}: {check.detail}")
    click.echo("VERIFIED" if report.ok else "NOT VERIFIED")


@click.group()
def cli() -> None:
    """Verify a mutualog log offline."""


@cli.command()
@click.argument("source", required=False, type=click.Path(path_type=Path))
@click.option("--key", "vkey", help="The log's verifier key (name+hexid+base64).")
@click.option("--origin", help="The log's origin line (default: the key's name).")
@click.option("--example", is_flag=True, help="Audit the example log shipped with mutualog.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def audit(
    source: Path | None, vkey: str | None, origin: str | None, example: bool, as_json: bool
) -> None:
    """Audit a whole log from a snapshot tar or a folder of exported tiles:
    the signed checkpoint, every tile and bundle, every entry and the chain."""
    if example:
        if source is not None or vkey is not None:
            raise click.UsageError("--example takes no SOURCE or --key")
        source, vkey = _example()
    if source is None or vkey is None:
        raise click.UsageError("give SOURCE and --key, or --example")
    try:
        verifier = Ed25519Verifier.from_vkey(vkey)
    except MutualogError as e:
        raise click.UsageError(f"--key: {e}") from e

    def progress(done: int, total: int) -> None:
        if not as_json and sys.stderr.isatty() and (done % 4096 == 0 or done == total):
            click.echo(f"\r  {done}/{total} entries", nl=done == total, err=True)

    try:
        report = audit_source(source, verifier, origin or verifier.name, progress)
    except SourceError as e:
        click.echo(f"mutualog: cannot verify: {e}", err=True)
        sys.exit(EXIT_CANNOT_VERIFY)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_report(report)
    sys.exit(EXIT_VERIFIED if report.ok else EXIT_FAILED)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting."""
    try:
        cli.main(args=argv, prog_name="mutualog", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        return EXIT_CANNOT_VERIFY
    except click.Abort:
        click.echo("aborted", err=True)
        return EXIT_CANNOT_VERIFY
    except SystemExit as e:
        return int(e.code or 0)
    return EXIT_VERIFIED


if __name__ == "__main__":
    sys.exit(main())
