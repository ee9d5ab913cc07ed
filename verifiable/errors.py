"""The one exception hierarchy of mutualog.

Callers branch on two questions: could the input be decoded at all
(:class:`MalformedError`), and if so, did it pass the proof, signature, chain
or rule it was checked against (:class:`VerificationError`)?  Every message
says what failed, where, and the expected versus the actual value, with hashes
in hex.
"""

from __future__ import annotations

__all__ = [
    "MalformedError",
    "MutualogError",
    "RuleViolation",
    "VerificationError",
]


class MutualogError(Exception):
    """Base class of every error raised on purpose by mutualog."""


class MalformedError(MutualogError):
    """Input that cannot be decoded: wrong syntax, wrong length, wrong type,
    non-canonical encoding, unknown field."""


class VerificationError(MutualogError):
    """Input that decodes but fails a proof, a signature, the hash chain or a
    consistency check."""


class RuleViolation(VerificationError):  # noqa: N818 -- the name the pool's docs and issues use
    """An entry that decodes and is well chained but breaks a rule of the pool.

    ``rule`` names the rule (a stable identifier such as ``vote.panel_member``),
    ``seq`` is the offending entry's index in the log (or ``None`` before it has
    one), ``expected`` and ``actual`` are short printable values.
    """

    def __init__(
        self,
        rule: str,
        message: str,
        *,
        seq: int | None = None,
        expected: object = None,
        actual: object = None,
    ) -> None:
        self.rule = rule
        self.seq = seq
        self.expected = expected
        self.actual = actual
        where = f"entry {seq}: " if seq is not None else ""
        detail = ""
        if expected is not None or actual is not None:
            detail = f" (expected {expected}, got {actual})"
        super().__init__(f"{where}rule {rule}: {message}{detail}")
