"""The verifier page's words, in English, keyed as the page's scripts use
them; their Chinese is in the ``verifier`` area's catalog
(``server/translations/verifier``), and the build embeds both
(:func:`server.verifier.build.strings_json`).

``N_`` marks a string for ``pybabel extract`` (and the catalogs' guard,
``tests/server/test_i18n.py``) without translating it here: the page is
the same bytes for every visitor and picks its language in the browser.
``check.<id>`` names a check by the id the client's ``--json`` gives it
(docs/client.md, "Stable output"); an id the page has no words for is shown
as the id itself.
"""

from __future__ import annotations

__all__ = ["STRINGS"]


def N_(text: str) -> str:  # noqa: N802  (gettext's name for a mark that does not translate)
    return text


STRINGS: dict[str, str] = {
    "title": N_("Check it yourself"),
    "intro": N_(
        "This page checks, on your phone, that the public log holds your deduction as the "
        "plan's rules compute it. It sends nothing about you anywhere: it only reads the log."
    ),
    "lang.switch": N_("Language"),
    # The log this phone trusts.
    "pin.heading": N_("1. The log you trust"),
    "pin.none": N_("This phone does not know the log's key yet."),
    "pin.pinned": N_("This phone trusts the log %(origin)s, key %(key)s."),
    "pin.witnesses": N_("Witnesses required: %(required)s of %(count)s."),
    "pin.no_witness": N_(
        "No witness is pinned: a log that shows this phone a view of its own would not be "
        "noticed here. An auditor's trust text names the witnesses; paste or scan it to pin them."
    ),
    "pin.stored": N_("Last checkpoint accepted on this phone: size %(size)s, root %(root)s."),
    "pin.first_use": N_("Use this plan's key (first use)"),
    "pin.first_use_note": N_(
        "First use: the key comes from the server this page came from, so you trust it as it "
        "is today. If an auditor or the members' association publishes the key, type it or "
        "scan it instead, and compare."
    ),
    "pin.typed_label": N_("The log's verifier key, or an auditor's trust text"),
    "pin.typed_hint": N_(
        "A key looks like name+1a2b3c4d+AbC…; a trust text begins with the line "
        "“mutualog trust v1” and names the key, the witnesses and how many must sign."
    ),
    "pin.save": N_("Trust this log"),
    "pin.scan": N_("Scan a QR code"),
    "pin.scan_stop": N_("Stop scanning"),
    "pin.forget": N_("Forget this log"),
    "pin.forgotten": N_("This phone no longer trusts any log."),
    "pin.bad_key": N_("This is not a verifier key: %(detail)s"),
    "pin.fetch_failed": N_("The plan's server did not answer: %(detail)s"),
    "pin.saved": N_("Saved: this phone now trusts this log."),
    "pin.saved_key_only": N_(
        "Saved: this phone now trusts this log's key. A key alone names no witness, so no "
        "witness is pinned."
    ),
    "pin.bad_text": N_("This trust text cannot be read, and nothing was saved: %(detail)s"),
    # What to check.
    "what.heading": N_("2. What to check"),
    "what.deduction": N_("My deduction"),
    "what.claim": N_("A claim"),
    "what.file": N_("A file on this phone"),
    "what.member": N_("Member number"),
    "what.period": N_("Period (the date the period closed, YYYY-MM-DD)"),
    "what.sample": N_("Claims to check in depth (optional, separated by commas)"),
    "what.claim_id": N_("Claim number"),
    "what.file_label": N_("A bundle or vote receipt file"),
    "what.choose_file": N_("Choose a file"),
    "what.no_file": N_("No file chosen yet."),
    "what.file_hint": N_(
        "A file saved from this plan (a bundle, or the receipt of a vote). It is read on this "
        "phone and sent nowhere."
    ),
    "what.check": N_("Check"),
    "what.need_pin": N_("First choose the log you trust (step 1)."),
    "what.need_fields": N_("Fill in the member number and the period."),
    "what.need_claim": N_("Fill in the claim number."),
    "what.need_file": N_("Choose a file."),
    # The result.
    "result.heading": N_("3. Result"),
    "result.working": N_("Checking…"),
    "result.verified": N_("VERIFIED"),
    "result.verified_note": N_("Every check passed."),
    "result.failed": N_("NOT VERIFIED"),
    "result.failed_note": N_("This check failed: %(check)s."),
    "result.pending": N_("NOT YET VERIFIABLE"),
    "result.pending_note": N_("Some checks cannot be done yet: %(check)s."),
    "result.error": N_("Could not check: %(detail)s"),
    "result.fetch_failed": N_("The bundle could not be fetched: %(detail)s"),
    "result.not_a_file": N_("This file is not a bundle or a vote receipt: %(detail)s"),
    "result.share": N_("Your share this period: %(amount)s"),
    "result.checkpoint": N_("Checked against the log's checkpoint of size %(size)s."),
    "result.refused": N_(
        "Refused: this checkpoint does not extend the one this phone accepted before. The log "
        "may have been rewritten, or you are shown another version of it."
    ),
    "result.stored_cp": N_("Accepted before on this phone"),
    "result.new_cp": N_("Now presented"),
    "result.expected": N_("Expected"),
    "result.found": N_("Found"),
    "result.where": N_("Where in the log"),
    "result.details": N_("Details"),
    # Marks, spoken by screen readers beside the symbol.
    "status.ok": N_("passed"),
    "status.FAIL": N_("failed"),
    "status.pending": N_("not yet"),
    "status.skip": N_("not checked"),
    "consistency.first": N_("The first checkpoint this phone accepts: nothing to compare yet."),
    "consistency.same": N_("The same checkpoint this phone accepted before."),
    "consistency.offline": N_(
        "Not checked offline: the file carries no proof from the checkpoint this phone "
        "accepted before."
    ),
    "synced.nothing": N_(
        "Nothing to compare with: this phone has not accepted a checkpoint of this log yet."
    ),
    "bundle.unavailable": N_("The checks of the bundle are not in this version of the page."),
    "footer.saved": N_(
        "You can save this page and open it later as a file: it then checks files you choose, "
        "without the network."
    ),
    # The checks, by the client's check ids.
    "check.checkpoint": N_("the log's signature on the checkpoint of this bundle or receipt"),
    "check.signature": N_("the log's signature on its current checkpoint"),
    "check.witnesses": N_("the witnesses' cosignatures"),
    "check.consistency": N_("the log extends the checkpoint this phone accepted before"),
    "check.synced": N_("this bundle or receipt is from the log checked above"),
    "check.inclusion": N_("the entries are in the log"),
    "check.rules": N_("the plan's rules"),
    "check.period entry": N_("the period's closing entry"),
    "check.roster": N_("you are on the period's list of members"),
    "check.paid claims": N_("the list of claims paid this period"),
    "check.surplus": N_("the surplus carried over"),
    "check.share": N_("the share formula"),
    "check.sample": N_("the sampled claims are on the paid list"),
    "check.claim filed": N_("the claim was filed by a member"),
    "check.notice": N_("the claim's notice"),
    "check.objections": N_("the objections"),
    "check.panel": N_("the panel of jurors"),
    "check.seed": N_("the draw's seed"),
    "check.sortition": N_("the draw of the jurors"),
    "check.votes": N_("the votes"),
    "check.decision": N_("the decision"),
    "check.payout": N_("the payment of aid"),
    "check.stage": N_("where the claim stands"),
    "check.sample payout": N_("the sampled claims were paid as listed"),
    "check.sealed entry": N_("your sealed vote is in the log"),
    "check.commitment": N_("your vote's seal"),
    "check.log checkpoint": N_("the log's latest checkpoint"),
    "check.log entries": N_("the log's entries"),
    "check.reveal": N_("your vote as revealed"),
    "check.tally": N_("the count of the votes"),
    "check.bundle": N_("the checks of the bundle"),
}
