"""The tamper suite: what an operator does to a juror's vote, caught by
``mutualog verify-receipt --log`` from the juror's receipt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.client.harness import Mutualog
from tests.client.tamper.forgeries import Forge, notice_amount, put
from tests.client.tamper.honest import Demo, forge_instance, json_report
from tests.client.tampering import Item, at, decided_outcome, find, find_all, panel_of
from verifiable.log.bodies import Choice, ClaimDecided, VoteRevealed


def _juror_round(demo: Demo) -> tuple[int, int, int]:
    """Indices of the juror's sealed vote, its reveal and the round's decision."""
    e = demo.log.decoded
    receipt = json.loads(demo.receipt.read_text())
    sealed = receipt["leaf_index"]
    reveal = find(e, VoteRevealed, lambda b: (b.claim, b.juror) == (demo.claim, demo.juror))
    decision = find_all(e, ClaimDecided, lambda b: b.claim == demo.claim)[-1]
    return sealed, reveal, decision


def sealed_vote_dropped(d: Demo) -> list[Item]:
    sealed, _, _ = _juror_round(d)
    items = d.log.items()
    del items[sealed]
    return items


def reveal_dropped(d: Demo) -> list[Item]:
    """The juror's reveal withheld and the decision made without it, by the
    rules: a vote sealed but not revealed does not count."""
    e = d.log.decoded
    _, reveal, decision = _juror_round(d)
    body = at(e, decision, ClaimDecided)
    panel = panel_of(e, decision)
    approvals = body.approvals - 1  # the juror approved
    outcome, amount = decided_outcome(
        approvals, body.rejections, len(panel.jurors), notice_amount(e, body.claim)
    )
    items = put(
        d.log.items(),
        decision,
        replace(body, approvals=approvals, outcome=outcome, amount=amount),
    )
    del items[reveal]
    return items


def reveal_altered(d: Demo) -> list[Item]:
    e = d.log.decoded
    _, reveal, _ = _juror_round(d)
    return put(d.log.items(), reveal, replace(at(e, reveal, VoteRevealed), choice=Choice.REJECT))


def tally_omits_vote(d: Demo) -> list[Item]:
    e = d.log.decoded
    _, _, decision = _juror_round(d)
    body = at(e, decision, ClaimDecided)
    return put(d.log.items(), decision, replace(body, approvals=body.approvals - 1))


@dataclass(frozen=True)
class JurorKind:
    id: str
    forge: Forge
    check: str
    detail: str


JUROR_KINDS = [
    JurorKind("sealed-vote-dropped", sealed_vote_dropped, "consistency", "the log forked"),
    JurorKind("reveal-withheld", reveal_dropped, "reveal", "the sealed vote was dropped"),
    JurorKind("juror-reveal-altered", reveal_altered, "reveal", "rule vote.reveal_matches"),
    JurorKind("tally-omits-the-vote", tally_omits_vote, "tally", "reveals give"),
]


@pytest.mark.parametrize("kind", JUROR_KINDS, ids=lambda k: k.id)
def test_verify_receipt_catches_what_was_done_to_a_vote(
    kind: JurorKind,
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    snapshot = forge_instance(demo, tmp_path, kind.forge(demo)).snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    result = mutualog(
        "verify-receipt", demo.receipt, "--key", demo.instance.vkey, "--log", snapshot, "--json"
    )
    assert result.code == 1, result.out + result.err
    checks = {c["name"]: c for c in json_report(result)["checks"]}
    assert checks[kind.check]["status"] == "FAIL", checks
    assert kind.detail in checks[kind.check]["detail"]
    # The offline checks of the receipt itself still pass: it is the log that lies.
    for name in ("checkpoint", "sealed entry", "inclusion", "commitment"):
        assert checks[name]["status"] == "ok"


def test_a_withheld_reveal_is_only_visible_to_the_juror(
    demo: Demo, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    """The rules cannot tell a reveal the operator withheld from a juror who
    never revealed: the re-signed log replays cleanly.  The juror's receipt
    is what proves the vote was sealed (see docs/tamper-suite.md)."""
    snapshot = forge_instance(demo, tmp_path, reveal_dropped(demo)).snapshot(
        tmp_path / "forged.tar"
    )
    request.getfixturevalue("offline")
    assert mutualog("audit", snapshot, "--key", demo.instance.vkey).code == 0
