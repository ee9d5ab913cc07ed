"""The commands the pages print for copying (server.presenters.commands)."""

from __future__ import annotations

from datetime import date

from server.presenters.commands import DeductionRow, deduction_rows, verify_commands
from server.rosters import Deduction

MEMBER = "ab" * 16


def test_each_deduction_gets_the_two_commands_that_check_it() -> None:
    rows = deduction_rows(
        [Deduction(date(2026, 1, 5), 1234, 17), Deduction(date(2026, 1, 12), 99, 40)],
        "https://pool.example",
        MEMBER,
    )
    assert rows[0] == DeductionRow(
        date(2026, 1, 5),
        1234,
        17,
        (
            f"mutualog fetch deduction https://pool.example --member {MEMBER} --period 2026-01-05",
            f"mutualog verify-deduction --member {MEMBER} --period 2026-01-05",
        ),
    )
    assert rows[1].commands[1].endswith("--period 2026-01-12")
    # One command each: nothing a shell would read as two.
    assert all("\n" not in c and ";" not in c for row in rows for c in row.commands)
    assert deduction_rows([], "https://pool.example", MEMBER) == []


def test_the_verify_pages_commands_are_quoted_for_a_shell() -> None:
    commands = verify_commands("example.org/pool", "example.org/pool+1a2b+AAAA", "http://x/")
    assert commands.trust == "mutualog trust example.org/pool example.org/pool+1a2b+AAAA"
    assert commands.sync == "mutualog sync http://x/"
    assert commands.audit == "mutualog audit http://x/"
    odd = verify_commands("it's", "a b", "http://x/?a=1&b=2")
    assert odd.trust == "mutualog trust 'it'\"'\"'s' 'a b'"
    assert odd.sync == "mutualog sync 'http://x/?a=1&b=2'"
