"""``verify-receipt``'s input: a juror's vote receipt file.

The checks themselves are pure and live in the core
(:mod:`verifiable.pool.receipt_check`: offline, and against a log read in
full); the command reads the file, opens the ``--log`` source and prints the
report.  What stays here is the one judgement that belongs to the client: a
file that is not a vote receipt at all is "cannot verify" (exit 2), not
evidence, so its error sits outside :class:`~verifiable.errors.MutualogError`
(docs/errors.md).
"""

from __future__ import annotations

from verifiable.errors import MalformedError
from verifiable.pool.receipt import VoteReceipt
from verifiable.pool.receipt import parse_receipt as _parse

__all__ = ["ReceiptError", "parse_receipt"]


class ReceiptError(Exception):
    """The receipt file is not a vote receipt at all: nothing can be verified."""


def parse_receipt(data: bytes) -> VoteReceipt:
    """The receipt in ``data``; :class:`ReceiptError` for anything that is
    not a well-formed vote receipt."""
    try:
        return _parse(data)
    except MalformedError as e:
        raise ReceiptError(str(e)) from e
