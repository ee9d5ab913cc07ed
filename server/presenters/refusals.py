"""A refusal of the pool, the private store or the rulebook, as a sentence
for a page in the visitor's language.

The service knows no language but English: each of its refusals carries a
stable ``code`` and the ``params`` its sentence names
(:data:`server.pool.errors.CODES`, :data:`server.private.errors.CODES`),
and a :class:`~verifiable.errors.RuleViolation` its ``rule``.  Here each
code has a sentence with named placeholders (:data:`TEMPLATES`) and each
rule a plain sentence of what it says (:data:`RULES`), marked for
translation (the ``refusals`` catalog).

* In English a coded refusal reads as the service wrote it — the words the
  ``pool`` commands print too — and the templates are what a translation
  starts from.
* A broken rule reads the same in both languages: what the rule says, then
  its id in parentheses, since that is how the log and docs/rules.md name
  it, and (:func:`rule_refusal`) that nothing was recorded.
* An error without a known code (a :class:`~verifiable.errors.MalformedError`
  of a field, an older refusal) reads as its English message, made a
  sentence: never a failure of the page itself.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from server import i18n
from server.forms import as_sentence
from server.log_texts import PRIVATE_SENTENCES
from verifiable.errors import RuleViolation

__all__ = ["RULES", "TEMPLATES", "refusal", "rule_refusal"]


def _(text: str, **values: object) -> str:
    """``text`` in the page's language (Flask-Babel's ``gettext``, typed)."""
    return str(gettext(text, **values))


#: A sentence for every refusal code, its placeholders named as the code's
#: parameters are.
TEMPLATES: Mapping[str, object] = {
    # the pool: claims
    "claim.unknown": _l("There is no claim %(claim)s."),
    "claim.member_only": _l("Only an active member may file a claim."),
    "notice.not_filed": _l(
        "Claim %(claim)s is %(stage)s: only a filed claim that has no notice yet gets one."
    ),
    "notice.waiting_period": _l(
        "Claim %(claim)s was diagnosed inside the waiting period: it gets no notice, only "
        "an ineligible decision."
    ),
    "notice.amount_range": _l(
        "The proposed aid must be ¥0.01 to %(cap)s (the amount requested, within the cap), "
        "not %(amount)s."
    ),
    "notice.redacted_missing": _l(
        "Claim %(claim)s needs a redacted copy of every evidence document before its notice "
        "(missing: document %(documents)s)."
    ),
    "redacted.not_filed": _l(
        "Claim %(claim)s is %(stage)s: its redacted copies are fixed once its notice is published."
    ),
    "redacted.number": _l("Claim %(claim)s has documents 1 to %(count)s, not %(number)s."),
    "redacted.erased": _l("Document %(number)s of claim %(claim)s was erased."),
    "answer.not_objection": _l("Entry %(seq)s is not an objection to claim %(claim)s."),
    "answer.already": _l("Objection %(seq)s is already answered."),
    "ineligible.not_filed": _l(
        "Claim %(claim)s is %(stage)s: only a filed claim diagnosed inside the waiting "
        "period is decided ineligible."
    ),
    "ineligible.covered": _l(
        "Claim %(claim)s is %(stage)s, not diagnosed inside the waiting period: only a filed "
        "claim diagnosed inside the waiting period is decided ineligible."
    ),
    "draw.wrong_stage": _l(
        "Claim %(claim)s is %(stage)s: a panel is drawn for a noticed claim, a redraw or an appeal."
    ),
    "draw.unanswered": _l(
        "Answer every objection to claim %(claim)s before its panel is drawn (unanswered: "
        "entry %(seqs)s)."
    ),
    "draw.too_early": _l("The objection window of claim %(claim)s is open until %(until)s."),
    "draw.awaiting_witnesses": _l(
        "The panel of claim %(claim)s waits for the witnesses to cosign the log; it is drawn "
        "once they have."
    ),
    "pay.not_approved": _l("Claim %(claim)s is %(stage)s: only an approved claim is paid."),
    "input.malformed": _l("This is not accepted: %(detail)s"),
    # a text holding a private identifier: the sentence its field shows
    **{f"text.private_{kind.value}": said for kind, said in PRIVATE_SENTENCES.items()},
    # the pool: members and erasures
    "join.band_closed": _l("Members aged %(band)s may not join under the current rules."),
    "join.age": _l(
        "The plan covers ages from 30 days to 59 years; by this ID number you are %(age)s "
        "years old today."
    ),
    "claim.age": _l(
        "The plan covers ages from 30 days to 59 years; on the date of diagnosis you were "
        "%(age)s years old."
    ),
    "member.not_active": _l("Member %(member)s is not an active member."),
    "member.unknown": _l("There is no member %(member)s."),
    "erase.member_none": _l("No private details of member %(member)s are stored."),
    "erase.member_done": _l(
        "The private details of member %(member)s were erased in entry %(seq)s."
    ),
    "erase.evidence_none": _l("No evidence of claim %(claim)s is stored."),
    "erase.evidence_done": _l("The evidence of claim %(claim)s was erased in entry %(seq)s."),
    "erase.reason_shape": _l(
        "The reason is published in the log: one line of 1 to %(most)s characters without "
        "control characters (%(detail)s)."
    ),
    "erase.reason_personal": _l(
        "The reason is published in the log: it must not repeat the personal data being "
        "erased (a name, ID number, phone number or file name)."
    ),
    # the pool's course
    "pool.started": _l("The pool has already started: its log is not empty."),
    "period.none_due": _l("No period is due to close yet."),
    "period.closed_none_due": _l(
        "Period %(period)s is already closed; no period is due to close yet."
    ),
    "period.already_closed": _l(
        "Period %(period)s is already closed; the next period due is %(next)s."
    ),
    "period.not_next": _l(
        "Period %(period)s is not the next period due; the next period due is %(next)s."
    ),
    "rules.no_zone": _l("The effective time needs a time zone."),
    "rules.not_future": _l(
        "A rule change takes effect in the future: %(effective)s is not after %(now)s."
    ),
    "rules.not_after_latest": _l(
        "A rule change takes effect after every change already scheduled: %(effective)s is "
        "not after %(latest)s."
    ),
    "rules.no_change": _l("The rule change changes no rule."),
    "rules.not_object": _l("%(label)s: expected a JSON object of rule names and values."),
    "rules.bad_effective": _l(
        "The effective time must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ, "
        "not “%(value)s”."
    ),
    "override.repeated": _l(
        "This override is already in the log (entry %(seq)s); give another reason to log another."
    ),
    "override.not_allowed": _l(
        "The rules do not allow the override “%(action)s” (allowed: %(allowed)s)."
    ),
    # votes
    "vote.unknown_claim": _l("There is no claim %(claim)s."),
    "vote.not_juror": _l(
        "You are not on a panel voting on claim %(claim)s: only the drawn jurors of its "
        "current panel may vote."
    ),
    "vote.wrong_round": _l("Claim %(claim)s is voting in round %(current)s, not round %(round)s."),
    "vote.already_voted": _l(
        "You have already voted on claim %(claim)s in round %(round)s; a sealed vote cannot "
        "be changed or cast twice."
    ),
    "vote.window_closed": _l("The voting window of claim %(claim)s closed at %(until)s."),
    "close.not_voting": _l("Claim %(claim)s has no panel voting."),
    "close.too_early": _l("The voting window of claim %(claim)s is open until %(until)s."),
    # the private store
    "username.length": _l(
        "A username has %(least)s to %(most)s characters, this one has %(length)s."
    ),
    "username.chars": _l(
        "A username may use only letters a-z, digits, “_”, “.” and “-”, and must start with "
        "a letter or digit."
    ),
    "password.short": _l("A password needs at least %(least)s characters."),
    "password.long": _l("A password may have at most %(most)s characters."),
    "password.is_username": _l("The password may not be the username."),
    "name.length": _l("A name has 1 to %(most)s characters."),
    "name.control": _l("A name may not contain control characters."),
    "id_number.length": _l("A resident ID number has 18 characters; this one has %(length)s."),
    "id_number.chars": _l("A resident ID number has 17 digits and then a digit or X."),
    "id_number.region": _l("A resident ID number begins with a region code from 1 to 9."),
    "id_number.birth_date": _l(
        "Characters 7 to 14 of a resident ID number are the birth date; these are no real date."
    ),
    "id_number.birth_range": _l(
        "The birth date in this ID number is before 1900 or in the future."
    ),
    "id_number.check": _l(
        "The last character of this ID number does not match the others: check each digit."
    ),
    "phone.mobile": _l(
        "A mobile number has 11 digits: 1, then 3 to 9, then nine digits (+86 in front is allowed)."
    ),
    "erasure.reason_length": _l("An erasure needs a reason of 1 to %(most)s characters."),
    "evidence.malformed": _l("This document is not accepted: %(detail)s"),
    "evidence.type": _l(
        "Document %(n)d: the type %(kind)s is not accepted; choose a PDF, PNG or JPEG file."
    ),
    "evidence.empty": _l("Document %(n)d: the file is empty."),
    "evidence.too_large": _l("Document %(n)d: %(size)s bytes, more than the %(most)s MiB allowed."),
    "evidence.not_type": _l("Document %(n)d: the content is not a %(kind)s file."),
    "evidence.name_long": _l("Document %(n)d: the file name is too long; rename the file."),
    "evidence.none": _l("A claim needs at least one evidence document."),
    "evidence.too_many": _l("At most %(most)s documents per claim, got %(count)s."),
    "account.username_taken": _l("This username is taken. Choose another."),
    "account.already_joined": _l("This account has already joined the pool; nothing was changed."),
    "identity.taken": _l(
        "A member of the pool already has this ID number: one person holds one membership. "
        "Nothing was changed."
    ),
    "juror.already_voted": _l("You have already voted on claim %(claim)s in round %(round)d."),
    "login.refused": _l("Wrong username or password."),
    "login.throttled": _l(
        "Too many failed sign-ins for this username from your address: try again in "
        "%(minutes)s minute(s)."
    ),
    "password.common": _l(
        "This password is among the most common ones, which are guessed first. Choose another."
    ),
    "password.few_characters": _l("A password needs at least %(least)s different characters."),
    "password.sequence": _l("A password may not be one run of consecutive characters."),
    "limit.address": _l("Too many attempts from your address: try again in %(minutes)s minute(s)."),
    "limit.username": _l(
        "Too many failed sign-ins for this username: try again in %(minutes)s minute(s)."
    ),
    "limit.server": _l(
        "The server is receiving too many of these requests: try again in %(minutes)s minute(s)."
    ),
    "hash.busy": _l("The server is busy checking other passwords. Try again in a moment."),
    "reset.invalid": _l(
        "This reset code is not valid: it is wrong, has expired or was already used."
    ),
}

#: What each rule of the pool says (docs/rules.md names them), in plain words.
RULES: Mapping[str, object] = {
    "log.seq": _l("Entries are recorded in order."),
    "log.time_order": _l("An entry's time is never before the previous entry's."),
    "rules.genesis": _l("The log begins with the pool's rulebook, in force from its own time."),
    "rules.effective_future": _l("A rule change takes effect after it is published."),
    "rules.order": _l("A rule change takes effect after every change already scheduled."),
    "member.unique": _l("A member id joins once."),
    "member.age_band": _l("Only the age bands the rules name may join."),
    "member.active": _l("Only an active member may do this."),
    "member.waiting_period": _l(
        "A member leaves over the waiting period only when one of their claims was found inside it."
    ),
    "member.refund": _l(
        "The refund is the member's past shares after an ineligible claim, and nothing else."
    ),
    "juror.member": _l("Only an active member may qualify as a juror."),
    "juror.once": _l("A member qualifies as a juror once."),
    "juror.age_band": _l("Only members of the juror age bands may serve as jurors."),
    "juror.seasoning": _l("A member qualifies as a juror only after being a member long enough."),
    "juror.removed": _l("Only a qualified juror can be removed."),
    "jury.once": _l("A period has one juror pool."),
    "jury.period": _l("A juror pool is for the period it is published in."),
    "jury.root": _l("The juror pool holds exactly the qualified jurors."),
    "jury.size": _l("The juror pool's size is the number of qualified jurors."),
    "claim.unique": _l("A claim id is filed once."),
    "claim.member": _l("Only an active member in good standing may file a claim."),
    "claim.category": _l("Only an illness the rules cover may be claimed."),
    "claim.cover": _l("The member's age band has no cover under the rules."),
    "claim.age_band": _l(
        "A claim names the claimant's age band only where the age at diagnosis gives a band "
        "older than the one they joined in."
    ),
    "claim.diagnosed": _l("The diagnosis is on or before the day the claim is filed."),
    "claim.filing_deadline": _l(
        "A claim is filed within the days the rules allow after the diagnosis."
    ),
    "claim.unknown": _l("The claim named was never filed."),
    "claim.waiting_period": _l(
        "A claim diagnosed inside the waiting period is only decided ineligible."
    ),
    "decision.ineligible": _l(
        "Only a claim diagnosed inside the waiting period is decided ineligible without a panel."
    ),
    "notice.state": _l("Only a filed claim that has no notice yet gets one."),
    "notice.fields": _l("A notice gives the claimant's age band and the claim's illness."),
    "notice.amount": _l(
        "The aid proposed is at least ¥0.01 and at most the amount requested, within the cap."
    ),
    "notice.window": _l("The objection window lasts exactly the days the rules give."),
    "notice.diagnosed_month": _l("A notice's month of diagnosis is the month the claim gives."),
    "notice.months_member": _l(
        "A notice's months of membership are the whole months from joining to the diagnosis."
    ),
    "notice.waiting_met": _l("A claim on public notice met the waiting period."),
    "notice.requested": _l("A notice's amount requested is the amount the claim asks for."),
    "notice.capped": _l(
        "A notice's capped amount is the amount requested, within the cap of the claimant's "
        "age band."
    ),
    "notice.redacted": _l(
        "A notice commits to one redacted copy of each evidence document, none of them the "
        "original."
    ),
    "objection.state": _l(
        "An objection is made to a claim on public notice, before its panel is drawn."
    ),
    "objection.window": _l("An objection is made before the objection window closes."),
    "objection.member": _l("An objection is made by an active member other than the claimant."),
    "objection.limit": _l(
        "A member makes at most as many objections to a claim as the rules of its filing allow."
    ),
    "answer.objection": _l("An answer is to an objection to the same claim."),
    "answer.once": _l("An objection is answered once."),
    "panel.objections": _l("Every objection is answered before the panel is drawn."),
    "panel.state": _l("A panel is drawn only for a claim waiting for one."),
    "panel.too_early": _l("A panel is drawn only after the objection window has closed."),
    "panel.round": _l("Each panel is the next round of its claim."),
    "panel.appeal": _l("A panel is an appeal's exactly when its claim was appealed."),
    "panel.seed_size": _l("The draw is seeded by the public log at the size the rules fix."),
    "panel.seed": _l("The draw is seeded by the public log's root at that size."),
    "panel.witnessed": _l(
        "A draw records the witnessed checkpoint its seed comes from exactly when the rules "
        "name witnesses for the draw."
    ),
    "panel.witness_count": _l(
        "The seed comes from the cosignatures of exactly as many witnesses as the rules require."
    ),
    "panel.witness_unknown": _l("Each cosignature is by a witness the rules name."),
    "panel.witness_order": _l(
        "The cosignatures are in the order the rules list their witnesses, each witness once."
    ),
    "panel.witness_signature": _l("Each witness's cosignature verifies over the checkpoint."),
    "panel.witness_size": _l(
        "The witnessed checkpoint is of the log once the claim was ready for its draw, "
        "and no larger than the log before the draw."
    ),
    "panel.witness_root": _l("The witnessed checkpoint is this log's own, proven consistent."),
    "panel.pool": _l("A panel is drawn from the latest juror pool."),
    "panel.size": _l("A panel has the number of jurors the rules give (2n+1 on appeal)."),
    "panel.claimant": _l("The claimant never sits on their own claim's panel."),
    "panel.sortition": _l("A panel is exactly the jurors the public draw gives."),
    "panel.window": _l("The voting window lasts exactly the days the rules give."),
    "panel.pool_too_small": _l(
        "Too few eligible jurors remain to draw a panel of the size the rules give."
    ),
    "panel.redraw": _l("After too few votes, a new panel is drawn before anything else."),
    "vote.round": _l("A vote is cast in the claim's current round."),
    "vote.panel_member": _l("Only a juror on the claim's current panel may vote."),
    "vote.once": _l("A juror votes once per round."),
    "vote.window": _l("A vote is cast before the voting window closes."),
    "vote.reveal_window": _l("Votes are revealed only after the voting window has closed."),
    "vote.reveal_sealed": _l("Only a sealed vote is revealed."),
    "vote.reveal_once": _l("A vote is revealed once."),
    "vote.reveal_reason": _l("A revealed vote gives a reason, as the rules ask."),
    "vote.reveal_matches": _l("A revealed vote is exactly the vote that was sealed."),
    "decision.state": _l("A decision is made on a claim whose panel is voting."),
    "decision.round": _l("A decision is for the claim's current round."),
    "decision.window": _l("A decision is made only after the voting window has closed."),
    "decision.tally": _l("A decision counts exactly the votes revealed."),
    "decision.outcome": _l("The outcome is what the votes give."),
    "decision.cap": _l("The aid decided never exceeds the cap of the claim's rules."),
    "decision.amount": _l("An approval gives the aid of the notice; any other outcome none."),
    "appeal.once": _l("A claim is appealed once."),
    "appeal.state": _l("Only a claim rejected at first instance can be appealed."),
    "appeal.window": _l("An appeal is made within the days the rules allow after the decision."),
    "payout.decided": _l("Only an approved claim is paid."),
    "payout.once": _l("A claim is paid once."),
    "payout.cap": _l("A payment never exceeds the cap of the claim's rules."),
    "payout.requested": _l("A payment never exceeds the amount requested."),
    "payout.amount": _l("A payment is exactly the aid decided."),
    "payout.period": _l("A payment names the period it is paid in."),
    "period.too_early": _l("A period is closed only once it is due."),
    "period.order": _l("Periods are closed one after another, the oldest first."),
    "period.claims": _l("A period's claims are exactly those paid in it."),
    "period.fee": _l("The management fee is what the rules give."),
    "period.refunds": _l("A period's refunds are exactly those made in it."),
    "period.surplus": _l("The surplus carries over from the previous period exactly."),
    "period.roster": _l("The members sharing are the members at the period's moment."),
    "period.sharing": _l("The number of members sharing is the number of members."),
    "period.share": _l("The share per member is what the rules give."),
    "period.collected": _l("What is collected is the share per member times the members sharing."),
    "money.conserved": _l(
        "Every fen collected is accounted for: aid, management fee, refunds and surplus."
    ),
    "override.allowed": _l("The rules in force do not allow this override."),
    "override.target": _l("An override names something it can act on."),
    "erasure.subject": _l("An erasure names a member who joined or a claim that was filed."),
    "erasure.documents": _l(
        "An erasure of evidence names at most as many documents as the claim was filed with."
    ),
    "erasure.once": _l("Each member's or claim's data is erased once."),
    "verifier.hash": _l("A published page hash is the SHA-256 of the page's bytes."),
    "verifier.unchanged": _l("A page hash is published when the page changes, not again."),
}


def _when(value: object) -> str:
    if isinstance(value, _dt.datetime):
        return i18n.datetime(value)
    if isinstance(value, _dt.date):
        return i18n.date(value)
    return str(value)


def _fen(value: object) -> str:
    return i18n.yuan(value) if isinstance(value, int) else str(value)


def _count(value: object) -> str:
    return i18n.number(value) if isinstance(value, int) else str(value)


#: How a parameter is shown; any other is shown as it is (ids, counts).
_SHOWN: Mapping[str, Callable[[object], str]] = {
    "stage": i18n.stage,
    "band": i18n.age_band,
    "until": _when,
    "now": _when,
    "effective": _when,
    "latest": _when,
    "period": _when,
    "next": _when,
    "cap": _fen,
    "amount": _fen,
    "size": _count,
}


def _coded(code: str, params: Mapping[str, object]) -> str | None:
    """The code's sentence in the page's language, or ``None`` if there is
    none or it cannot be filled in (a translation naming a parameter the
    refusal lacks): the caller then shows the English message."""
    template = TEMPLATES.get(code)
    if template is None:
        return None
    values = {name: _SHOWN[name](v) if name in _SHOWN else v for name, v in params.items()}
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return None


def rule_refusal(e: RuleViolation, recorded: bool = True) -> str:
    """A broken rule of the pool, in plain words with the rule's id, and
    that nothing was appended (unless ``recorded`` is false: the page says
    that itself)."""
    said = RULES.get(e.rule)
    if said is None:
        if recorded:
            return _("The pool's rules refuse this: %(why)s. Nothing was recorded.", why=str(e))
        return _("The pool's rules refuse this: %(why)s.", why=str(e))
    clause = str(said).rstrip(".。")
    if clause[:1].isupper() and not clause[1:2].isupper():
        clause = clause[:1].lower() + clause[1:]  # "A claim ..." after a colon
    if recorded:
        return _(
            "The pool's rules refuse this: %(rule_says)s (rule %(rule)s). Nothing was recorded.",
            rule_says=clause,
            rule=e.rule,
        )
    return _(
        "The pool's rules refuse this: %(rule_says)s (rule %(rule)s).",
        rule_says=clause,
        rule=e.rule,
    )


def refusal(e: Exception) -> str:
    """``e`` as a sentence for the page, in the page's language; a broken
    rule without "nothing was recorded", which the page says itself (the
    operator's pages) or :func:`rule_refusal` adds."""
    if isinstance(e, RuleViolation):
        return rule_refusal(e, recorded=False)
    code = getattr(e, "code", "")
    params = getattr(e, "params", {})
    if isinstance(code, str) and code and i18n.locale_code() != "en":
        said = _coded(code, params if isinstance(params, Mapping) else {})
        if said is not None:
            return said
    return as_sentence(str(e))
