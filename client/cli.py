"""The ``mutualog`` command: verify a log on your own machine.

Exit codes: 0 verified; 1 a check failed (evidence that the log is not what
it claims); 2 cannot verify (bad usage, unreadable input, network failure,
a damaged state folder).  No input gives a traceback.

Here are the command group and :func:`main`; the commands are in
:mod:`client.commands`, one module a group of them: :mod:`~client.commands.log`
(``trust``, ``export-trust``, ``sync``, ``audit``), :mod:`~client.commands.member`
(``verify-receipt``, ``fetch``, ``verify-deduction``, ``verify-claim``) and
:mod:`~client.commands.witness`; what they share is
:mod:`~client.commands.common`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from client.bundles import BundleError
from client.commands import log, member, witness
from client.commands.common import (
    EXIT_CANNOT_VERIFY,
    EXIT_FAILED,
    EXIT_VERIFIED,
    cannot_verify,
)
from client.fetch import FetchError
from client.i18n import _, activate, load
from client.sources import SourceError
from client.state import StateError
from verifiable.errors import MutualogError

__all__ = ["EXIT_CANNOT_VERIFY", "EXIT_FAILED", "EXIT_VERIFIED", "cli", "main"]


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


for _command in (
    log.trust,
    log.export_trust,
    log.sync,
    log.audit,
    member.verify_receipt,
    member.fetch,
    member.verify_deduction_command,
    member.verify_claim_command,
    witness.witness,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting.

    The human output is in the language the environment asks for
    (:mod:`client.i18n`), loaded for this run only."""
    with activate(load()):
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    try:
        result = cli.main(args=argv, prog_name="mutualog", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        return EXIT_CANNOT_VERIFY
    except click.Abort:
        click.echo(_("aborted"), err=True)
        return EXIT_CANNOT_VERIFY
    except click.exceptions.Exit as e:
        return e.exit_code
    except (FetchError, SourceError, StateError, BundleError, MutualogError) as e:
        click.echo(cannot_verify(str(e)), err=True)
        return EXIT_CANNOT_VERIFY
    except OSError as e:
        click.echo(cannot_verify(str(e)), err=True)
        return EXIT_CANNOT_VERIFY
    except SystemExit as e:
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_CANNOT_VERIFY
    return result if isinstance(result, int) else EXIT_VERIFIED


if __name__ == "__main__":
    sys.exit(main())
