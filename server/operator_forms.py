"""The operator's forms (Flask-WTF: every form carries and checks a CSRF token).

Each form checks what it can alone — sizes, amounts, dates, the JSON of a
rule change — so a bad value is shown next to its field and nothing reaches
the pool.  Amounts are typed in yuan (at most two decimals) and parsed
exactly, with :class:`decimal.Decimal`, into integer fen
(:func:`yuan_to_fen`): never a float.  Labels and messages are marked for
translation (lazily: the forms are built at import).

What depends on the pool's state (the claim is at the right stage, the
window is over, the amount is within the cap) is the pool service's to
refuse, for the web pages and the ``mutualog-server pool``
commands alike.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (
    Field,
    Form,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.2
from wtforms.form import BaseForm
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from server.forms import FlaskForm
from server.log_texts import log_text
from server.notice_words import hospital_grade, province_choices
from server.pool_service import MAX_ERASURE_REASON, PoolRefusedError
from server.rule_text import parse_effective, read_rule_changes
from verifiable.log.bodies import ErasedKind
from verifiable.log.fields import MAX_SAFE_INT
from verifiable.log.notice_facts import HospitalGrade
from verifiable.log.texts import (
    ANSWER,
    ERASURE_REASON,
    NOTICE,
    NOTICE_SUMMARY,
    OVERRIDE_REASON,
    OVERRIDE_TARGET,
    RULES_REASON,
    TextRule,
    normalize,
)

__all__ = [
    "MAX_NOTICE",
    "MAX_RULES_JSON",
    "AnswerForm",
    "ClaimActionForm",
    "ClosePeriodForm",
    "ConfirmPayForm",
    "DemoClockForm",
    "ErasureForm",
    "NoticeForm",
    "OverrideForm",
    "RulesForm",
    "YuanField",
    "yuan_to_fen",
]

#: A notice, an answer, a rule change's or an override's reason (the log's bound).
MAX_NOTICE = NOTICE.max_len
#: A rule change's JSON; the whole rulebook is a few hundred bytes.
MAX_RULES_JSON = 20_000
_ID = r"^[0-9a-f]{32}$"
#: Yuan as a person types them: digits, thousands grouped by commas or not,
#: maybe a decimal point and decimals (their count is checked apart, to say
#: what is wrong).  A yuan sign and spaces are dropped first.
_YUAN = re.compile(
    r"^(?P<whole>[0-9]{1,3}(?:[,\uff0c][0-9]{3})+|[0-9]+)(?:\.(?P<fraction>[0-9]*))?$"
)
_YUAN_SIGNS = str.maketrans("", "", "\u00a5\uffe5 \u00a0")  # yuan signs and spaces


def _text(value: str | None) -> str | None:
    # Browsers send a textarea's line breaks as CR LF; the log allows LF only.
    # Normalised before "required" looks, so a text of spaces is missing.
    return None if value is None else normalize(value)


def _line(value: str | None) -> str | None:
    return None if value is None else value.strip()


def yuan_to_fen(text: str) -> int:
    """The integer fen of an amount typed in yuan (``40000``, ``40,000.5``,
    ``¥40000.50``), exactly; :class:`wtforms.ValidationError` with a message
    for a person if it is not a positive amount with at most two decimals."""
    typed = text.translate(_YUAN_SIGNS)
    if typed.startswith(("-", "\u2212")):
        raise ValidationError(_l("The amount must be more than zero."))
    found = _YUAN.fullmatch(typed)
    if found is None:
        raise ValidationError(_l("Enter the amount in yuan, with digits: 40000 or 40000.50."))
    if len(found.group("fraction") or "") > 2:
        raise ValidationError(_l("At most two decimals: yuan and fen, like 40000.55."))
    whole = found.group("whole").replace(",", "").replace("\uff0c", "")
    fen = int(Decimal(f"{whole}.{found.group('fraction') or '0'}") * 100)
    if fen < 1:
        raise ValidationError(_l("The amount must be more than zero."))
    if fen > MAX_SAFE_INT:
        raise ValidationError(_l("The amount is too large."))
    return fen


class YuanField(StringField):
    """An amount typed in yuan; once the form validates, :attr:`fen` holds
    it in integer fen (``None`` when left empty)."""

    fen: int | None = None

    def pre_validate(self, form: BaseForm) -> None:
        self.fen = None
        typed = (self.data or "").strip()
        if typed:
            self.fen = yuan_to_fen(typed)


def _public_text(
    rule: TextRule, label: str, missing: str, description: str | None = None
) -> TextAreaField:
    """A text the log publishes in ``rule``'s field, as the log will hold it
    (:func:`server.log_texts.log_text`)."""
    return TextAreaField(
        label,
        description=description or _l("Public, at most %(n)d characters.", n=rule.max_len),
        filters=[_text],
        validators=[DataRequired(missing), log_text(rule)],
    )


class ClaimActionForm(FlaskForm):
    """A claim's one-button actions (draw, close voting, decide ineligible,
    and the first step of paying): the claim, in a hidden field, and the
    CSRF token."""

    claim = HiddenField(
        validators=[
            InputRequired(_l("The claim is missing.")),
            Regexp(_ID, message=_l("The claim id is not valid.")),
        ]
    )


class ConfirmPayForm(ClaimActionForm):
    """The second step of paying: the claim and the amount the operator was
    shown, in fen, so that a payment is made only for what was confirmed."""

    amount = HiddenField(
        validators=[
            InputRequired(_l("The amount confirmed is missing.")),
            Regexp(r"^[1-9][0-9]{0,15}$", message=_l("The amount confirmed is not valid.")),
        ]
    )


def _grades() -> list[tuple[str, str]]:
    grades = [(g.value, hospital_grade(g.value)) for g in HospitalGrade]
    return [("", str(_l("Choose the grade"))), *grades]


def _provinces() -> list[tuple[str, str]]:
    return [("", str(_l("Choose the province"))), *province_choices()]


def _with_facts(form: Form, field: Field) -> None:
    """The structured facts come whole: the grade, the province and the
    summary, or none of them."""
    given = [bool(form[name].data) for name in ("grade", "province", "summary")]
    if any(given) and not all(given):
        raise ValidationError(
            _l("Give the hospital's grade, its province and the summary, or none of them.")
        )


class NoticeForm(ClaimActionForm):
    """A claim's notice and its structured facts: what the operator says of
    the hospital and the investigation; the server works out the rest."""

    text = _public_text(
        NOTICE,
        _l("Redacted notice"),
        _l("Write the notice."),
        _l(
            "Public: age band, illness category and the aid proposed, at most %(n)d "
            "characters. Never a name, ID number, phone or diagnosis detail.",
            n=MAX_NOTICE,
        ),
    )
    amount = YuanField(
        _l("Aid proposed (yuan)"),
        description=_l(
            "In yuan, at most two decimals (40000 or 40000.50). Leave empty for the "
            "amount requested, within the plan's cap."
        ),
        filters=[_line],
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )

    grade = SelectField(_l("Hospital grade"), choices=_grades, validators=[Optional(), _with_facts])
    province = SelectField(
        _l("Hospital's province"),
        description=_l(
            "Never published as is where few claims would share it: the notice then "
            "names its region, or no place at all. The preview shows which."
        ),
        choices=_provinces,
        validators=[Optional(), _with_facts],
    )
    summary = TextAreaField(
        _l("Investigation summary"),
        description=_l(
            "Public, at most %(n)d characters: what was checked and found. Never a name, "
            "ID number, phone, hospital name or city.",
            n=NOTICE_SUMMARY.max_len,
        ),
        filters=[_text],
        validators=[Optional(), _with_facts, log_text(NOTICE_SUMMARY)],
    )


class AnswerForm(ClaimActionForm):
    objection = HiddenField(
        validators=[
            InputRequired(_l("The objection is missing.")),
            Regexp(r"^[0-9]{1,16}$", message=_l("The objection is not valid.")),
        ]
    )
    text = _public_text(ANSWER, _l("Answer"), _l("Write the answer."))


class ClosePeriodForm(FlaskForm):
    """Both steps of closing a period: the period, in a hidden field."""

    period = HiddenField(
        validators=[
            InputRequired(_l("The period is missing.")),
            Regexp(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", message=_l("The period is not a date.")),
        ]
    )


class DemoClockForm(FlaskForm):
    """The demo's clock control: how far to move the pool's time."""

    step = RadioField(
        _l("Move the pool's clock"),
        choices=[
            SelectChoice("hour", _l("One hour")),
            SelectChoice("day", _l("One day")),
            SelectChoice("deadline", _l("To the next deadline")),
        ],
        validators=[InputRequired(_l("Choose how far to move the clock."))],
    )


def _effective(form: Form, field: Field) -> None:
    try:
        parse_effective(field.data or "")
    except PoolRefusedError as e:
        raise ValidationError(f"{str(e)[:1].upper()}{str(e)[1:]}.") from e


def _rule_json(form: Form, field: Field) -> None:
    try:
        read_rule_changes(field.data or "", "rules")
    except PoolRefusedError as e:
        raise ValidationError(str(e)[:300]) from e


class RulesForm(FlaskForm):
    changes = TextAreaField(
        _l("Rules to change (JSON)"),
        description=_l(
            "The rules that change and their new values, e.g. "
            '<code>{"share.fee_rate_bp": 700}</code>; every other rule stays as it is.'
        ),
        filters=[_text],
        validators=[
            DataRequired(_l("Give the rules to change.")),
            Length(max=MAX_RULES_JSON, message=_l("At most %(n)d characters.", n=MAX_RULES_JSON)),
            _rule_json,
        ],
    )
    effective = StringField(
        _l("In force from"),
        description=_l(
            "A future date <code>YYYY-MM-DD</code> (00:00 UTC) or time "
            "<code>YYYY-MM-DDTHH:MM:SSZ</code>."
        ),
        filters=[_line],
        validators=[DataRequired(_l("Give the date the change takes effect.")), _effective],
    )
    reason = _public_text(RULES_REASON, _l("Reason"), _l("Give the reason for the change."))


class OverrideForm(FlaskForm):
    action = StringField(
        _l("Action"),
        description=_l(
            "As the rules allow, e.g. <code>claim.withdraw</code> (target: a claim id) or "
            "<code>note</code>."
        ),
        filters=[_line],
        validators=[
            DataRequired(_l("Give the action.")),
            Regexp(
                r"^[a-z][a-z0-9_.-]{0,31}$",
                message=_l("Lowercase letters, digits, '_', '.' and '-', at most 32."),
            ),
        ],
    )
    target = StringField(
        _l("Target"),
        description=_l(
            "What the override is about: a claim id, a member id, <code>rules</code> ..."
        ),
        filters=[_line],
        validators=[DataRequired(_l("Give the target.")), log_text(OVERRIDE_TARGET)],
    )
    reason = _public_text(OVERRIDE_REASON, _l("Reason"), _l("Give the reason for the override."))


class ErasureForm(FlaskForm):
    kind = RadioField(
        _l("What to erase"),
        choices=[
            SelectChoice(ErasedKind.MEMBER.value, _l("A member's name, ID number and phone")),
            SelectChoice(ErasedKind.EVIDENCE.value, _l("A claim's evidence documents")),
        ],
        validators=[InputRequired(_l("Choose what to erase."))],
    )
    subject = StringField(
        _l("Member id or claim id"),
        filters=[_line],
        validators=[
            DataRequired(_l("Give the member id or claim id.")),
            Regexp(_ID, message=_l("An id is 32 lowercase hexadecimal characters.")),
        ],
    )
    reason = StringField(
        _l("Reason"),
        description=_l(
            "Published in the log: one line of at most %(n)d characters, without the "
            "personal data being erased.",
            n=MAX_ERASURE_REASON,
        ),
        filters=[_line],
        validators=[DataRequired(_l("Give the reason for the erasure.")), log_text(ERASURE_REASON)],
    )
