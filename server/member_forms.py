"""The members' forms: join, leave, file a claim, object to a notice, appeal.

Each form checks what a person can correct before anything reaches the
pool: personal details by :meth:`server.private.members.MemberDetails.parse`
(the same rules the private store applies), money by :func:`parse_yuan`
(exact decimal yuan to integer fen, never a float), texts by the log's own
text rules (:func:`verifiable.log.fields.read_text`), so a text the log would
refuse is a field error, not a failed append.  Checks that depend on the
pool's state (the plan's cap, a window, who may act) are the views' and the
rulebook's.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.2
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from server.forms import FlaskForm, as_sentence
from server.private.errors import InvalidInputError
from server.private.evidence import ALLOWED_TYPES, MAX_DOCUMENT_SIZE, MAX_DOCUMENTS
from server.private.members import MAX_NAME, MemberDetails
from verifiable.errors import MalformedError
from verifiable.log.bodies import AgeBand
from verifiable.log.fields import read_text

__all__ = [
    "MAX_AMOUNT_FEN",
    "MAX_TEXT",
    "AppealForm",
    "ClaimForm",
    "JoinForm",
    "LeaveForm",
    "ObjectionForm",
    "parse_yuan",
]

#: An objection's or appeal's text: the log's notice-text bound.
MAX_TEXT = 2000
#: No plan covers more than ¥100 million; anything above is a typing error.
MAX_AMOUNT_FEN = 10_000_000_000
_YUAN = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")
_CLAIM_ID = Regexp(r"^[0-9a-f]{32}$", message="The claim id is not valid.")


def parse_yuan(text: str) -> int:
    """An amount in yuan (``1234``, ``1,234.5``, ``1234.56``) as integer fen,
    exactly; :class:`ValueError` with a sentence for anything else."""
    cleaned = text.strip().removeprefix("¥").replace(",", "").strip()
    if cleaned.startswith("-"):
        raise ValueError("The amount must be more than zero.")
    if not _YUAN.fullmatch(cleaned):
        if re.fullmatch(r"[0-9]*\.[0-9]{3,}", cleaned):
            raise ValueError("Give the amount in yuan with at most two decimals (fen).")
        raise ValueError("Give the amount in yuan as digits, for example 52000 or 52000.50.")
    fen = int(Decimal(cleaned) * 100)
    if fen <= 0:
        raise ValueError("The amount must be more than zero.")
    if fen > MAX_AMOUNT_FEN:
        raise ValueError("The amount is larger than any plan covers.")
    return fen


def _log_text(field: StringField | TextAreaField, where: str) -> str:
    """The field's text with browser line endings made plain, checked
    against the log's text rules."""
    text = (field.data or "").replace("\r\n", "\n").strip()
    try:
        read_text(text, where, max_len=MAX_TEXT)
    except MalformedError as e:
        detail = str(e).split(": ", 1)[-1]
        raise ValidationError(as_sentence(detail)) from e
    field.data = text
    return text


class JoinForm(FlaskForm):
    name = StringField(
        "Full name",
        validators=[InputRequired("Enter your full name."), Length(max=MAX_NAME)],
        description="As on your ID. Kept privately: it never enters the public log.",
        render_kw={"autocomplete": "name", "maxlength": MAX_NAME},
    )
    id_number = StringField(
        "ID number",
        validators=[InputRequired("Enter your ID number."), Length(max=64)],
        description="Kept privately, to check a claim is yours; never logged.",
        render_kw={"autocomplete": "off", "maxlength": 64},
    )
    phone = StringField(
        "Phone",
        validators=[InputRequired("Enter a phone number."), Length(max=32)],
        description="Kept privately, to reach you about a claim; never logged.",
        render_kw={"autocomplete": "tel", "maxlength": 32},
    )
    age_band = RadioField(
        "Your age",
        choices=[
            SelectChoice(AgeBand.UNDER_18.value, "30 days to 17 years"),
            SelectChoice(AgeBand.FROM_18_TO_39.value, "18 to 39 years"),
            SelectChoice(AgeBand.FROM_40_TO_59.value, "40 to 59 years"),
        ],
        validators=[InputRequired("Choose your age band.")],
        description="Only the band is logged, with your pseudonymous id.",
    )

    def details(self) -> MemberDetails:
        """The details as the private store takes them (after validation)."""
        return MemberDetails.parse(
            self.name.data or "", self.id_number.data or "", self.phone.data or ""
        )

    def validate(self, extra_validators: object = None) -> bool:
        ok = bool(super().validate(extra_validators))  # type: ignore[arg-type]
        if ok:
            try:
                self.details()
            except InvalidInputError as e:
                field = self[e.field]
                field.errors = [*field.errors, as_sentence(e.message)]
                return False
        return ok


