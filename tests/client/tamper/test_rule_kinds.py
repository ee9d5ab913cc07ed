"""The tamper suite: re-signed logs that break a rule of the pool.

Every log-level check passes, because the log is signed and chained:
``mutualog audit`` names the rule in its ``rules`` check.  Also: the human
report names the rule, and a chain broken under a valid signature.
docs/tamper-suite.md lists every kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.client.harness import Mutualog
from tests.client.tamper.forgeries import (
    Forge,
    claim_band_younger,
    claims_list_forged,
    decision_above_cap,
    fee_inflated,
    forged_reveal,
    jury_pool_forged,
    label_hash,
    member_added,
    member_left_out,
    objection_repeated,
    outcome_not_from_votes,
    panel_not_sortition,
    panel_seed_ground,
    payout_above_cap,
    payout_doubled,
    payout_not_as_decided,
    payout_without_decision,
    refund_unwarranted,
    reveal_without_seal,
    rules_applied_early,
    rules_backdated,
    share_wrong,
    sharing_count_wrong,
    surplus_vanished,
    tally_miscounted,
    verifier_hash_of_nothing,
    verifier_hash_republished,
    vote_after_window,
    vote_by_non_juror,
    vote_sealed_twice,
)
from tests.client.tamper.honest import Demo, forge_instance, json_report
from tests.client.tamper.notice_forgeries import (
    notice_capped_wrong,
    notice_month_wrong,
    notice_months_wrong,
    notice_redacted_short,
    notice_requested_wrong,
    notice_waiting_denied,
)
from tests.client.tampering import publish


@dataclass(frozen=True)
class RuleKind:
    """A re-signed log that breaks a rule of the pool: ``audit`` names it."""

    id: str
    forge: Forge
    rule: str


RULE_KINDS = [
    RuleKind("vote-reveal-altered", forged_reveal, "vote.reveal_matches"),
    RuleKind("vote-by-non-juror", vote_by_non_juror, "vote.panel_member"),
    RuleKind("vote-sealed-twice", vote_sealed_twice, "vote.once"),
    RuleKind("vote-after-window", vote_after_window, "vote.window"),
    RuleKind("objection-repeated", objection_repeated, "objection.limit"),
    RuleKind("reveal-without-sealed-vote", reveal_without_seal, "vote.reveal_sealed"),
    RuleKind("tally-miscounted", tally_miscounted, "decision.tally"),
    RuleKind("outcome-not-from-votes", outcome_not_from_votes, "decision.outcome"),
    RuleKind("decision-above-cap", decision_above_cap, "decision.cap"),
    RuleKind("panel-not-the-sortition", panel_not_sortition, "panel.sortition"),
    RuleKind("panel-seed-ground", panel_seed_ground, "panel.seed"),
    RuleKind("jury-pool-root-forged", jury_pool_forged, "jury.root"),
    RuleKind("payout-without-decision", payout_without_decision, "payout.decided"),
    RuleKind("payout-doubled", payout_doubled, "payout.once"),
    RuleKind("payout-above-cap", payout_above_cap, "payout.cap"),
    RuleKind("payout-not-as-decided", payout_not_as_decided, "payout.amount"),
    RuleKind("fee-inflated", fee_inflated, "period.fee"),
    RuleKind("share-wrong", share_wrong, "period.share"),
    RuleKind("sharing-count-wrong", sharing_count_wrong, "period.sharing"),
    RuleKind("surplus-vanished", surplus_vanished, "period.surplus"),
    RuleKind("roster-member-left-out", member_left_out, "period.roster"),
    RuleKind("roster-member-added", member_added, "period.roster"),
    RuleKind("claims-list-forged", claims_list_forged, "period.claims"),
    RuleKind("rule-change-backdated", rules_backdated, "rules.effective_future"),
    RuleKind("rule-change-applied-early", rules_applied_early, "period.fee"),
    RuleKind("refund-unwarranted", refund_unwarranted, "member.refund"),
    RuleKind("claim-band-younger", claim_band_younger, "claim.age_band"),
    RuleKind("notice-month-not-the-filings", notice_month_wrong, "notice.diagnosed_month"),
    RuleKind("notice-months-of-membership-inflated", notice_months_wrong, "notice.months_member"),
    RuleKind("notice-waiting-period-not-met", notice_waiting_denied, "notice.waiting_met"),
    RuleKind("notice-request-inflated", notice_requested_wrong, "notice.requested"),
    RuleKind("notice-capped-amount-wrong", notice_capped_wrong, "notice.capped"),
    RuleKind("notice-redacted-copies-miscounted", notice_redacted_short, "notice.redacted"),
    RuleKind("verifier-hash-of-nothing", verifier_hash_of_nothing, "verifier.hash"),
    RuleKind("verifier-hash-republished", verifier_hash_republished, "verifier.unchanged"),
]


@pytest.mark.parametrize("kind", RULE_KINDS, ids=lambda k: k.id)
def test_audit_names_the_rule_a_resigned_log_breaks(
    kind: RuleKind,
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    snapshot = forge_instance(demo, tmp_path, kind.forge(demo)).snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    result = mutualog("audit", snapshot, "--key", demo.instance.vkey, "--json")
    assert result.code == 1, result.err
    report = json_report(result)
    # Signed with the log key and well chained: only the rules can tell.
    assert all(c["ok"] for c in report["checks"]), report["checks"]
    assert report["rules"]["status"] == "failed"
    assert re.match(rf"entry \d+: rule {re.escape(kind.rule)}: ", report["rules"]["detail"])


def test_the_human_report_names_the_rule(
    demo: Demo, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    snapshot = forge_instance(demo, tmp_path, fee_inflated(demo)).snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    result = mutualog("audit", snapshot, "--key", demo.instance.vkey)
    assert result.code == 1
    assert re.search(r"^\[FAIL\] rules: entry \d+: rule period\.fee: ", result.out, re.M)
    assert result.out.rstrip().endswith("NOT VERIFIED")


def test_a_broken_chain_under_a_valid_signature(
    demo: Demo, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    """The operator signs a tree whose entries do not chain (one ``prev``
    points elsewhere): the tiles match the checkpoint, the chain does not."""
    entries = list(demo.log.entries)
    broken = demo.log.decoded[100]
    entries[100] = replace(broken, prev=label_hash("elsewhere")).to_bytes()
    log = publish(tmp_path / "forged", demo.log.key_file, entries, demo.log.signer)
    snapshot = log.snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    report = json_report(mutualog("audit", snapshot, "--key", demo.instance.vkey, "--json"))
    assert not report["verified"]
    (failed,) = [c for c in report["checks"] if not c["ok"]]
    assert failed["name"] == "tiles and entries"
    assert "entry 100: prev: chain broken" in failed["detail"]
