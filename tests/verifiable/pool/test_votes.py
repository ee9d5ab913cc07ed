"""verifiable.pool.votes: the sealed-vote commitment and the reveal check.

The reference commitment below follows docs/format.md (section 5) ("Sealed
votes") with the standard library's json instead of rfc8785 (for these
objects of strings and a small integer the two agree), and the recorded
vectors in tests/vectors/sortition-panels.json are checked against both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, RuleViolation, VerificationError
from verifiable.log.bodies import Choice, VoteRevealed, VoteSealed
from verifiable.pool.votes import DOMAIN, SALT_SIZE, canonical_vote, check_reveal, vote_commitment

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[2] / "vectors" / "sortition-panels.json").read_text("utf-8")
)["vote_commitments"]

CLAIM = "c1a1" * 8
JUROR = "7e57" * 8
SALT = bytes(range(32))
REASON = "Dates and diagnosis match the notice."


def ref_commitment(
    claim: str, round_: int, juror: str, choice: str, reason: str, salt: bytes
) -> bytes:
    vote = {"choice": choice, "claim": claim, "juror": juror, "reason": reason, "round": round_}
    canonical = json.dumps(vote, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"mutualog/vote/v1" + salt + canonical.encode("utf-8")).digest()


def _sealed_and_revealed(
    choice: Choice = Choice.APPROVE, reason: str = REASON, salt: bytes = SALT
) -> tuple[VoteSealed, VoteRevealed]:
    commitment = vote_commitment(CLAIM, 1, JUROR, choice, reason, salt)
    sealed = VoteSealed(claim=CLAIM, round=1, juror=JUROR, commitment=commitment)
    revealed = VoteRevealed(
        claim=CLAIM, round=1, juror=JUROR, choice=choice, reason=reason, salt=salt
    )
    return sealed, revealed


# --- vectors and the reference ------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vectors(vector: dict[str, Any]) -> None:
    args = (vector["claim"], vector["round"], vector["juror"])
    choice, reason, salt = Choice(vector["choice"]), vector["reason"], bytes.fromhex(vector["salt"])
    assert canonical_vote(*args, choice, reason) == vector["canonical_vote"].encode("utf-8")
    assert vote_commitment(*args, choice, reason, salt).hex() == vector["commitment"]
    assert ref_commitment(*args, vector["choice"], reason, salt).hex() == vector["commitment"]


def test_layout() -> None:
    assert DOMAIN == b"mutualog/vote/v1" and len(DOMAIN) == 16
    assert SALT_SIZE == 32
    body = canonical_vote(CLAIM, 3, JUROR, Choice.REJECT, "")
    assert body == (
        b'{"choice":"reject","claim":"' + CLAIM.encode() + b'","juror":"' + JUROR.encode() + b'",'
        b'"reason":"","round":3}'
    )
    want = hashlib.sha256(DOMAIN + SALT + body).digest()
    assert vote_commitment(CLAIM, 3, JUROR, Choice.REJECT, "", SALT) == want


@settings(max_examples=60, deadline=None)
@given(
    round_=st.integers(min_value=1, max_value=2**53 - 1),
    choice=st.sampled_from(Choice),
    reason=st.text(
        # What a vote reason may hold: no controls, no surrogates, none of the
        # bidirectional embeddings, overrides and isolates (U+202A-202E,
        # U+2066-2069) that the text fields refuse.
        st.characters(
            blacklist_categories=("Cc", "Cs"),
            blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
        ),
        max_size=40,
    ),
    salt=st.binary(min_size=32, max_size=32),
)
def test_matches_the_reference(round_: int, choice: Choice, reason: str, salt: bytes) -> None:
    got = vote_commitment(CLAIM, round_, JUROR, choice, reason, salt)
    assert got == ref_commitment(CLAIM, round_, JUROR, choice.value, reason, salt)


# --- binding: every field counts -----------------------------------------------------------------


def test_every_field_changes_the_commitment() -> None:
    base = vote_commitment(CLAIM, 1, JUROR, Choice.APPROVE, REASON, SALT)
    variants = {
        "claim": vote_commitment("c1a2" * 8, 1, JUROR, Choice.APPROVE, REASON, SALT),
        "round": vote_commitment(CLAIM, 2, JUROR, Choice.APPROVE, REASON, SALT),
        "juror": vote_commitment(CLAIM, 1, "7e58" * 8, Choice.APPROVE, REASON, SALT),
        "choice": vote_commitment(CLAIM, 1, JUROR, Choice.REJECT, REASON, SALT),
        "reason": vote_commitment(CLAIM, 1, JUROR, Choice.APPROVE, REASON + ".", SALT),
        "empty reason": vote_commitment(CLAIM, 1, JUROR, Choice.APPROVE, "", SALT),
    }
    for i in range(SALT_SIZE):
        salt = bytearray(SALT)
        salt[i] ^= 0x80
        variants[f"salt byte {i}"] = vote_commitment(
            CLAIM, 1, JUROR, Choice.APPROVE, REASON, bytes(salt)
        )
    assert base not in variants.values()
    assert len(set(variants.values())) == len(variants)


def test_choice_may_be_given_as_its_string() -> None:
    # Choice is a StrEnum; the committed form is its value either way.
    by_enum = vote_commitment(CLAIM, 1, JUROR, Choice.APPROVE, REASON, SALT)
    assert vote_commitment(CLAIM, 1, JUROR, "approve", REASON, SALT) == by_enum  # type: ignore[arg-type]


# --- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"salt": b"\x00" * 31}, r"vote\.salt: expected 32 bytes, got 31 bytes"),
        ({"salt": b"\x00" * 33}, r"vote\.salt: expected 32 bytes, got 33 bytes"),
        ({"salt": "00" * 32}, r"vote\.salt: expected 32 bytes, got str"),
        ({"claim": "C" * 32}, r"vote\.claim: expected an id of 32 lowercase hex"),
        ({"juror": "abc"}, r"vote\.juror: expected an id of 32 lowercase hex"),
        ({"round": 0}, r"vote\.round: .*got 0"),
        ({"round": True}, r"vote\.round: .*got true"),
        ({"choice": "maybe"}, r"vote\.choice: expected one of approve, reject"),
        ({"reason": "x" * 501}, r"vote\.reason: expected a text of 0 to 500 characters, got 501"),
        ({"reason": "a\x07b"}, r"vote\.reason: control character U\+0007 at position 1"),
        ({"reason": "a\u202eb"}, r"vote\.reason: control character U\+202E"),
    ],
    ids=lambda v: str(v)[:24] if isinstance(v, dict) else "",
)
def test_refuses_malformed(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {
        "claim": CLAIM,
        "round": 1,
        "juror": JUROR,
        "choice": Choice.APPROVE,
        "reason": REASON,
        "salt": SALT,
    }
    args.update(kwargs)
    with pytest.raises(MalformedError, match=match):
        vote_commitment(**args)


# --- reveals -------------------------------------------------------------------------------------


def test_honest_reveal_passes() -> None:
    sealed, revealed = _sealed_and_revealed()
    check_reveal(sealed, revealed)
    sealed, revealed = _sealed_and_revealed(Choice.REJECT, "")
    check_reveal(sealed, revealed, seq=12)


@settings(max_examples=30, deadline=None)
@given(choice=st.sampled_from(Choice), salt=st.binary(min_size=32, max_size=32))
def test_honest_reveals_pass(choice: Choice, salt: bytes) -> None:
    sealed, revealed = _sealed_and_revealed(choice, "ok", salt)
    check_reveal(sealed, revealed)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"claim": "c1a2" * 8}, r"the reveal's claim differs .*expected c1a1c1a1.*got c1a2c1a2"),
        ({"round": 2}, r"the reveal's round differs .*expected 1, got 2"),
        ({"juror": "7e58" * 8}, r"the reveal's juror differs .*expected 7e577e57.*got 7e587e58"),
    ],
    ids=["claim", "round", "juror"],
)
def test_reveal_for_another_vote_is_refused(change: dict[str, Any], match: str) -> None:
    sealed, revealed = _sealed_and_revealed()
    with pytest.raises(RuleViolation, match=match) as e:
        check_reveal(sealed, dataclasses.replace(revealed, **change), seq=41)
    assert e.value.rule == "vote.reveal_matches"
    assert e.value.seq == 41
    assert str(e.value).startswith("entry 41: rule vote.reveal_matches: ")


@pytest.mark.parametrize(
    "change",
    [
        {"choice": Choice.REJECT},
        {"reason": REASON + " "},
        {"reason": ""},
        {"salt": bytes(31) + b"\x01"},
        {"salt": SALT[:-1] + bytes([SALT[-1] ^ 1])},
    ],
    ids=["choice", "reason", "empty-reason", "salt", "salt-last-bit"],
)
def test_reveal_that_does_not_open_the_commitment_is_refused(change: dict[str, Any]) -> None:
    sealed, revealed = _sealed_and_revealed()
    bad = dataclasses.replace(revealed, **change)
    computed = vote_commitment(CLAIM, 1, JUROR, bad.choice, bad.reason, bad.salt)
    with pytest.raises(RuleViolation, match=r"does not open the sealed commitment") as e:
        check_reveal(sealed, bad)
    assert e.value.rule == "vote.reveal_matches"
    assert e.value.expected == f"commitment {sealed.commitment.hex()}"
    assert e.value.actual == f"commitment {computed.hex()}"
    assert sealed.commitment.hex() in str(e.value) and computed.hex() in str(e.value)
    assert isinstance(e.value, VerificationError)


def test_tampered_commitment_is_refused() -> None:
    sealed, revealed = _sealed_and_revealed()
    for i in (0, 31):
        commitment = bytearray(sealed.commitment)
        commitment[i] ^= 1
        tampered = dataclasses.replace(sealed, commitment=bytes(commitment))
        with pytest.raises(RuleViolation, match=rf"expected commitment {bytes(commitment).hex()}"):
            check_reveal(tampered, revealed)
