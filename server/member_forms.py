"""The members' forms: join, leave, file a claim, object to a notice, appeal.

Each form checks what a person can correct before anything reaches the
pool: personal details by :meth:`server.private.members.MemberDetails.parse`
(the same rules the private store applies), money by :func:`parse_yuan`
(exact decimal yuan to integer fen, never a float), texts bound for the log
by :func:`server.log_texts.log_text` (line ends made plain, then the log's
own text rules), so a text the log would refuse is a field error, not a
failed append.  Checks that depend on the
pool's state (the plan's cap, a window, who may act) are the views' and the
rulebook's.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.2
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from server.forms import FlaskForm, as_sentence
from server.i18n import category
from server.log_texts import log_text
from server.notifications import MAX_EMAIL, InvalidEmailError, check_email
from server.presenters.refusals import refusal
from server.private.errors import InvalidInputError
from server.private.evidence import ALLOWED_TYPES, MAX_DOCUMENT_SIZE, MAX_DOCUMENTS, Upload
from server.private.identity import age_on
from server.private.members import MAX_NAME, MemberDetails
from server.private.submissions import TOKEN_PATTERN, new_token
from verifiable.log.texts import APPEAL_REASON, OBJECTION

#: Under this age a member's data is processed only with a guardian's consent (PIPL Art. 31).
GUARDIAN_AGE = 14

__all__ = [
    "GUARDIAN_AGE",
    "MAX_AMOUNT_FEN",
    "MAX_TEXT",
    "AppealForm",
    "ClaimForm",
    "EmailForm",
    "JoinForm",
    "LeaveForm",
    "ObjectionForm",
    "ReadForm",
    "evidence_refusal",
    "parse_yuan",
    "submission_field",
]

#: An objection's or appeal's text: the log's notice-text bound.
MAX_TEXT = OBJECTION.max_len
#: No plan covers more than ¥100 million; anything above is a typing error.
MAX_AMOUNT_FEN = 10_000_000_000
_YUAN = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")
_CLAIM_ID = Regexp(r"^[0-9a-f]{32}$", message=_l("The claim id is not valid."))


def submission_field() -> HiddenField:
    """A form's one-time submission token (:mod:`server.private.submissions`):
    a fresh one each time the form is rendered, the same one in every send
    of that page, so the pool appends what it asks for once."""
    expired = _l("This form was not sent from its page, or the page is too old: open it again.")
    return HiddenField(
        default=new_token,
        validators=[InputRequired(expired), Regexp(TOKEN_PATTERN, message=expired)],
    )


def parse_yuan(text: str) -> int:
    """An amount in yuan (``1234``, ``1,234.5``, ``1234.56``) as integer fen,
    exactly; :class:`ValueError` with a sentence for anything else."""
    cleaned = text.strip().removeprefix("¥").replace(",", "").strip()
    if cleaned.startswith("-"):
        raise ValueError(_("The amount must be more than zero."))
    if not _YUAN.fullmatch(cleaned):
        if re.fullmatch(r"[0-9]*\.[0-9]{3,}", cleaned):
            raise ValueError(_("Give the amount in yuan with at most two decimals (fen)."))
        raise ValueError(_("Give the amount in yuan as digits, for example 52000 or 52000.50."))
    fen = int(Decimal(cleaned) * 100)
    if fen <= 0:
        raise ValueError(_("The amount must be more than zero."))
    if fen > MAX_AMOUNT_FEN:
        raise ValueError(_("The amount is larger than any plan covers."))
    return fen


_DOCUMENT = r"document (?P<n>[0-9]+): "
_EVIDENCE_REFUSALS = (
    (re.compile(_DOCUMENT + r"type '(?P<kind>[^']*)' is not accepted"), "type"),
    (re.compile(_DOCUMENT + r"the file is empty"), "empty"),
    (re.compile(_DOCUMENT + r"the content is not a (?P<kind>\S+) file"), "content"),
    (re.compile(_DOCUMENT + r"the file name is longer"), "name"),
)


def evidence_refusal(message: str) -> str:
    """The private store's refusal of a document (``document 2: the file is
    empty``), in the page's language; its own sentence for any other."""
    for pattern, kind in _EVIDENCE_REFUSALS:
        found = pattern.match(message)
        if found is None:
            continue
        n = int(found.group("n"))
        if kind == "type":
            return str(
                _(
                    "Document %(n)d: the type %(kind)s is not accepted; choose a PDF, PNG or "
                    "JPEG file.",
                    n=n,
                    kind=found.group("kind"),
                )
            )
        if kind == "empty":
            return str(_("Document %(n)d: the file is empty.", n=n))
        if kind == "content":
            return str(
                _(
                    "Document %(n)d: the content is not a %(kind)s file.",
                    n=n,
                    kind=found.group("kind"),
                )
            )
        return str(_("Document %(n)d: the file name is too long; rename the file.", n=n))
    return as_sentence(message)


class JoinForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        validators=[InputRequired(_l("Enter your full name.")), Length(max=MAX_NAME)],
        description=_l("As on your ID. Kept privately: it never enters the public log."),
        render_kw={"autocomplete": "name", "maxlength": MAX_NAME},
    )
    id_number = StringField(
        _l("Resident ID number"),
        validators=[InputRequired(_l("Enter your resident ID number.")), Length(max=64)],
        description=_l(
            "The 18 characters of your resident ID card. Your age band comes from the birth "
            "date in it. Kept privately, to check a claim is yours and that each person joins "
            "once; never logged."
        ),
        render_kw={"autocomplete": "off", "maxlength": 64},
    )
    phone = StringField(
        _l("Mobile number"),
        validators=[InputRequired(_l("Enter a mobile number.")), Length(max=32)],
        description=_l("Kept privately, to reach you about a claim; never logged."),
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 32},
    )
    guardian = BooleanField(
        _l(
            "I am the parent or legal guardian of this child, and I consent to the pool "
            "processing the child's name, ID number and phone, and later the medical "
            "information of any claim, for the child's membership."
        ),
        description=_l(
            "Needed when the member is under 14 (PIPL Art. 31): the guardian joins for the child."
        ),
    )

    def __init__(self, today: date) -> None:
        super().__init__()
        self._today = today

    def under_14(self) -> bool:
        """Whether the ID number's birth date makes the member younger than 14
        today (after validation)."""
        born = self.details().born
        return born is not None and age_on(born, self._today) < GUARDIAN_AGE

    def details(self) -> MemberDetails:
        """The details as the private store takes them (after validation)."""
        return MemberDetails.parse(
            self.name.data or "", self.id_number.data or "", self.phone.data or "", self._today
        )

    def validate(self, extra_validators: object = None) -> bool:
        ok = bool(super().validate(extra_validators))  # type: ignore[arg-type]
        if ok:
            try:
                self.details()
            except InvalidInputError as e:
                field = self[e.field]
                field.errors = [*field.errors, refusal(e)]
                return False
            if self.under_14() and not self.guardian.data:
                self.guardian.errors = [
                    *self.guardian.errors,
                    _(
                        "By the birth date in this ID number the member is under 14: a parent "
                        "or guardian joins for the child and ticks this box."
                    ),
                ]
                return False
        return ok


class LeaveForm(FlaskForm):
    confirm = BooleanField(
        _l(
            "I understand that leaving is final: my membership and cover end now, and this "
            "pseudonymous id cannot rejoin."
        ),
        validators=[DataRequired(_l("Tick the box to confirm that you want to leave."))],
    )


