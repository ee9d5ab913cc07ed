"""Texts bound for the log: how a text a person typed becomes a field of an entry.

Every free-text field of an entry body (a notice, an objection, an answer,
a juror's reason, the reason of a rule change, an override or an erasure)
is read on replay by :func:`verifiable.log.fields.read_text`: a length in
code points, line feeds only where the field allows them, and no control
characters, lone surrogates or bidirectional embeddings, overrides and
isolates (U+202A-202E, U+2066-2069: "Trojan Source", CVE-2021-42574).  A
person's text meets those rules here, once, where it is first entered:

1. :func:`normalize` makes line ends plain — CR LF (what browsers send for
   a text area's line breaks) and a lone CR become LF — and drops white
   space at either end;
2. :func:`check` applies the rules of the field's :class:`TextRule`,
   naming what is wrong (:class:`TextRefusal`) so that a form can say it
   in the person's language, and then :func:`~verifiable.log.fields.read_text`
   itself, so that no text passes here that a replay would refuse.

:func:`prepare` is both, in that order.  :data:`TEXT_RULES` lists every
text a person writes for the log, each with the body field it is bound
for; a test builds each body with texts that pass and checks that the log
reads them back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from verifiable.errors import MalformedError
from verifiable.log.fields import read_text

__all__ = [
    "ANSWER",
    "APPEAL_REASON",
    "ERASURE_REASON",
    "NOTICE",
    "NOTICE_SUMMARY",
    "OBJECTION",
    "OVERRIDE_REASON",
    "OVERRIDE_TARGET",
    "RULES_REASON",
    "TEXT_RULES",
    "VOTE_REASON",
    "TextRefusal",
    "TextRefusedError",
    "TextRule",
    "check",
    "normalize",
    "prepare",
]

# Bidirectional embeddings, overrides and isolates: U+202A-202E, U+2066-2069.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# What read_text refuses besides those and the line feed: C0 and C1
# controls (category Cc) and lone surrogates (Cs).
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class TextRefusal(StrEnum):
    """Why a text is refused; a form words each in the person's language."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    LINE_BREAK = "line_break"
    CONTROL = "control"
    BIDI = "bidi"


class TextRefusedError(MalformedError):
    """A text the log would not accept, with ``refusal`` saying why and
    ``rule`` the field's rules; ``position`` (from 0) and ``char`` name the
    first refused character where there is one."""

    def __init__(
        self,
        message: str,
        refusal: TextRefusal,
        rule: TextRule,
        position: int | None = None,
        char: str = "",
    ) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.rule = rule
        self.position = position
        self.char = char


@dataclass(frozen=True)
class TextRule:
    """The log's rules for one kind of text: ``name`` says which, ``field``
    the body field it fills (``claim.objected.text``), and the bounds are
    that field's."""

    name: str
    field: str
    max_len: int
    min_len: int = 1
    multiline: bool = True


NOTICE = TextRule("notice", "claim.noticed.text", 2000)
NOTICE_SUMMARY = TextRule("notice_summary", "claim.noticed.summary", 2000)
OBJECTION = TextRule("objection", "claim.objected.text", 2000)
ANSWER = TextRule("answer", "claim.answered.text", 2000)
APPEAL_REASON = TextRule("appeal", "claim.appealed.reason", 2000)
VOTE_REASON = TextRule("vote_reason", "vote.revealed.reason", 500)
RULES_REASON = TextRule("rules_reason", "pool.rules.reason", 2000)
OVERRIDE_TARGET = TextRule("override_target", "operator.override.target", 200, multiline=False)
OVERRIDE_REASON = TextRule("override_reason", "operator.override.reason", 2000)
ERASURE_REASON = TextRule("erasure_reason", "data.erased.reason", 500, multiline=False)

TEXT_RULES: Mapping[str, TextRule] = MappingProxyType(
    {
        r.name: r
        for r in (
            NOTICE,
            NOTICE_SUMMARY,
            OBJECTION,
            ANSWER,
            APPEAL_REASON,
            VOTE_REASON,
            RULES_REASON,
            OVERRIDE_TARGET,
            OVERRIDE_REASON,
            ERASURE_REASON,
        )
    }
)
"""Every text a person writes for the log, by name."""


def normalize(text: str) -> str:
    """``text`` with CR LF and CR made LF, and no white space at either end."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def check(text: str, rule: TextRule) -> None:
    """``None`` if the log accepts ``text`` in ``rule``'s field, else
    :class:`TextRefusedError` naming the first thing wrong."""
    where = rule.field
    if len(text) < rule.min_len:
        raise TextRefusedError(f"{where}: the text is empty", TextRefusal.EMPTY, rule)
    if len(text) > rule.max_len:
        raise TextRefusedError(
            f"{where}: {len(text)} characters, more than the {rule.max_len} allowed",
            TextRefusal.TOO_LONG,
            rule,
        )
    if not rule.multiline and "\n" in text:
        at = text.index("\n")
        raise TextRefusedError(
            f"{where}: one line only, a line break at position {at}",
            TextRefusal.LINE_BREAK,
            rule,
            at,
            "\n",
        )
    for pattern, refusal, what in (
        (_BIDI, TextRefusal.BIDI, "bidirectional control"),
        (_CONTROL, TextRefusal.CONTROL, "control character"),
    ):
        found = pattern.search(text)
        if found is not None:
            raise TextRefusedError(
                f"{where}: {what} U+{ord(found.group()):04X} at position {found.start()}",
                refusal,
                rule,
                found.start(),
                found.group(),
            )
    try:
        # The reader every replay applies has the last word.
        read_text(text, where, max_len=rule.max_len, min_len=rule.min_len, multiline=rule.multiline)
    except MalformedError as e:  # pragma: no cover - the checks above are its rules
        raise TextRefusedError(str(e), TextRefusal.CONTROL, rule) from e


def prepare(text: str, rule: TextRule) -> str:
    """``text`` normalised (:func:`normalize`) and checked (:func:`check`):
    what the log will hold."""
    clean = normalize(text)
    check(clean, rule)
    return clean
