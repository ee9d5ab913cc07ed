"""The web forms (Flask-WTF: every form carries and checks a CSRF token).

The rules themselves (what a username may be, how long a password must
be) live in :mod:`server.private.accounts`, shared with the command line;
the registration form runs them as its field validators, so a form shows
every broken rule at once, and the sign-in form bounds its fields' size so
that a huge one never reaches a password hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

__all__ = ["LoginForm", "RegisterForm", "as_sentence"]

if TYPE_CHECKING:

    class FlaskForm(Form):
        """What the views use of Flask-WTF's form, which ships no types."""

        def is_submitted(self) -> bool: ...

        def validate_on_submit(self, extra_validators: object = None) -> bool: ...

else:
    from flask_wtf import FlaskForm


class LoginForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[InputRequired("Enter your username."), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password."), Length(max=MAX_PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )


class RegisterForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[InputRequired("Choose a username.")],
        description=(
            f"{MIN_USERNAME} to {MAX_USERNAME} characters: letters a-z, digits, "
            "'_', '.' and '-'. Others see only your pseudonymous member id, never this."
        ),
        render_kw={
            "autocomplete": "username",
            "autocapitalize": "none",
            "spellcheck": "false",
            "maxlength": MAX_USERNAME,
        },
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Choose a password.")],
        description=f"At least {MIN_PASSWORD} characters. A passphrase of several words is good.",
        render_kw={"autocomplete": "new-password", "maxlength": MAX_PASSWORD},
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            InputRequired("Repeat the password."),
            EqualTo("password", "The two passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    # The account rules themselves, so that every broken rule shows at once.
    def validate_username(self, field: StringField) -> None:
        try:
            normalize_username(field.data or "")
        except InvalidInputError as e:
            raise ValidationError(as_sentence(e.message)) from e

    def validate_password(self, field: PasswordField) -> None:
        try:
            check_password(field.data or "", (self.username.data or "").lower())
        except InvalidInputError as e:
            raise ValidationError(as_sentence(e.message)) from e


def as_sentence(message: str) -> str:
    """A message of the private store (a clause, "a password needs ...") as
    a sentence for a page."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
