"""What a juror's pages show beyond the pool's state: the time left to
vote, in words of the page's language, and the receipt's file name and the
commands that check it (docs/client.md, ``verify-receipt``).

The receipt's file name is made here once: the download names the file
with it (``Content-Disposition``) and the receipt page prints it in the
commands, so the command a juror copies names the file they downloaded.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext, ngettext

__all__ = ["ReceiptCommands", "receipt_commands", "receipt_filename", "time_left"]

_DAY = 86_400
_HOUR = 3_600


def _days(n: int) -> str:
    return str(ngettext("%(num)d day", "%(num)d days", n))


def _hours(n: int) -> str:
    return str(ngettext("%(num)d hour", "%(num)d hours", n))


def _minutes(n: int) -> str:
    return str(ngettext("%(num)d minute", "%(num)d minutes", n))


def time_left(until: datetime, now: datetime) -> str:
    """How long is left until ``until``, to the two largest units: "2 days
    3 hours left", "5 hours 10 minutes left", "1 minute left"; "Closed"
    once it has passed.  Rounded down, so a juror is never told of time
    they do not have."""
    seconds = int((until - now).total_seconds())
    if seconds <= 0:
        return str(gettext("Closed"))
    days, rest = divmod(seconds, _DAY)
    hours, rest = divmod(rest, _HOUR)
    minutes = rest // 60
    if days and hours:
        return str(gettext("%(days)s %(hours)s left", days=_days(days), hours=_hours(hours)))
    if days:
        return str(gettext("%(time)s left", time=_days(days)))
    if hours and minutes:
        return str(
            gettext("%(hours)s %(minutes)s left", hours=_hours(hours), minutes=_minutes(minutes))
        )
    if hours:
        return str(gettext("%(time)s left", time=_hours(hours)))
    return str(gettext("%(time)s left", time=_minutes(max(minutes, 1))))


def receipt_filename(claim_id: str, round_: int) -> str:
    """The receipt's file name, as the download gives it."""
    return f"vote-receipt-{claim_id}-round-{round_}.json"


@dataclass(frozen=True)
class ReceiptCommands:
    """The commands of the receipt page, one each: pin the log's key (once),
    check the receipt offline now, and check it against the log once voting
    has closed."""

    trust: str
    check: str
    check_log: str


def receipt_commands(origin: str, vkey: str, url: str, filename: str) -> ReceiptCommands:
    """The receipt's commands for the log ``origin`` (key ``vkey``) served
    at ``url``; quoted for a POSIX shell."""
    receipt = shlex.quote(filename)
    return ReceiptCommands(
        trust=f"mutualog trust {shlex.quote(origin)} {shlex.quote(vkey)}",
        check=f"mutualog verify-receipt {receipt}",
        check_log=f"mutualog verify-receipt {receipt} --log {shlex.quote(url)}",
    )
