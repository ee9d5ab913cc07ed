"""The web forms (Flask-WTF: every form carries and checks a CSRF token).

The rules themselves (what a username may be, how long a password must
be) live in :mod:`server.private.accounts`, shared with the command line;
the registration form runs them as its field validators, so a form shows
every broken rule at once, and the sign-in form bounds its fields' size so
that a huge one never reaches a password hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from server.private.accounts import (
    MAX_PASSWORD,
    MAX_USERNAME,
    MIN_PASSWORD,
    MIN_USERNAME,
    check_password,
    normalize_username,
)
from server.private.errors import InvalidInputError
from server.private.password_policy import MIN_DISTINCT

__all__ = ["LoginForm", "PasswordChangeForm", "RegisterForm", "ResetForm", "as_sentence"]

if TYPE_CHECKING:

    class FlaskForm(Form):
        """What the views use of Flask-WTF's form, which ships no types."""

        def is_submitted(self) -> bool: ...

        def validate_on_submit(self, extra_validators: object = None) -> bool: ...

else:
    from flask_wtf import FlaskForm


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[InputRequired(_l("Enter your username.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )


class RegisterForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[InputRequired(_l("Choose a username."))],
        description=_l(
            "%(min)d to %(max)d characters: letters a-z, digits, '_', '.' and '-'. "
            "Others see only your pseudonymous member id, never this.",
            min=MIN_USERNAME,
            max=MAX_USERNAME,
        ),
        render_kw={
            "autocomplete": "username",
            "autocapitalize": "none",
            "spellcheck": "false",
            "maxlength": MAX_USERNAME,
        },
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Choose a password."))],
        description=_l(
            "At least %(min)d characters. A passphrase of several words is good.",
            min=MIN_PASSWORD,
        ),
        render_kw={"autocomplete": "new-password", "maxlength": MAX_PASSWORD},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            InputRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    # The account rules themselves (server.private.accounts, shared with the
    # command line), so that every broken rule shows at once; the rule that
    # failed is named again here in the visitor's language.
    def validate_username(self, field: StringField) -> None:
        name = (field.data or "").lower()
        try:
            normalize_username(name)
        except InvalidInputError as e:
            if not MIN_USERNAME <= len(name) <= MAX_USERNAME:
                message = _(
                    "A username has %(min)d to %(max)d characters, this one has %(n)d.",
                    min=MIN_USERNAME,
                    max=MAX_USERNAME,
                    n=len(name),
                )
            else:
                message = _(
                    "A username may use only letters a-z, digits, '_', '.' and '-', "
                    "and must start with a letter or digit."
                )
            raise ValidationError(message) from e

    def validate_password(self, field: PasswordField) -> None:
        _check_new_password(field, (self.username.data or "").lower())


def password_refusal(e: InvalidInputError) -> str:
    """The broken password rule ``e`` names, in the visitor's language."""
    if e.code == "password.short":
        message = _("A password needs at least %(n)d characters.", n=MIN_PASSWORD)
    elif e.code == "password.long":
        message = _("A password may have at most %(n)d characters.", n=MAX_PASSWORD)
    elif e.code == "password.few_characters":
        message = _("A password needs at least %(n)d different characters.", n=MIN_DISTINCT)
    elif e.code == "password.sequence":
        message = _("A password may not be one run of consecutive characters, like abcdefghij.")
    elif e.code == "password.common":
        message = _(
            "This password is among the most common ones, which are guessed first. "
            "Choose another: a few words of your own are good."
        )
    else:
        message = _("The password may not be the username.")
    return str(message)


def _check_new_password(field: PasswordField, username: str) -> None:
    try:
        check_password(field.data or "", username)
    except InvalidInputError as e:
        raise ValidationError(password_refusal(e)) from e


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField(
            _l("New password"),
            validators=[InputRequired(_l("Choose a password."))],
            description=_l(
                "At least %(min)d characters, not a common password. "
                "A passphrase of several words is good.",
                min=MIN_PASSWORD,
            ),
            render_kw={"autocomplete": "new-password", "maxlength": MAX_PASSWORD},
        ),
        PasswordField(
            _l("Repeat the new password"),
            validators=[
                InputRequired(_l("Repeat the password.")),
                EqualTo("new", _l("The two passwords differ.")),
            ],
            render_kw={"autocomplete": "new-password"},
        ),
    )


class PasswordChangeForm(FlaskForm):
    """A signed-in account's new password; the current one is asked for,
    so a session left open is not enough to take the account."""

    current = PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Enter your current password.")), Length(max=MAX_PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )
    new, confirm = _new_password_fields()

    #: Set by the view: the rules compare the password with the username.
    username = ""

    def validate_new(self, field: PasswordField) -> None:
        _check_new_password(field, self.username)


class ResetForm(FlaskForm):
    """A new password set with the one-time code the operator gave."""

    code = StringField(
        _l("Reset code"),
        validators=[InputRequired(_l("Enter the code the operator gave you.")), Length(max=64)],
        description=_l("As the operator gave it: five groups of four letters and digits."),
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "characters",
            "spellcheck": "false",
        },
    )
    new, confirm = _new_password_fields()

    def validate_new(self, field: PasswordField) -> None:
        _check_new_password(field, "")


def as_sentence(message: str) -> str:
    """A message of the private store (a clause, "a password needs ...") as
    a sentence for a page."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
