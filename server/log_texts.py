"""The server's one way in for a text bound for the log.

Every form field and every ``mutualog-server pool`` option whose text ends
up in an entry passes through here at the first step that takes it — the
form's validation (:func:`log_text`), the command's reading of its options
(:func:`accept`), and the pool's operations again before they append —
so a text is normalised once, the same way everywhere, and refused where
the person can still correct it, never later at the append.

The rules are the log's own (:mod:`verifiable.log.texts`, which ends with
the reader every replay applies).  Then, always, the private-data guard
(:mod:`server.private_guard`): a text that holds something shaped like an
ID number or a mobile number, or the name, ID number or phone of a member
it concerns, is refused (:class:`PrivateDataError`), naming what was found
and where, never the identifier.  Who a text concerns is the caller's to
say: ``concerned`` for :func:`accept` and :func:`check_private`, the
form's ``concerned`` attribute, set by the view before it validates, for
:func:`log_text`.  Checks of the server's own that are stricter still go
into ``guards``: each is called with the normalised text and its rule,
after the private-data guard, and raises :class:`TextGuardError` to
refuse it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, ValidationError

from server.pool.errors import PoolInputError
from server.private_guard import IdentifierKind, PrivateIdentity, find_private
from verifiable.log.texts import TextRefusal, TextRefusedError, TextRule, normalize, prepare

__all__ = [
    "PRIVATE_SENTENCES",
    "PrivateDataError",
    "TextGuard",
    "TextGuardError",
    "accept",
    "check_private",
    "concern",
    "log_text",
    "text_refusal",
]

TextGuard = Callable[[str, TextRule], None]
"""A check of the server's own on a normalised text (raises
:class:`TextGuardError`)."""


class TextGuardError(PoolInputError):
    """A text the log would accept but a guard of the server refuses;
    ``sentence`` is what a page shows, in its language."""

    def __init__(self, message: str, sentence: str, code: str = "", **params: object) -> None:
        super().__init__(message, code, **params)
        self.sentence = sentence


#: What a page says for each kind of private identifier found, with the
#: character's number (from 1); the refusal's code is ``text.private_`` and
#: the kind.
PRIVATE_SENTENCES: Mapping[IdentifierKind, object] = {
    IdentifierKind.ID_NUMBER: _l(
        "Character %(position)s starts what looks like a resident ID number. The log is "
        "public and permanent: no ID number may be written in it. Remove it."
    ),
    IdentifierKind.PHONE: _l(
        "Character %(position)s starts what looks like a mobile phone number. The log is "
        "public and permanent: no phone number may be written in it. Remove it."
    ),
    IdentifierKind.NAME: _l(
        "Character %(position)s starts the name of a member this concerns. The log is "
        "public and permanent: it names members only by their member id. Remove the name."
    ),
    IdentifierKind.MEMBER_ID_NUMBER: _l(
        "Character %(position)s starts the ID number of a member this concerns. The log is "
        "public and permanent: no ID number may be written in it. Remove it."
    ),
    IdentifierKind.MEMBER_PHONE: _l(
        "Character %(position)s starts the phone number of a member this concerns. The log "
        "is public and permanent: no phone number may be written in it. Remove it."
    ),
}

_WHAT = {
    IdentifierKind.ID_NUMBER: "what looks like a resident ID number",
    IdentifierKind.PHONE: "what looks like a mobile phone number",
    IdentifierKind.NAME: "the name of a member it concerns",
    IdentifierKind.MEMBER_ID_NUMBER: "the ID number of a member it concerns",
    IdentifierKind.MEMBER_PHONE: "the phone number of a member it concerns",
}


class PrivateDataError(TextGuardError):
    """A text holding a private identifier (:mod:`server.private_guard`):
    ``kind`` says what, ``position`` (from 1) where in the text as the log
    would hold it; the identifier itself is never repeated."""

    def __init__(self, rule: TextRule, kind: IdentifierKind, position: int) -> None:
        super().__init__(
            f"{rule.field}: character {position} starts {_WHAT[kind]}; the log is public "
            "and permanent, so it may hold no name, ID number or phone number: remove it",
            str(PRIVATE_SENTENCES[kind]) % {"position": position},
            f"text.private_{kind.value}",
            field=rule.field,
            position=position,
        )
        self.kind = kind
        self.position = position


def _(text: str, **values: object) -> str:
    return str(gettext(text, **values))


def _refuse_private(text: str, rule: TextRule, concerned: Sequence[PrivateIdentity]) -> None:
    found = find_private(text, concerned)
    if found is not None:
        raise PrivateDataError(rule, found.kind, found.position + 1)


def _prepared(
    raw: str,
    rule: TextRule,
    guards: Sequence[TextGuard],
    concerned: Sequence[PrivateIdentity],
) -> str:
    # The order everywhere: normalised, the log's rules, the private data, the guards.
    text = prepare(raw, rule)
    _refuse_private(text, rule, concerned)
    for guard in guards:
        guard(text, rule)
    return text


def accept(
    raw: str,
    rule: TextRule,
    guards: Sequence[TextGuard] = (),
    concerned: Sequence[PrivateIdentity] = (),
) -> str:
    """``raw`` as the log will hold it in ``rule``'s field, else
    :class:`~server.pool.errors.PoolInputError` (a page's 400, a command's
    exit 2) saying what is wrong: :class:`PrivateDataError` for a private
    identifier, of anyone's or of the members ``concerned``."""
    try:
        return _prepared(raw, rule, guards, concerned)
    except TextRefusedError as e:
        raise PoolInputError(str(e), "input.malformed", detail=str(e)) from e


def check_private(text: str, rule: TextRule, concerned: Sequence[PrivateIdentity] = ()) -> None:
    """The pool's last look before it appends ``text``, which the log's rules
    have passed (:func:`server.pool.core.checked`): :class:`PrivateDataError`
    if, normalised, it holds a private identifier."""
    _refuse_private(normalize(text), rule, concerned)


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


def concern(form: Form, concerned: Sequence[PrivateIdentity]) -> None:
    """Tell ``form``'s :func:`log_text` fields which members their texts
    concern, before the form validates: their names, ID numbers and phones
    are refused too."""
    form.concerned = tuple(concerned)  # type: ignore[attr-defined]


def log_text(rule: TextRule, guards: Sequence[TextGuard] = ()) -> Callable[[Form, Field], None]:
    """A form validator: the field's text as the log will hold it (the field's
    ``data`` is replaced by it), else the field's error in the page's
    language.  Goes after the field's "required" validator.  The members the
    text concerns are the form's ``concerned`` attribute (a sequence of
    :class:`~server.private_guard.PrivateIdentity`), if the view set one."""

    def validate(form: Form, field: Field) -> None:
        concerned: Sequence[PrivateIdentity] = getattr(form, "concerned", ())
        try:
            field.data = _prepared(field.data or "", rule, guards, concerned)
        except TextRefusedError as e:
            raise ValidationError(text_refusal(e)) from e
        except TextGuardError as e:
            raise ValidationError(e.sentence) from e

    return validate
