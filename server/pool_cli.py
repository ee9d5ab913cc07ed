"""``mutualog-server pool``: the operator's commands, the same operations as
the operator's web pages.

Each command calls one method of :class:`server.pool_service.PoolService`,
built as the web application builds it (the instance's settings, its log
key, the system clock — in a demo instance the demo's clock, which the
operator's page moves), and prints what was appended.  A refusal — a claim
at the wrong stage, a window still open, bad input — is one line on stderr
with exit status 2, and nothing is appended or stored.

A text bound for the log (a notice, an answer, a reason) is taken through
:func:`server.log_texts.accept` as the options are read: normalised, the
log's rules, then the private-data guard with the members it concerns (a
text holding an ID number, a mobile number, or a name, ID number or phone
of a member concerned is refused, saying what and at which character).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import click

from server.app import create_app
from server.log_texts import accept
from server.pool.notice_facts import NoticeDetails
from server.pool.outcomes import Description, describe, describe_answer, render
from server.pool_app import POOL_EXTENSION, PoolHolder
from server.pool_service import PoolInputError, PoolService, QueueAction
from server.private.evidence import Upload
from server.private_guard import PrivateIdentity
from server.rule_text import parse_effective, read_rule_changes
from verifiable.errors import MalformedError
from verifiable.log.bodies import ClaimDecided, ClaimPaid, PanelDrawn
from verifiable.log.fields import read_date
from verifiable.log.notice_facts import PROVINCE_REGION, HospitalGrade
from verifiable.log.texts import (
    ANSWER,
    ERASURE_REASON,
    NOTICE,
    NOTICE_SUMMARY,
    OVERRIDE_REASON,
    OVERRIDE_TARGET,
    RULES_REASON,
    TextRule,
)

__all__ = ["pool"]

_NEEDS = {
    QueueAction.NOTICE: "write the notice",
    QueueAction.INELIGIBLE: "decide ineligible (waiting period)",
    QueueAction.ANSWER: "answer objections",
    QueueAction.DRAW: "draw the panel",
    QueueAction.CLOSE_VOTING: "close voting",
    QueueAction.PAY: "pay",
}


def _service(ctx: click.Context) -> PoolService:
    app = create_app(ctx.obj or {})
    ctx.call_on_close(app.extensions["mutualog"].engine.dispose)
    holder: PoolHolder = app.extensions[POOL_EXTENSION]
    return holder.service()


def _text(
    text: str | None,
    text_file: Path | None,
    rule: TextRule,
    concerned: tuple[PrivateIdentity, ...],
) -> str:
    """The text of ``--text`` or ``--text-file``, as the log will hold it in
    ``rule``'s field, holding no identifier of the members ``concerned``
    nor of anyone else (:func:`server.log_texts.accept`: exit 2 otherwise)."""
    if (text is None) == (text_file is None):
        raise click.UsageError("give the text with exactly one of --text and --text-file")
    if text_file is not None:
        try:
            text = text_file.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise PoolInputError(f"{text_file}: not UTF-8 text") from e
    assert text is not None
    return accept(text, rule, concerned=concerned)


def _say(description: Description) -> None:
    # Exact fen and the log's own time format: a line a script can read.
    click.echo(render(description, "{} fen", "%Y-%m-%dT%H:%M:%SZ"))


def _date(value: str, what: str) -> date:
    try:
        return read_date(value, what)
    except MalformedError as e:
        raise PoolInputError(f"{what}: expected a date YYYY-MM-DD, got {value[:40]!r}") from e


@click.group()
def pool() -> None:
    """Run the pool: review claims, draw panels, close votes, pay, close periods."""


@pool.command()
@click.pass_context
def queue(ctx: click.Context) -> None:
    """List what waits for the operator: claims by the step they need, and periods due."""
    review = _service(ctx).review_queue()
    for item in review.items:
        view = item.claim
        click.echo(f"{view.id}  {view.stage.value:<9} {_NEEDS[item.action]}")
    for view in review.waiting:
        until = view.votes_until if view.votes_until else view.objections_until
        shown = until.strftime("%Y-%m-%dT%H:%M:%SZ") if until else "?"
        click.echo(f"{view.id}  {view.stage.value:<9} waiting until {shown}")
    for period in review.due_periods:
        click.echo(f"period {period.isoformat()} is due to close")
    if not review.items and not review.due_periods:
        click.echo("nothing waits for the operator", err=True)


@pool.command()
@click.argument("claim")
@click.option("--text", help="The redacted notice (public).")
@click.option(
    "--text-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the notice from this UTF-8 file.",
)
@click.option(
    "--amount",
    type=click.IntRange(min=1),
    help="The aid proposed, in fen (default: the amount requested, within the cap).",
)
@click.option(
    "--grade",
    type=click.Choice([g.value for g in HospitalGrade]),
    help="The treating hospital's grade (structured facts).",
)
@click.option(
    "--province",
    type=click.Choice(sorted(PROVINCE_REGION)),
    help="The hospital's province, a GB/T 2260 code; published as is, as its region "
    "or not at all, as few claims share it (docs/privacy.md).",
)
@click.option("--summary", help="The investigation summary (public).")
@click.option(
    "--summary-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the investigation summary from this UTF-8 file.",
)
@click.pass_context
def notice(
    ctx: click.Context,
    /,
    claim: str,
    text: str | None,
    text_file: Path | None,
    amount: int | None,
    **facts: str | Path | None,
) -> None:
    """Publish CLAIM's redacted notice, opening its objection window; with
    --grade, --province and a summary, its structured facts too."""
    service = _service(ctx)
    concerned = service.concerned(claim=claim)
    notice_text = _text(text, text_file, NOTICE, concerned)
    details = _notice_details(facts, concerned)
    body = service.publish_notice(claim, notice_text, amount, details)
    _say(describe(claim, body))
    if body.facts is not None:
        click.echo(f"place published: {body.facts.place or 'withheld'}")


def _notice_details(
    given: dict[str, str | Path | None], concerned: tuple[PrivateIdentity, ...]
) -> NoticeDetails | None:
    """The structured facts' options: none, or the grade, the province and
    the summary (through the private-data guard, exit 2 on a refusal)."""
    grade, province = given["grade"], given["province"]
    summary, summary_file = given["summary"], given["summary_file"]
    if grade is None and province is None and summary is None and summary_file is None:
        return None
    if not isinstance(grade, str) or not isinstance(province, str):
        raise click.UsageError("structured facts need --grade, --province and a summary")
    summary_path = summary_file if isinstance(summary_file, Path) else None
    text = _text(
        summary if isinstance(summary, str) else None, summary_path, NOTICE_SUMMARY, concerned
    )
    return NoticeDetails(HospitalGrade(grade), province, text)


@pool.command()
@click.argument("claim")
@click.argument("objection_seq", metavar="OBJECTION_SEQ", type=click.IntRange(min=0))
@click.option("--text", help="The answer (public).")
@click.option(
    "--text-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the answer from this UTF-8 file.",
)
@click.pass_context
def answer(
    ctx: click.Context, claim: str, objection_seq: int, text: str | None, text_file: Path | None
) -> None:
    """Answer the objection in entry OBJECTION_SEQ to CLAIM."""
    service = _service(ctx)
    concerned = service.concerned(claim=claim, objection=objection_seq)
    seq = service.answer(claim, objection_seq, _text(text, text_file, ANSWER, concerned))
    _say(describe_answer(claim, objection_seq, seq))


def _claim_command(
    name: str,
    help_text: str,
    action: Callable[[PoolService, str], PanelDrawn | ClaimDecided | ClaimPaid],
) -> None:
    """Register ``pool NAME CLAIM``: one claim action, and what it appended."""

    @pool.command(name, help=help_text)
    @click.argument("claim")
    @click.pass_context
    def command(ctx: click.Context, claim: str) -> None:
        _say(describe(claim, action(_service(ctx), claim)))


_claim_command(
    "draw", "Draw CLAIM's panel by sortition, seeded by the log's root.", PoolService.draw_panel
)
_claim_command(
    "close-voting",
    "After CLAIM's voting window: reveal the sealed votes and append the decision.",
    PoolService.close_voting,
)
_claim_command("pay", "Pay approved CLAIM the aid decided.", PoolService.pay)
_claim_command(
    "decide-ineligible",
    "Decide CLAIM, diagnosed inside the waiting period, ineligible (no panel).",
    PoolService.decide_ineligible,
)


@pool.command("close-period")
@click.option("--period", help="Close only if this (YYYY-MM-DD) is the period due.")
@click.pass_context
def close_period(ctx: click.Context, period: str | None) -> None:
    """Close the oldest period due: its paid claims, fee, roster and share."""
    expected = None if period is None else _date(period, "--period")
    body = _service(ctx).close_period(expected)
    click.echo(
        f"closed period {body.period.isoformat()}: {body.claims_count} claims, "
        f"{body.claims_total} fen aid, {body.fee} fen fee; {body.sharing} members share "
        f"{body.share} fen each"
    )


@pool.command()
@click.option(
    "--file",
    "rules_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A JSON object of the rules that change and their new values.",
)
@click.option(
    "--effective", required=True, help="When it takes effect: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ."
)
@click.option("--reason", required=True, help="Why (public).")
@click.pass_context
def rules(ctx: click.Context, rules_file: Path, effective: str, reason: str) -> None:
    """Log a change to the rules, in force from a future time."""
    changes = read_rule_changes(rules_file.read_bytes(), str(rules_file))
    when = parse_effective(effective)
    body = _service(ctx).change_rules(changes, when, accept(reason, RULES_REASON))
    click.echo(
        f"logged a change of {len(body.rules)} rule(s), in force from "
        f"{body.effective:%Y-%m-%dT%H:%M:%SZ}"
    )


@pool.command()
@click.argument("action")
@click.argument("target")
@click.option("--reason", required=True, help="Why (public).")
@click.pass_context
def override(ctx: click.Context, action: str, target: str, reason: str) -> None:
    """Log a manual intervention ACTION on TARGET with its reason."""
    service = _service(ctx)
    concerned = service.concerned(target=target)
    seq = service.override(
        action,
        accept(target, OVERRIDE_TARGET, concerned=concerned),
        accept(reason, OVERRIDE_REASON, concerned=concerned),
    )
    click.echo(f"logged override {action} on {target} in entry {seq}")


@pool.command("erase-member")
@click.argument("member")
@click.option("--reason", required=True, help="Why (public: no personal data).")
@click.pass_context
def erase_member(ctx: click.Context, member: str, reason: str) -> None:
    """Erase MEMBER's name, ID number and phone; the log records the erasure."""
    service = _service(ctx)
    concerned = service.concerned(member=member)
    service.erase_member(member, accept(reason, ERASURE_REASON, concerned=concerned), None)
    click.echo(f"erased the private details of member {member}")


