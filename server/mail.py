"""Members' notices by e-mail: ``mutualog-server notify``.

The command mails each member who gave an address (:mod:`server.notifications`)
the notices brought by entries since the last mail, one message per member
and run, in the member's language, then remembers how far it mailed, so a
notice is sent once (cron it: every few minutes is fine).  A message whose
sending fails is not marked sent and is tried again on the next run.

A message carries only what the public log already shows — pseudonymous
claim ids, dates, amounts — and links to the pages: never a name, an ID
number, a phone, a document or the address of anyone else.

SMTP settings (environment or the app's config): ``MUTUALOG_SMTP_HOST``
(mail is off when unset), ``MUTUALOG_SMTP_PORT`` (default 25, or 587 with
STARTTLS), ``MUTUALOG_SMTP_FROM`` (required with a host),
``MUTUALOG_SMTP_STARTTLS`` (``1`` to upgrade the connection),
``MUTUALOG_SMTP_USER`` and ``MUTUALOG_SMTP_PASSWORD`` (optional login).
Links start with ``MUTUALOG_PUBLIC_URL`` (or ``--url``).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import make_msgid

import click
from flask import Flask, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from server.app import create_app
from server.config import ConfigError
from server.context import EXTENSION, LogContext
from server.log_index import stored_index
from server.notifications import (
    Notice,
    NoticeKind,
    Recipient,
    mark_mailed,
    notices_by_member,
    recipients,
)
from server.pool_app import POOL_EXTENSION, PoolHolder
from verifiable.pool.rules import moment

__all__ = ["MailSettings", "compose", "mail_settings", "notify", "send_notices"]


@dataclass(frozen=True)
class MailSettings:
    """Where and how to send mail."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    user: str | None = None
    password: str | None = None


def _value(config: Mapping[str, object], name: str) -> str | None:
    value = config.get(name) or os.environ.get(name)
    return str(value) if value else None


def mail_settings(config: Mapping[str, object]) -> MailSettings | None:
    """The SMTP settings in ``config`` or the environment; ``None`` when
    no host is set (mail is off)."""
    host = _value(config, "MUTUALOG_SMTP_HOST")
    if host is None:
        return None
    sender = _value(config, "MUTUALOG_SMTP_FROM")
    if sender is None:
        raise ConfigError("MUTUALOG_SMTP_FROM: the sender's address is needed with a host")
    starttls = _value(config, "MUTUALOG_SMTP_STARTTLS") in {"1", "true", "yes"}
    port_text = _value(config, "MUTUALOG_SMTP_PORT") or ("587" if starttls else "25")
    if not port_text.isdecimal() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"MUTUALOG_SMTP_PORT: expected a port number, got {port_text!r}")
    return MailSettings(
        host,
        int(port_text),
        sender,
        starttls,
        _value(config, "MUTUALOG_SMTP_USER"),
        _value(config, "MUTUALOG_SMTP_PASSWORD"),
    )


def _subject(notices: Sequence[Notice]) -> str:
    summons = [n for n in notices if n.kind is NoticeKind.SUMMONS]
    if summons:
        return str(_("You are drawn as a juror: vote before the deadline"))
    return str(
        ngettext(
            "%(num)d new notice from the pool", "%(num)d new notices from the pool", len(notices)
        )
    )


def compose(
    settings: MailSettings,
    recipient: Recipient,
    notices: Sequence[Notice],
    deducted: Mapping[date, date],
    url: str,
) -> EmailMessage:
    """The message of ``notices`` for ``recipient``, in their language;
    call inside an application context."""
    with force_locale(recipient.locale):
        body = render_template(
            "member/notices_mail.txt", notices=notices, deducted=deducted, url=url.rstrip("/")
        )
        subject = _subject(notices)
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient.email
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message["Content-Language"] = recipient.locale.replace("_", "-")
    message.set_content(body)
    return message


def _send(settings: MailSettings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user is not None:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(message)


def send_notices(app: Flask, settings: MailSettings, url: str, now: datetime) -> tuple[int, int]:
    """Mail every member their notices since the last mail; returns the
    messages sent and those that failed (tried again next time)."""
    context: LogContext = app.extensions[EXTENSION]
    holder: PoolHolder = app.extensions[POOL_EXTENSION]
    engine = context.engine
    sent = failed = 0
    with app.app_context():
        wanted = recipients(engine)
        held = stored_index(engine)
        with held.at() as index:
            members = {r.member_id for r in wanted}
            found = notices_by_member(index, members)
        state = holder.service().state()
        for recipient in wanted:
            pending = [
                n for n in found.get(recipient.member_id, []) if n.seq > recipient.mailed_through
            ]
            if not pending:
                continue
            deducted = {}
            for n in pending:
                rules = state.rules_at(moment(n.period)) if n.period else None
                if n.kind is NoticeKind.DEDUCTION and n.period and rules is not None:
                    deducted[n.period] = rules.deduction_date(n.period)
            message = compose(settings, recipient, pending, deducted, url)
            try:
                _send(settings, message)
            except (OSError, smtplib.SMTPException) as e:
                failed += 1
                click.echo(f"notify: account {recipient.account_id}: not sent: {e}", err=True)
                continue
            mark_mailed(engine, recipient.account_id, max(n.seq for n in pending), now)
            sent += 1
    return sent, failed


@click.command()
@click.option(
    "--url",
    envvar="MUTUALOG_PUBLIC_URL",
    required=True,
    help="The server's address for links in the mails. Default: $MUTUALOG_PUBLIC_URL.",
)
@click.pass_context
def notify(ctx: click.Context, url: str) -> None:
    """Mail members the notices that wait for them (each notice once)."""
    app = create_app(ctx.obj or {})
    ctx.call_on_close(app.extensions[EXTENSION].engine.dispose)
    settings = mail_settings(app.config)
    if settings is None:
        raise ConfigError("mail is off: set MUTUALOG_SMTP_HOST (and MUTUALOG_SMTP_FROM)")
    sent, failed = send_notices(app, settings, url, datetime.now(UTC))
    click.echo(f"notify: {sent} sent, {failed} failed")
    if failed:
        ctx.exit(1)
