"""The operator's forms (Flask-WTF: every form carries and checks a CSRF token).

Each form checks what it can alone — sizes, amounts, dates, the JSON of a
rule change — so a bad value is shown next to its field and nothing reaches
the pool.  What depends on the pool's state (the claim is at the right
stage, the window is over, the amount is within the cap) is the pool
service's to refuse, for the web pages and the ``mutualog-server pool``
commands alike.
"""

from __future__ import annotations

from wtforms import (
    Field,
    Form,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.2
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from server.forms import FlaskForm
from server.pool_service import MAX_ERASURE_REASON, PoolRefusedError
from server.rule_text import parse_effective, read_rule_changes
from verifiable.log.bodies import ErasedKind
from verifiable.log.fields import MAX_SAFE_INT

__all__ = [
    "MAX_NOTICE",
    "MAX_RULES_JSON",
    "AnswerForm",
    "ClaimActionForm",
    "ClosePeriodForm",
    "ErasureForm",
    "NoticeForm",
    "OverrideForm",
    "RulesForm",
]

#: A notice, an answer, a rule change's or an override's reason (the log's bound).
MAX_NOTICE = 2000
#: A rule change's JSON; the whole rulebook is a few hundred bytes.
MAX_RULES_JSON = 20_000
_ID = r"^[0-9a-f]{32}$"


def _text(value: str | None) -> str | None:
    # Browsers send a textarea's line breaks as CR LF; the log allows LF only.
    if value is None:
        return None
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _line(value: str | None) -> str | None:
    return None if value is None else value.strip()


def _public_text(label: str, missing: str, description: str | None = None) -> TextAreaField:
    """A text the log publishes: line breaks as LF, at most :data:`MAX_NOTICE`
    characters."""
    return TextAreaField(
        label,
        description=description or f"Public, at most {MAX_NOTICE} characters.",
        filters=[_text],
        validators=[
            DataRequired(missing),
            Length(max=MAX_NOTICE, message=f"At most {MAX_NOTICE} characters."),
        ],
    )


class ClaimActionForm(FlaskForm):
    """A claim's one-button actions (draw, close voting, pay, decide
    ineligible): the claim, in a hidden field, and the CSRF token."""

    claim = HiddenField(
        validators=[
            InputRequired("The claim is missing."),
            Regexp(_ID, message="The claim id is not valid."),
        ]
    )


class NoticeForm(ClaimActionForm):
    text = _public_text(
        "Redacted notice",
        "Write the notice.",
        f"Public: age band, illness category and the aid proposed, at most "
        f"{MAX_NOTICE} characters. Never a name, ID number, phone or diagnosis detail.",
    )
    amount = IntegerField(
        "Aid proposed (fen)",
        description="Leave empty for the amount requested, within the plan's cap.",
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_SAFE_INT, message="A whole number of fen, at least 1."),
        ],
    )


class AnswerForm(ClaimActionForm):
    objection = HiddenField(
        validators=[
            InputRequired("The objection is missing."),
            Regexp(r"^[0-9]{1,16}$", message="The objection is not valid."),
        ]
    )
    text = _public_text("Answer", "Write the answer.")


class ClosePeriodForm(FlaskForm):
    period = HiddenField(
        validators=[
            InputRequired("The period is missing."),
            Regexp(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", message="The period is not a date."),
        ]
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
        "Rules to change (JSON)",
        description='The rules that change and their new values, e.g. {"share.fee_rate_bp": '
        "700}; every other rule stays as it is.",
        filters=[_text],
        validators=[
            DataRequired("Give the rules to change."),
            Length(max=MAX_RULES_JSON, message=f"At most {MAX_RULES_JSON} characters."),
            _rule_json,
        ],
    )
    effective = StringField(
        "In force from",
        description="A future date YYYY-MM-DD (00:00 UTC) or time YYYY-MM-DDTHH:MM:SSZ.",
        filters=[_line],
        validators=[DataRequired("Give the date the change takes effect."), _effective],
    )
    reason = _public_text("Reason", "Give the reason for the change.")


class OverrideForm(FlaskForm):
    action = StringField(
        "Action",
        description="As the rules allow, e.g. claim.withdraw (target: a claim id) or note.",
        filters=[_line],
        validators=[
            DataRequired("Give the action."),
            Regexp(
                r"^[a-z][a-z0-9_.-]{0,31}$",
                message="Lowercase letters, digits, '_', '.' and '-', at most 32.",
            ),
        ],
    )
    target = StringField(
        "Target",
        description="What the override is about: a claim id, a member id, 'rules' ...",
        filters=[_line],
        validators=[
            DataRequired("Give the target."),
            Length(max=200, message="At most 200 characters."),
        ],
    )
    reason = _public_text("Reason", "Give the reason for the override.")


class ErasureForm(FlaskForm):
    kind = RadioField(
        "What to erase",
        choices=[
            SelectChoice(ErasedKind.MEMBER.value, "A member's name, ID number and phone"),
            SelectChoice(ErasedKind.EVIDENCE.value, "A claim's evidence documents"),
        ],
        validators=[InputRequired("Choose what to erase.")],
    )
    subject = StringField(
        "Member id or claim id",
        filters=[_line],
        validators=[
            DataRequired("Give the member id or claim id."),
            Regexp(_ID, message="An id is 32 lowercase hexadecimal characters."),
        ],
    )
    reason = StringField(
        "Reason",
        description=f"Published in the log: one line of at most {MAX_ERASURE_REASON} "
        "characters, without the personal data being erased.",
        filters=[_line],
        validators=[
            DataRequired("Give the reason for the erasure."),
            Length(max=MAX_ERASURE_REASON, message=f"At most {MAX_ERASURE_REASON} characters."),
        ],
    )
