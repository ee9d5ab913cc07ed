"""The ``mutualog`` commands the pages print for copying, filled in for
this server: the member's deduction checks on the dashboard, and the
commands of the ``/verify`` page (docs/members.md, docs/public-pages.md).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from server.rosters import Deduction

__all__ = [
    "DeductionRow",
    "VerifyCommands",
    "deduction_commands",
    "deduction_rows",
    "verify_commands",
]


def deduction_commands(url: str, member_id: str, period: date) -> tuple[str, str]:
    """The two commands that check ``member_id``'s deduction of ``period``:
    fetch its bundle from ``url``, then verify it offline.  Each is one
    command on its own, quoted for a POSIX shell, so a page prints each in
    its own block and copying one copies exactly it."""
    member, day = shlex.quote(member_id), period.isoformat()
    return (
        f"mutualog fetch deduction {shlex.quote(url)} --member {member} --period {day}",
        f"mutualog verify-deduction --member {member} --period {day}",
    )


@dataclass(frozen=True)
class DeductionRow:
    """One row of the dashboard's deductions: the period, the share, the
    ``period.closed`` entry, and the commands that check it, one each."""

    period: date
    share: int
    seq: int
    commands: tuple[str, ...]


def deduction_rows(deductions: Iterable[Deduction], url: str, member_id: str) -> list[DeductionRow]:
    """The dashboard's rows for ``member_id``'s deductions, with the
    commands that fetch each one's bundle from ``url`` and check it."""
    return [
        DeductionRow(d.period, d.share, d.seq, deduction_commands(url, member_id, d.period))
        for d in deductions
    ]


@dataclass(frozen=True)
class VerifyCommands:
    """The commands every reader of ``/verify`` starts with."""

    trust: str
    sync: str
    audit: str


def verify_commands(
    origin: str,
    vkey: str,
    url: str,
    witnesses: Sequence[tuple[str, str]] = (),
    required: int = 0,
) -> VerifyCommands:
    """Pin this log's key, follow it, audit it; quoted for a POSIX shell.

    With a witness policy (``required`` of ``witnesses``, each a name and a
    cosignature verifier key; ``required`` > 0) the trust command pins it
    too, so ``sync`` accepts only a checkpoint that many of them cosigned,
    which is what ``/checkpoint`` then serves."""
    trust = f"mutualog trust {shlex.quote(origin)} {shlex.quote(vkey)}"
    if required > 0:
        for name, key in witnesses:
            trust += f" --witness {shlex.quote(name)} {shlex.quote(key)}"
        trust += f" --witnesses-required {required}"
    return VerifyCommands(
        trust=trust,
        sync=f"mutualog sync {shlex.quote(url)}",
        audit=f"mutualog audit {shlex.quote(url)}",
    )