class LeaveForm(FlaskForm):
    confirm = BooleanField(
        "I understand that leaving is final: my membership and cover end now, and this "
        "pseudonymous id cannot rejoin.",
        validators=[DataRequired("Tick the box to confirm that you want to leave.")],
    )


class ClaimForm(FlaskForm):
    category = SelectField(
        "Illness category",
        validators=[InputRequired("Choose the illness category.")],
        description="The categories the plan covers.",
    )
    amount = StringField(
        "Amount requested (yuan)",
        validators=[InputRequired("Enter the amount you ask for, in yuan.")],
        description="In yuan, with at most two decimals, for example 52000 or 52000.50. "
        "Up to the plan's cover for your age band.",
        render_kw={"inputmode": "decimal", "maxlength": 20},
    )
    diagnosed = DateField(
        "Date of diagnosis",
        validators=[InputRequired("Enter the date of diagnosis.")],
        description="As on the diagnosis document (YYYY-MM-DD).",
    )
    evidence = MultipleFileField(
        "Evidence documents",
        description=f"PDF, PNG or JPEG; up to {MAX_DOCUMENTS} files of at most "
        f"{MAX_DOCUMENT_SIZE // (1024 * 1024)} MiB each. They stay private: the public log "
        "holds only salted commitments to them.",
        render_kw={"accept": ",".join(sorted(ALLOWED_TYPES))},
    )

    def __init__(self, categories: tuple[str, ...], today: date) -> None:
        super().__init__()
        self.category.choices = [SelectChoice(c, c.replace("_", " ")) for c in categories]
        self._today = today
        self.fen = 0

    def validate_amount(self, field: StringField) -> None:
        try:
            self.fen = parse_yuan(field.data or "")
        except ValueError as e:
            raise ValidationError(str(e)) from e

    def validate_diagnosed(self, field: DateField) -> None:
        if field.data is not None and field.data > self._today:
            raise ValidationError("The date of diagnosis cannot be in the future.")

    def validate_evidence(self, field: MultipleFileField) -> None:
        files = [f for f in field.data or [] if getattr(f, "filename", None)]
        if not files:
            raise ValidationError("Attach at least one evidence document.")
        if len(files) > MAX_DOCUMENTS:
            raise ValidationError(f"Attach at most {MAX_DOCUMENTS} documents.")
        field.data = files


class ObjectionForm(FlaskForm):
    claim = HiddenField(validators=[InputRequired("The claim is missing."), _CLAIM_ID])
    text = TextAreaField(
        "Your objection",
        validators=[InputRequired("Say what you object to.")],
        description=f"At most {MAX_TEXT} characters. It is published in the log with your "
        "pseudonymous id, and the operator answers it before the panel is drawn. Do not "
        "write anyone's name or other personal details.",
    )

    def validate_text(self, field: TextAreaField) -> None:
        _log_text(field, "objection")


class AppealForm(FlaskForm):
    claim = HiddenField(validators=[InputRequired("The claim is missing."), _CLAIM_ID])
    reason = TextAreaField(
        "Why the decision is wrong",
        validators=[InputRequired("Give the reason for your appeal.")],
        description=f"At most {MAX_TEXT} characters. It is published in the log; do not "
        "write your name or other personal details.",
    )

    def validate_reason(self, field: TextAreaField) -> None:
        _log_text(field, "appeal")