class ClaimForm(FlaskForm):
    category = SelectField(
        _l("Illness category"),
        validators=[InputRequired(_l("Choose the illness category."))],
        description=_l("The categories the plan covers."),
    )
    amount = StringField(
        _l("Amount requested (yuan)"),
        validators=[InputRequired(_l("Enter the amount you ask for, in yuan."))],
        description=_l(
            "In yuan, with at most two decimals, for example 52000 or 52000.50. "
            "Up to the plan's cover for your age band."
        ),
        render_kw={"inputmode": "decimal", "maxlength": 20},
    )
    diagnosed = DateField(
        _l("Date of diagnosis"),
        validators=[InputRequired(_l("Enter the date of diagnosis."))],
        description=_l("As on the diagnosis document (YYYY-MM-DD)."),
    )
    evidence = MultipleFileField(
        _l("Evidence documents"),
        description=_l(
            "PDF, PNG or JPEG; up to %(count)d files of at most %(size)d MiB each. They stay "
            "private: the public log holds only salted commitments to them.",
            count=MAX_DOCUMENTS,
            size=MAX_DOCUMENT_SIZE // (1024 * 1024),
        ),
        render_kw={"accept": ",".join(sorted(ALLOWED_TYPES))},
    )
    medical_consent = BooleanField(
        _l(
            "I consent, separately, to the operator processing the medical information in "
            "these documents to review my claim, and to a panel of members seeing the "
            "redacted copies the operator makes of them."
        ),
        validators=[
            DataRequired(
                _l(
                    "Tick the box to consent to the processing of your medical information: "
                    "a claim cannot be reviewed without it."
                )
            )
        ],
        description=_l(
            "Medical information is sensitive personal information (PIPL Art. 28-29). "
            "Only the operator sees the documents; the panel sees only redacted copies."
        ),
    )
    submission = submission_field()

    def __init__(self, categories: tuple[str, ...], today: date) -> None:
        super().__init__()
        self.category.choices = [SelectChoice(c, category(c)) for c in categories]
        self._today = today
        self.fen = 0

    def uploads(self) -> list[Upload] | None:
        """The documents, read; ``None`` (with the field's error) for one over
        the size limit."""
        uploads = []
        for n, upload in enumerate(self.evidence.data, start=1):
            content = upload.stream.read(MAX_DOCUMENT_SIZE + 1)
            if len(content) > MAX_DOCUMENT_SIZE:
                self.evidence.errors = [
                    *self.evidence.errors,
                    _(
                        "Document %(n)d is larger than %(size)d MiB.",
                        n=n,
                        size=MAX_DOCUMENT_SIZE // (1024 * 1024),
                    ),
                ]
                return None
            uploads.append(Upload(content, upload.mimetype or "", upload.filename or None))
        return uploads

    def validate_amount(self, field: StringField) -> None:
        try:
            self.fen = parse_yuan(field.data or "")
        except ValueError as e:
            raise ValidationError(str(e)) from e

    def validate_diagnosed(self, field: DateField) -> None:
        if field.data is not None and field.data > self._today:
            raise ValidationError(_("The date of diagnosis cannot be in the future."))

    def validate_evidence(self, field: MultipleFileField) -> None:
        files = [f for f in field.data or [] if getattr(f, "filename", None)]
        if not files:
            raise ValidationError(_("Attach at least one evidence document."))
        if len(files) > MAX_DOCUMENTS:
            raise ValidationError(_("Attach at most %(count)d documents.", count=MAX_DOCUMENTS))
        field.data = files


class ObjectionForm(FlaskForm):
    claim = HiddenField(validators=[InputRequired(_l("The claim is missing.")), _CLAIM_ID])
    submission = submission_field()
    text = TextAreaField(
        _l("Your objection"),
        validators=[InputRequired(_l("Say what you object to.")), log_text(OBJECTION)],
        description=_l(
            "At most %(count)d characters. It is published in the log with your pseudonymous "
            "id, and the operator answers it before the panel is drawn. Do not write anyone's "
            "name or other personal details.",
            count=MAX_TEXT,
        ),
    )


class AppealForm(FlaskForm):
    claim = HiddenField(validators=[InputRequired(_l("The claim is missing.")), _CLAIM_ID])
    reason = TextAreaField(
        _l("Why the decision is wrong"),
        validators=[InputRequired(_l("Give the reason for your appeal.")), log_text(APPEAL_REASON)],
        description=_l(
            "At most %(count)d characters. It is published in the log; do not write your "
            "name or other personal details.",
            count=MAX_TEXT,
        ),
    )


class EmailForm(FlaskForm):
    email = StringField(
        _l("E-mail address for notices"),
        validators=[Length(max=MAX_EMAIL + 10)],
        description=_l(
            "Optional. Kept privately, never on the log. The e-mails carry only claim ids, "
            "dates, amounts and links, never your name or documents. Leave it empty to "
            "receive no e-mail."
        ),
        render_kw={"autocomplete": "email", "inputmode": "email", "maxlength": MAX_EMAIL},
    )

    def validate_email(self, field: StringField) -> None:
        text = (field.data or "").strip()
        if not text:
            field.data = ""
            return
        try:
            field.data = check_email(text)
        except InvalidEmailError as e:
            if len(text) > MAX_EMAIL:
                message = _("An e-mail address has at most %(count)d characters.", count=MAX_EMAIL)
            else:
                message = _("This is not an e-mail address: write it like name@example.com.")
            raise ValidationError(message) from e


class ReadForm(FlaskForm):
    """Mark every notice up to an entry as read (the newest the page showed,
    so a notice that arrives meanwhile stays unread)."""

    through = HiddenField(
        validators=[
            InputRequired(_l("The form is incomplete.")),
            Regexp(r"^[0-9]{1,19}$", message=_l("The form is incomplete.")),
        ]
    )
