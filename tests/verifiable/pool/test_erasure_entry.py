"""``data.erased``: the body's bounds, and the rules replay holds it to —
the subject is a member or claim the log knows, a claim's documents are at
most those it was filed with, and each subject's data is erased once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.verifiable.pool.pool_builder import START, PoolBuilder
from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import DataErased, ErasedKind, parse_body
from verifiable.log.entry import GENESIS_PREV, make_entry
from verifiable.pool.replay import Replayer, replay

ID = "0123456789abcdef0123456789abcdef"
VALID: dict[str, Any] = {
    "kind": "evidence",
    "subject": ID,
    "documents": 2,
    "reason": "Erased at the claimant's request.",
}


def test_a_valid_body_round_trips() -> None:
    body = parse_body("data.erased", copy.deepcopy(VALID), "body")
    assert body == DataErased(ErasedKind.EVIDENCE, ID, 2, "Erased at the claimant's request.")
    assert body.to_json() == VALID


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "account"}, r"body\.kind: expected one of member, evidence"),
        ({"subject": "ABC"}, r"body\.subject: expected"),
        ({"documents": -1}, r"body\.documents: expected"),
        ({"documents": 33}, r"body\.documents: expected"),
        ({"documents": 0}, r"body\.documents: expected 1 to 32 for kind evidence, got 0"),
        ({"kind": "member"}, r"body\.documents: expected 0 for kind member, got 2"),
        ({"reason": ""}, r"body\.reason: expected a text of 1 to 500 characters, got 0"),
        ({"reason": "x" * 501}, r"body\.reason: expected a text of 1 to 500 characters"),
        ({"reason": "two\nlines"}, r"body\.reason: control character U\+000A"),
        ({"extra": 1}, r"body: unknown field"),
    ],
    ids=[
        "unknown-kind",
        "bad-subject",
        "negative-documents",
        "too-many-documents",
        "evidence-without-documents",
        "member-with-documents",
        "empty-reason",
        "long-reason",
        "multiline-reason",
        "unknown-field",
    ],
)
def test_malformed_bodies_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        parse_body("data.erased", {**VALID, **changes}, "body")


@pytest.fixture
def pool() -> tuple[PoolBuilder, str, str]:
    """A pool with a member who filed a claim (one evidence document) and left."""
    b = PoolBuilder()
    b.jurors(3)
    member = b.join()
    b.tick(days=11)
    claim = b.file(member)
    b.leave(member)
    return b, member, claim


def _erase(kind: ErasedKind, subject: str, documents: int) -> DataErased:
    return DataErased(kind, subject, documents, "Erased on request.")


def test_erasures_of_known_subjects_are_recorded(pool: tuple[PoolBuilder, str, str]) -> None:
    b, member, claim = pool
    before = b.state.claim(claim)
    member_seq = b.push(_erase(ErasedKind.MEMBER, member, 0))  # a member who has left
    evidence_seq = b.push(_erase(ErasedKind.EVIDENCE, claim, 1))
    state = replay(b.entries).state
    record = state.erasures[(ErasedKind.MEMBER, member)]
    assert (record.seq, record.subject, record.documents) == (member_seq, member, 0)
    assert state.erasures[(ErasedKind.EVIDENCE, claim)].seq == evidence_seq
    # The claim itself is untouched: an erasure changes no public figure.
    assert state.claim(claim) == before


@pytest.mark.parametrize(
    ("kind", "subject", "documents", "rule", "message"),
    [
        (ErasedKind.MEMBER, "f" * 32, 0, "erasure.subject", "never joined the pool"),
        (ErasedKind.EVIDENCE, "f" * 32, 1, "erasure.subject", "was never filed"),
        (ErasedKind.EVIDENCE, None, 2, "erasure.documents", "expected at most 1, got 2"),
        (ErasedKind.MEMBER, "claim", 0, "erasure.subject", "never joined the pool"),
    ],
    ids=["unknown-member", "unknown-claim", "more-documents-than-filed", "claim-id-as-member"],
)
def test_erasures_of_unknown_subjects_are_refused(
    pool: tuple[PoolBuilder, str, str],
    kind: ErasedKind,
    subject: str | None,
    documents: int,
    rule: str,
    message: str,
) -> None:
    b, _, claim = pool
    target = claim if subject in (None, "claim") else subject
    assert target is not None
    size = b.size
    data = b.make(_erase(kind, target, documents))
    with pytest.raises(RuleViolation, match=rf"entry {size}: rule {rule}: .*{message}"):
        b.feed(data)
    assert b.size == size and not b.state.erasures


@pytest.mark.parametrize("kind", list(ErasedKind))
def test_a_subject_is_erased_once(pool: tuple[PoolBuilder, str, str], kind: ErasedKind) -> None:
    b, member, claim = pool
    subject, documents = (member, 0) if kind is ErasedKind.MEMBER else (claim, 1)
    first = b.push(_erase(kind, subject, documents))
    data = b.make(_erase(kind, subject, documents))
    with pytest.raises(
        RuleViolation, match=rf"rule erasure\.once: .*already erased in entry {first}"
    ):
        b.feed(data)


def test_an_erasure_needs_the_rulebook_first() -> None:
    entry = make_entry(0, GENESIS_PREV, START, "data.erased", _erase(ErasedKind.MEMBER, ID, 0))
    with pytest.raises(RuleViolation, match=r"entry 0: rule rules\.genesis: .*got data\.erased"):
        Replayer().feed(entry.to_bytes())