@pool.command("erase-evidence")
@click.argument("claim")
@click.option("--reason", required=True, help="Why (public: no personal data).")
@click.pass_context
def erase_evidence(ctx: click.Context, claim: str, reason: str) -> None:
    """Erase CLAIM's evidence documents and salts; the commitments stay."""
    service = _service(ctx)
    concerned = service.concerned(claim=claim)
    body = service.erase_evidence(claim, accept(reason, ERASURE_REASON, concerned=concerned), None)
    click.echo(f"erased {body.documents} evidence document(s) of claim {claim}")


_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


@pool.command()
@click.argument("claim")
@click.argument("document", type=click.IntRange(min=1))
@click.argument("copy", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--pages-to",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the page images jurors will see into this folder, to check them.",
)
@click.pass_context
def redact(
    ctx: click.Context, claim: str, document: int, copy: Path, pages_to: Path | None
) -> None:
    """Store COPY (a PDF, PNG or JPEG file) as the redacted copy of CLAIM's
    evidence DOCUMENT (from 1), the pages its panel is shown.  Refused
    (exit 2, nothing stored) if the copy still holds the claimant's name,
    ID number or phone anywhere in it, or anything shaped like an ID or
    mobile number in its text or metadata."""
    kind = _TYPES.get(copy.suffix.lower())
    if kind is None:
        raise PoolInputError(f"{copy.name}: expected a .pdf, .png, .jpg or .jpeg file")
    service = _service(ctx)
    commitment = service.upload_redacted(claim, document, Upload(copy.read_bytes(), kind))
    stored = service.redacted_pages(claim, document)
    assert stored is not None
    if pages_to is not None:
        pages_to.mkdir(parents=True, exist_ok=True)
        for n, page in enumerate(stored.pages, start=1):
            (pages_to / f"claim-{claim}-document-{document}-page-{n}.png").write_bytes(page)
    click.echo(
        f"stored the redacted copy of document {document} of claim {claim}: "
        f"{len(stored.pages)} page(s), commitment {commitment.hex()}"
    )
