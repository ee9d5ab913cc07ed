"""The tamper suite: a member's checks, ``verify-deduction`` and ``verify-claim``.

A dishonest server serves the bundles of its dishonest log: ``mutualog-server
serve`` over the re-signed instance builds them from the forged entries, as
it does for an honest log.  The member runs ``trust``, ``fetch`` (which
syncs) and, with every socket refused, ``verify-deduction`` or
``verify-claim``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.client.harness import Mutualog, Result
from tests.client.tamper.honest import ORIGIN, json_report
from tests.client.tamper.lies import Liars


def _verify_deduction(
    mutualog: Mutualog,
    url: str,
    member: str,
    period: date,
    out: Path,
    request: pytest.FixtureRequest,
    sample: int = 64,
) -> Result:
    """What the member runs: trust, fetch (which syncs), then verify offline."""
    fetched = mutualog(
        "fetch",
        "deduction",
        url,
        "--member",
        member,
        "--period",
        period,
        "--sample",
        sample,
        "-o",
        out,
    )
    assert fetched.code == 0, fetched.out + fetched.err
    request.getfixturevalue("offline")
    return mutualog(
        "verify-deduction", "--member", member, "--period", period, "--bundle", out, "--json"
    )


def _verify_claim(
    mutualog: Mutualog, url: str, claim: str, out: Path, request: pytest.FixtureRequest
) -> Result:
    fetched = mutualog("fetch", "claim", claim, url, "-o", out)
    assert fetched.code == 0, fetched.out + fetched.err
    request.getfixturevalue("offline")
    return mutualog("verify-claim", claim, "--bundle", out, "--json")


@dataclass(frozen=True)
class MemberKind:
    """A lie a member's ``verify-deduction`` (or ``verify-claim``) names."""

    id: str
    lie: str
    check: str
    detail: str


DEDUCTION_KINDS = [
    MemberKind("member-share-wrong", "share", "share", "share is not the rules' formula"),
    MemberKind("member-fee-inflated", "fee", "share", "fee is not the rules' formula"),
    MemberKind(
        "member-sharing-count-wrong", "sharing", "share", "sharing is not the rules' formula"
    ),
    MemberKind(
        "member-surplus-vanished",
        "surplus",
        "surplus",
        "surplus_in is not the previous surplus_out",
    ),
    MemberKind("member-left-out-of-roster", "left-out", "roster", "roster membership of"),
    MemberKind("member-added-to-roster", "added", "roster", "roster membership of"),
    MemberKind(
        "member-paid-list-not-claims-root",
        "claims-root",
        "paid claims",
        "the paid list does not match claims_root",
    ),
    MemberKind(
        "member-paid-list-not-claims-total",
        "claims-total",
        "paid claims",
        "the paid list does not match claims_total",
    ),
    MemberKind("member-sampled-panel-not-the-sortition", "panel", "sortition", "is not the draw"),
    MemberKind(
        "member-sampled-tally-not-the-reveals",
        "tally",
        "decision",
        "the tally is not the count of the revealed votes",
    ),
    MemberKind(
        "member-sampled-payout-above-decision",
        "payout-above-decision",
        "payout",
        "the payout is not the amount decided",
    ),
    MemberKind("member-sampled-payout-doubled", "payout-doubled", "payout", "a second payout"),
    MemberKind(
        "member-sampled-payout-without-decision",
        "payout-without-decision",
        "payout",
        "a payout of a claim not approved",
    ),
]

CLAIM_KINDS = [
    # Lies shared with the deduction kinds come first, in the same order, so
    # each dishonest server is started once.
    MemberKind("claim-panel-not-the-sortition", "panel", "sortition", "is not the draw"),
    MemberKind(
        "claim-tally-not-the-reveals",
        "tally",
        "decision",
        "the tally is not the count of the revealed votes",
    ),
    MemberKind("claim-payout-doubled", "payout-doubled", "payout", "a second payout"),
    MemberKind(
        "claim-payout-without-decision",
        "payout-without-decision",
        "payout",
        "a payout of a claim not approved",
    ),
    MemberKind(
        "claim-seed-ground",
        "seed",
        "seed",
        "the seed is not the one the witnessed checkpoint gives",
    ),
    MemberKind("claim-reveal-altered", "reveal", "votes", "vote.reveal_matches"),
    MemberKind(
        "claim-vote-by-non-juror", "non-juror", "votes", "a vote by a juror not on the panel"
    ),
    MemberKind(
        "claim-outcome-not-from-votes",
        "outcome",
        "decision",
        "the outcome is not what the votes give",
    ),
    MemberKind(
        "claim-decision-above-cap", "decision-cap", "decision", "the amount is not the notice's"
    ),
    MemberKind(
        "claim-payout-above-cap", "payout-cap", "payout", "the payout is not the amount decided"
    ),
]


def _failed(result: Result) -> dict[str, dict[str, Any]]:
    report = json_report(result)
    assert report["verified"] is False
    checks = {c["name"]: c for c in report["checks"]}
    # Signed with the log key, proven in the tree the member synced: it is
    # the log that lies, not the proofs.
    for name in ("checkpoint", "synced", "inclusion"):
        assert checks[name]["ok"], checks[name]
    return {name: c for name, c in checks.items() if not c["ok"]}


@pytest.mark.parametrize("kind", DEDUCTION_KINDS, ids=lambda k: k.id)
def test_verify_deduction_catches_a_lie_in_the_served_log(
    kind: MemberKind,
    liars: Liars,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    told = liars.lie(kind.lie)
    url = liars.url(kind.lie)
    assert mutualog("trust", ORIGIN, liars.demo.instance.vkey).code == 0
    result = _verify_deduction(
        mutualog, url, told.member, told.period, tmp_path / "bundle.json", request
    )
    assert result.code == 1, result.out + result.err
    failed = _failed(result)
    assert kind.check in failed, (kind.check, failed)
    assert kind.detail in failed[kind.check]["detail"], failed[kind.check]
    if told.claim:
        assert told.claim in json_report(result)["sample"]
        assert told.claim in failed[kind.check]["where"]


@pytest.mark.parametrize("kind", CLAIM_KINDS, ids=lambda k: k.id)
def test_verify_claim_catches_a_lie_in_the_served_log(
    kind: MemberKind,
    liars: Liars,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    told = liars.lie(kind.lie)
    url = liars.url(kind.lie)
    assert mutualog("trust", ORIGIN, liars.demo.instance.vkey).code == 0
    result = _verify_claim(mutualog, url, told.claim, tmp_path / "claim.json", request)
    assert result.code == 1, result.out + result.err
    failed = _failed(result)
    assert kind.check in failed, (kind.check, failed)
    assert kind.detail in failed[kind.check]["detail"], failed[kind.check]
    assert told.claim in failed[kind.check]["where"]
