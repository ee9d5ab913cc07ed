"""The juror's voting forms, and the seal on the confirm step.

Voting takes two posts.  The first (:class:`VoteForm`) carries the choice
and the reason; the server checks that the juror may vote and shows the
choice back.  The second (:class:`CastForm`) repeats the vote in hidden
fields with a token signed by the application's secret key over
``(claim, round, juror, choice, reason)``, so what is cast is exactly what
the juror was shown: a hidden field changed between the two steps fails the
token and nothing is cast.  The reason passes the log's text rules at the
first step (:func:`server.log_texts.log_text`), and again, the same way, at
the second; the second also carries a one-time submission token, so a vote
cast twice is sealed once.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import HiddenField, IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.2
from wtforms.validators import InputRequired, NumberRange, Regexp

from server.forms import FlaskForm
from server.log_texts import log_text
from server.member_forms import submission_field
from server.views.params import ROUND
from verifiable.log.bodies import Choice
from verifiable.log.texts import VOTE_REASON

__all__ = ["MAX_REASON", "CastForm", "VoteForm", "seal_vote_form", "vote_form_matches"]

#: A juror's reason: short, as Kleros asks (the log's vote reason allows more).
MAX_REASON = VOTE_REASON.max_len
_SALT = "mutualog/vote-confirm/v1"
_ID = Regexp(r"^[0-9a-f]{32}$", message=_l("The claim id is not valid."))


class VoteForm(FlaskForm):
    claim = HiddenField(validators=[InputRequired(_l("The claim is missing.")), _ID])
    round = IntegerField(
        validators=[
            InputRequired(_l("The round is missing.")),
            NumberRange(ROUND.minimum, ROUND.maximum, message=_l("The round is not valid.")),
        ]
    )
    choice = RadioField(
        _l("Your vote"),
        choices=[
            SelectChoice(Choice.APPROVE.value, _l("Approve the claim")),
            SelectChoice(Choice.REJECT.value, _l("Reject the claim")),
        ],
        validators=[InputRequired(_l("Choose approve or reject."))],
    )
    reason = TextAreaField(
        _l("Your reason"),
        description=_l(
            "A sentence or two, at most %(n)d characters. It is published with your vote "
            "when voting closes.",
            n=MAX_REASON,
        ),
        validators=[
            InputRequired(_l("Give a short reason for your vote.")),
            log_text(VOTE_REASON),
        ],
    )


class CastForm(VoteForm):
    token = HiddenField(validators=[InputRequired(_l("The confirmation is missing."))])
    # Drawn when the confirm step is rendered: casting twice seals once.
    submission = submission_field()


def _fields(claim: str, round: int, juror: str, choice: str, reason: str) -> list[object]:
    return [claim, round, juror, choice, reason]


def seal_vote_form(
    secret: str | bytes, claim: str, round: int, juror: str, choice: str, reason: str
) -> str:
    """The token of the confirm step for this vote."""
    return URLSafeSerializer(secret, salt=_SALT).dumps(_fields(claim, round, juror, choice, reason))


def vote_form_matches(
    secret: str | bytes, token: str, claim: str, round: int, juror: str, choice: str, reason: str
) -> bool:
    """Whether ``token`` was issued for exactly this vote."""
    try:
        signed = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        return False
    return bool(signed == _fields(claim, round, juror, choice, reason))
