"""The server's one way in for a text bound for the log.

Every form field and every ``mutualog-server pool`` option whose text ends
up in an entry passes through here at the first step that takes it — the
form's validation (:func:`log_text`), the command's reading of its options
(:func:`accept`), and the pool's operations again before they append —
so a text is normalised once, the same way everywhere, and refused where
the person can still correct it, never later at the append.

The rules are the log's own (:mod:`verifiable.log.texts`, which ends with
the reader every replay applies).  Checks of the server's own that are
stricter than the log's go into ``guards``: each is called with the
normalised text and its rule, after the log's rules, and raises
:class:`TextGuardError` to refuse it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask_babel import gettext
from wtforms import Field, Form, ValidationError

from server.pool.errors import PoolInputError
from verifiable.log.texts import TextRefusal, TextRefusedError, TextRule, prepare

__all__ = ["TextGuard", "TextGuardError", "accept", "log_text", "text_refusal"]

TextGuard = Callable[[str, TextRule], None]
"""A check of the server's own on a normalised text (raises
:class:`TextGuardError`)."""


class TextGuardError(PoolInputError):
    """A text the log would accept but a guard of the server refuses;
    ``sentence`` is what a page shows, in its language."""

    def __init__(self, message: str, sentence: str, code: str = "", **params: object) -> None:
        super().__init__(message, code, **params)
        self.sentence = sentence


def _(text: str, **values: object) -> str:
    return str(gettext(text, **values))


def _prepared(raw: str, rule: TextRule, guards: Sequence[TextGuard]) -> str:
    text = prepare(raw, rule)
    for guard in guards:
        guard(text, rule)
    return text


def accept(raw: str, rule: TextRule, guards: Sequence[TextGuard] = ()) -> str:
    """``raw`` as the log will hold it in ``rule``'s field, else
    :class:`~server.pool.errors.PoolInputError` (a page's 400, a command's
    exit 2) saying what is wrong."""
    try:
        return _prepared(raw, rule, guards)
    except TextRefusedError as e:
        raise PoolInputError(str(e), "input.malformed", detail=str(e)) from e


def text_refusal(e: TextRefusedError) -> str:
    """Why a text is refused, as a sentence in the page's language."""
    code = f"U+{ord(e.char):04X}" if e.char else ""
    position = (e.position or 0) + 1
    if e.refusal is TextRefusal.EMPTY:
        return _("Write the text: it is empty.")
    if e.refusal is TextRefusal.TOO_LONG:
        return _("At most %(n)d characters.", n=e.rule.max_len)
    if e.refusal is TextRefusal.LINE_BREAK:
        return _("One line only: remove the line break.")
    if e.refusal is TextRefusal.BIDI:
        return _(
            "Character %(position)d (%(code)s) changes the direction the text reads in, so "
            "the log would show something else than it says; remove it.",
            position=position,
            code=code,
        )
    return _(
        "Character %(position)d (%(code)s) is an invisible control character; remove it.",
        position=position,
        code=code,
    )


def log_text(rule: TextRule, guards: Sequence[TextGuard] = ()) -> Callable[[Form, Field], None]:
    """A form validator: the field's text as the log will hold it (the field's
    ``data`` is replaced by it), else the field's error in the page's
    language.  Goes after the field's "required" validator."""

    def validate(form: Form, field: Field) -> None:
        try:
            field.data = _prepared(field.data or "", rule, guards)
        except TextRefusedError as e:
            raise ValidationError(text_refusal(e)) from e
        except TextGuardError as e:
            raise ValidationError(e.sentence) from e

    return validate
