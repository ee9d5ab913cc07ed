"""Blueprint ``public``: the pool's public pages, for anyone, signed in or not.

* ``/pool`` — the overview: the latest share per member first, charts of
  the shares, the members and the claims' outcomes, then members, claims by
  stage and outcome, aid paid, the money totals and the periods' figures;
* ``/pool/claims`` — the claims, a page at a time; ``/pool/claims/<id>`` —
  one claim's public notice, objections and answers, panels, tallies,
  decision and payout, with a link to object while members may;
* ``/pool/rules`` — the rulebook in force in plain words, its log entry and
  its history of changes; ``/pool/faq`` — what the log shows, what stays
  private, how to check;
* ``/log`` — the latest signed checkpoint, the log's verifier key and the
  verifier page's published hash (with a warning when the page served is
  not the published one);
* ``/verify`` — how members, jurors and auditors check all this, with the
  commands filled in for this server (:mod:`server.presenters.commands`).

Every figure comes from :mod:`server.pool_figures` (the rulebook's state
and the index of the log), each with the ``seq`` of its entry linked to the
entry and its inclusion proof.  Nothing private is ever shown: the claimant
is not named, not even by pseudonymous id.  Errors are HTML pages (raised
as :class:`server.errors.ApiError`, which the blueprint renders as a page
whatever the client accepts).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from server.context import current_log
from server.errors import BadParameterError, NotFoundError
from server.i18n import locale_code
from server.pool_app import current_pool
from server.pool_figures import PublicFigures, current_figures
from server.presenters.claim import objection_texts
from server.presenters.commands import verify_commands
from server.presenters.public import (
    CHART_PERIODS,
    claim_clock,
    latest_share,
    percent,
    pool_charts,
    rule_words,
    rules_page,
    words,
)
from server.presenters.trust import trust_publication
from server.verifier_publish import page_status
from server.views.pages import entry_body
from server.views.params import parse_size, query_args
from server.web_errors import add_html_errors
from server.witnessing.store import cosigned_checkpoint, served_checkpoint, witness_keys
from server.witnessing.views import trusted_witnesses
from verifiable.errors import MalformedError
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.fields import read_id
from verifiable.log.note import Note

__all__ = ["PAGE_SIZE", "public"]

public = Blueprint("public", __name__)
add_html_errors(public)

#: Claims on one page of ``/pool/claims``.
PAGE_SIZE = 50


#: How many rendered page bodies an application keeps (a few log sizes in
#: both languages): the log only grows, so an older size is not asked again.
_KEPT = 8
_CACHE = "mutualog.public_pages"


def _cached(key: tuple[object, ...], build: Callable[[], str]) -> Markup:
    """The part of a page that is the same for every visitor at one log size
    and in one language, built once (``build``) and then kept: ``/pool``'s
    figures and charts cost far more to write out than to read, and a pool of
    a million members is asked for them often.  Nothing private and nothing
    per visitor (who is signed in, a form's token) is in it."""
    kept: dict[tuple[object, ...], Markup] = current_app.extensions.setdefault(_CACHE, {})
    body = kept.get(key)
    if body is None:
        body = Markup(build())
        if len(kept) >= _KEPT:
            kept.clear()
        kept[key] = body
    return body


def _overview_body(figures: PublicFigures) -> str:
    periods = figures.periods()
    overview = figures.overview()
    return render_template(
        "public/_overview_body.html",
        overview=overview,
        share=latest_share(periods, figures.state),
        charts=pool_charts(periods, overview),
        periods=periods[-CHART_PERIODS:][::-1],
        periods_left_out=max(0, len(periods) - CHART_PERIODS),
        size=figures.size,
    )


@public.get("/pool")
def overview() -> str:
    query_args(())
    figures = current_figures()
    body = _cached(("pool", figures.size, locale_code()), lambda: _overview_body(figures))
    return render_template("public/overview.html", body=body)


@public.get("/pool/claims")
def claims() -> str:
    query = query_args(("page",))
    page = parse_size("page", query.get("page", "1"))
    if page == 0:
        raise BadParameterError(_("page: pages are numbered from 1"))
    figures = current_figures()
    total = figures.claim_count()
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise NotFoundError(
            _(
                "There is no page %(page)s: the %(total)s claims fill %(pages)s pages.",
                page=page,
                total=total,
                pages=pages,
            )
        )
    key = ("claims", figures.size, page, locale_code())
    body = _cached(key, lambda: _claims_body(figures, page, pages, total))
    return render_template("public/claims.html", body=body)


def _claims_body(figures: PublicFigures, page: int, pages: int, total: int) -> str:
    shown = figures.claims((page - 1) * PAGE_SIZE, PAGE_SIZE)
    return render_template(
        "public/_claims_body.html",
        claims=shown,
        filed=figures.entry_times(c.record.filed_seq for c in shown),
        page=page,
        pages=pages,
        total=total,
        first=(page - 1) * PAGE_SIZE + 1,
        size=figures.size,
    )


@public.get("/pool/claims/<claim_id>")
def claim(claim_id: str) -> str:
    query_args(())
    try:
        read_id(claim_id, "claim id")
    except MalformedError as e:
        raise NotFoundError(
            _("There is no such claim: a claim id is 32 lowercase hex digits.")
        ) from e
    figures = current_figures()
    found = figures.claim(claim_id)
    if found is None:
        raise NotFoundError(_("The log has no claim %(id)s.", id=claim_id))
    view, record = found.view, found.record
    filed = figures.entry_times([record.filed_seq])[record.filed_seq]
    answers = [entry_body(seq) for seq in record.answers]
    return render_template(
        "public/claim.html",
        claim=found,
        clock=claim_clock(view, record, filed, current_pool().now()),
        objections=objection_texts([(seq, entry_body(seq)) for seq in record.objections], answers),
        size=figures.size,
        url=current_log().settings.public_url,
    )


@public.get("/pool/rules")
def rules() -> str:
    query_args(())
    figures = current_figures()
    return render_template(
        "public/rules.html",
        page=rules_page(figures.state, current_pool().now()),
        size=figures.size,
        words=words,
        percent=percent,
        rule_words=rule_words,
    )


@public.get("/pool/faq")
def faq() -> str:
    query_args(())
    return render_template("public/faq.html")


@public.get("/log")
def log_page() -> str:
    query_args(())
    context = current_log()
    # The page shows what /checkpoint serves (with the witnesses'
    # cosignatures), or the newest while none meets the policy yet.
    served = served_checkpoint(context.engine) or cosigned_checkpoint(
        context.engine, witness_keys(context.engine)[0], 0
    )
    note = served.note if served is not None else None
    checkpoint = Checkpoint.from_text(Note.from_bytes(note).text) if note else None
    vkey = context.verifier().to_vkey()
    trust = trust_publication(
        context.origin,
        vkey,
        *trusted_witnesses(context.engine),
        title=_("The trust text above, as a QR code"),
    )
    return render_template(
        "public/log.html",
        origin=context.origin,
        vkey=vkey,
        trust=trust,
        note=note.decode("utf-8") if note else None,
        checkpoint=checkpoint,
        cosigners=served.cosigners if served is not None else (),
        page=page_status(current_pool()),
    )


@public.get("/verify")
def verify() -> str:
    query_args(())
    context = current_log()
    origin, vkey = context.origin, context.verifier().to_vkey()
    figures = current_figures()
    periods = figures.periods()
    claim_id = figures.last_decided_claim()
    url = context.settings.public_url
    commands = verify_commands(origin, vkey, url, *trusted_witnesses(context.engine))
    return render_template(
        "public/verify.html",
        origin=origin,
        vkey=vkey,
        url=url,
        trust=commands.trust,
        sync=commands.sync,
        audit=commands.audit,
        period=periods[-1].closed.period.isoformat() if periods else "YYYY-MM-DD",
        claim_id=claim_id or "CLAIM_ID",
    )
