"""The ``mutualog`` commands the pages print for copying, filled in for
this server: the member's deduction checks on the dashboard, and the
commands of the ``/verify`` page (docs/members.md, docs/public-pages.md).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from server.rosters import Deduction

__all__ = ["DeductionRow", "VerifyCommands", "deduction_rows", "verify_commands"]


@dataclass(frozen=True)
class DeductionRow:
    """One row of the dashboard's deductions: the period, the share, the
    ``period.closed`` entry, and the two commands that check it."""

    period: date
    share: int
    seq: int
    commands: str


def deduction_rows(deductions: Iterable[Deduction], url: str, member_id: str) -> list[DeductionRow]:
    """The dashboard's rows for ``member_id``'s deductions, with the
    commands that fetch each one's bundle from ``url`` and check it."""
    rows = []
    for d in deductions:
        period = d.period.isoformat()
        commands = (
            f"mutualog fetch deduction {url} --member {member_id} --period {period}\n"
            f"mutualog verify-deduction --member {member_id} --period {period}"
        )
        rows.append(DeductionRow(d.period, d.share, d.seq, commands))
    return rows


@dataclass(frozen=True)
class VerifyCommands:
    """The commands every reader of ``/verify`` starts with."""

    trust: str
    sync: str
    audit: str


def verify_commands(origin: str, vkey: str, url: str) -> VerifyCommands:
    """Pin this log's key, follow it, audit it; quoted for a POSIX shell."""
    return VerifyCommands(
        trust=f"mutualog trust {shlex.quote(origin)} {shlex.quote(vkey)}",
        sync=f"mutualog sync {shlex.quote(url)}",
        audit=f"mutualog audit {shlex.quote(url)}",
    )
