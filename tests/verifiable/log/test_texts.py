"""The texts bound for the log: normalised once, refused with a reason, and
whatever passes is what the log's reader accepts in the field it is for."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifiable.errors import MalformedError
from verifiable.log.bodies import parse_body
from verifiable.log.texts import (
    ERASURE_REASON,
    NOTICE,
    OBJECTION,
    OVERRIDE_TARGET,
    TEXT_RULES,
    VOTE_REASON,
    TextRefusal,
    TextRefusedError,
    TextRule,
    check,
    normalize,
    prepare,
)

ID = "ab" * 16
HASH = "cd" * 32
TIME = "2026-01-01T00:00:00Z"

#: A valid body of each type a person's text fills.
BODIES: dict[str, dict[str, Any]] = {
    "claim.noticed": {
        "claim": ID,
        "text": "x",
        "amount": 1,
        "age_band": "18-39",
        "category": "cancer",
        "objections_until": TIME,
    },
    "claim.objected": {"claim": ID, "member": ID, "text": "x"},
    "claim.answered": {"claim": ID, "objection": 3, "text": "x"},
    "claim.appealed": {"claim": ID, "reason": "x"},
    "vote.revealed": {
        "claim": ID,
        "round": 1,
        "juror": ID,
        "choice": "approve",
        "reason": "x",
        "salt": HASH,
    },
    "pool.rules": {"effective": TIME, "rules": {}, "reason": "x"},
    "operator.override": {"action": "note", "target": "x", "reason": "x", "details": {}},
    "data.erased": {"kind": "member", "subject": ID, "documents": 0, "reason": "x"},
}


def log_reads(rule: TextRule, text: str) -> None:
    """Parse the body ``rule`` is for with ``text`` in its field (raises if
    the log refuses it)."""
    type_, _, name = rule.field.rpartition(".")
    parse_body(type_, {**BODIES[type_], name: text}, "test")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\r\n\r\nb\r", "a\n\nb"),
        ("  padded \n", "padded"),
        ("\u3000全角空格\u3000", "全角空格"),
        ("plain", "plain"),
    ],
    ids=["crlf", "cr", "blank-line", "padding", "ideographic-space", "plain"],
)
def test_line_ends_are_made_plain_and_ends_trimmed(raw: str, clean: str) -> None:
    assert normalize(raw) == clean
    assert prepare(raw, NOTICE) == clean


@pytest.mark.parametrize(
    ("text", "rule", "refusal", "match"),
    [
        ("", OBJECTION, TextRefusal.EMPTY, "empty"),
        (" \r\n ", OBJECTION, TextRefusal.EMPTY, "empty"),
        ("x" * 2001, OBJECTION, TextRefusal.TOO_LONG, "2001 characters, more than the 2000"),
        ("x" * 501, VOTE_REASON, TextRefusal.TOO_LONG, "more than the 500"),
        ("one\ntwo", ERASURE_REASON, TextRefusal.LINE_BREAK, "one line only"),
        ("one\r\ntwo", OVERRIDE_TARGET, TextRefusal.LINE_BREAK, "position 3"),
        ("abc\u202edcba", VOTE_REASON, TextRefusal.BIDI, "U\\+202E at position 3"),
        ("\u2066isolate", NOTICE, TextRefusal.BIDI, "U\\+2066"),
        ("tab\there", NOTICE, TextRefusal.CONTROL, "U\\+0009"),
        ("nul\x00", NOTICE, TextRefusal.CONTROL, "U\\+0000"),
        ("c1\x85next", NOTICE, TextRefusal.CONTROL, "U\\+0085"),
        ("lone\ud800", NOTICE, TextRefusal.CONTROL, "U\\+D800"),
    ],
    ids=[
        "empty",
        "blank",
        "too-long",
        "vote-too-long",
        "line-break",
        "crlf-in-a-line",
        "rlo",
        "isolate",
        "tab",
        "nul",
        "c1-next-line",
        "lone-surrogate",
    ],
)
def test_a_text_the_log_refuses_is_refused_with_its_reason(
    text: str, rule: TextRule, refusal: TextRefusal, match: str
) -> None:
    with pytest.raises(TextRefusedError, match=match) as raised:
        prepare(text, rule)
    assert raised.value.refusal is refusal
    assert raised.value.rule is rule


def test_the_refused_character_is_named() -> None:
    with pytest.raises(TextRefusedError) as raised:
        check("ok\u202e", VOTE_REASON)
    assert (raised.value.position, raised.value.char) == (2, "\u202e")


@pytest.mark.parametrize("rule", TEXT_RULES.values(), ids=list(TEXT_RULES))
def test_each_rule_has_the_bounds_of_its_field(rule: TextRule) -> None:
    log_reads(rule, "x" * rule.max_len)
    with pytest.raises(MalformedError):
        log_reads(rule, "x" * (rule.max_len + 1))
    if rule.multiline:
        log_reads(rule, "two\nlines")
    else:
        with pytest.raises(MalformedError):
            log_reads(rule, "two\nlines")


_TEXTS = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from("\r\n\t \u202a\u202e\u2066\u2069\x00\x85\u3000"),
    ),
    max_size=600,
)


@given(text=_TEXTS, rule=st.sampled_from(list(TEXT_RULES.values())))
def test_whatever_passes_the_log_reads_in_its_field(text: str, rule: TextRule) -> None:
    try:
        clean = prepare(text, rule)
    except TextRefusedError:
        return
    log_reads(rule, clean)
    assert prepare(clean, rule) == clean  # normalising twice changes nothing
    assert "\r" not in clean
