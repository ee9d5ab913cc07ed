"""verifiable.log.witness_policy: K of N trusted witnesses, and no policy that
is trivially valid."""

from __future__ import annotations

import pytest

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    cosign_checkpoint,
    open_checkpoint,
    sign_checkpoint,
)
from verifiable.log.cosignature import (
    MAX_CLOCK_SKEW,
    CosignatureSigner,
    CosignatureVerifier,
    check_not_future,
)
from verifiable.log.note import Ed25519Signer
from verifiable.log.witness_policy import WitnessPolicy

ORIGIN = "example.org/mutualog/witnessed"
LOG = Ed25519Signer(ORIGIN, bytes(32))
WITNESSES = [CosignatureSigner(f"w{i}", bytes([i]) * 32) for i in (1, 2, 3)]
TRUSTED = tuple(w.verifier() for w in WITNESSES)
NOTE = sign_checkpoint(Checkpoint(ORIGIN, 5, bytes(range(32))), LOG)
NOW = 1_700_000_100


def _signed(
    *cosigners: CosignatureSigner, trusted: tuple[CosignatureVerifier, ...] = TRUSTED
) -> SignedCheckpoint:
    note = NOTE
    for i, w in enumerate(cosigners):
        note = cosign_checkpoint(note, w, 1_700_000_000 + i)
    return open_checkpoint(note, LOG.verifier(), ORIGIN, trusted)


@pytest.mark.parametrize(
    ("cosigners", "required", "detail"),
    [
        ((0, 1), 2, "2 of 3 trusted witnesses cosigned (w1, w2); 2 required"),
        ((0, 1, 2), 2, "3 of 3 trusted witnesses cosigned (w1, w2, w3); 2 required"),
        ((2,), 1, "1 of 3 trusted witnesses cosigned (w3); 1 required"),
    ],
)
def test_enough_witnesses_pass_and_say_who(
    cosigners: tuple[int, ...], required: int, detail: str
) -> None:
    policy = WitnessPolicy(TRUSTED, required)
    assert policy.verify(_signed(*(WITNESSES[i] for i in cosigners)), now=NOW) == detail


@pytest.mark.parametrize(
    ("cosigners", "required", "detail"),
    [
        ((), 1, "0 of 3 trusted witnesses cosigned; 1 required"),
        ((0,), 2, r"1 of 3 trusted witnesses cosigned \(w1\); 2 required"),
        ((0, 1), 3, r"2 of 3 trusted witnesses cosigned \(w1, w2\); 3 required"),
    ],
)
def test_too_few_witnesses_fail_saying_how_many(
    cosigners: tuple[int, ...], required: int, detail: str
) -> None:
    policy = WitnessPolicy(TRUSTED, required)
    with pytest.raises(VerificationError, match=f"^{detail}$"):
        policy.verify(_signed(*(WITNESSES[i] for i in cosigners)), now=NOW)


def test_only_the_policys_own_witnesses_count() -> None:
    # Opened with all three trusted, but the policy trusts only w1 and w2.
    signed = _signed(WITNESSES[1], WITNESSES[2])
    policy = WitnessPolicy(TRUSTED[:2], 2)
    with pytest.raises(VerificationError, match=r"^1 of 2 trusted witnesses cosigned \(w2\)"):
        policy.verify(signed, now=NOW)


def test_a_witness_key_of_the_same_name_but_another_key_does_not_count() -> None:
    impostor = CosignatureSigner("w1", bytes([9]) * 32)
    signed = _signed(impostor, trusted=(impostor.verifier(),))
    with pytest.raises(VerificationError, match="0 of 3"):
        WitnessPolicy(TRUSTED, 1).verify(signed, now=NOW)


@pytest.mark.parametrize(
    ("witnesses", "required", "message"),
    [
        ((), 0, "0 of 0 witnesses required"),
        (TRUSTED, 0, "0 of 3 witnesses required"),
        (TRUSTED, 4, "4 of 3 witnesses required"),
        (TRUSTED[:1], -1, "-1 of 1 witnesses required"),
        (TRUSTED[:1], True, "True of 1 witnesses required"),
        ((TRUSTED[0], TRUSTED[0]), 1, "a witness name appears twice"),
    ],
    ids=["empty", "none required", "more than trusted", "negative", "bool", "twice"],
)
def test_a_policy_that_cannot_hold_or_always_holds_cannot_be_made(
    witnesses: tuple[CosignatureVerifier, ...], required: int, message: str
) -> None:
    with pytest.raises(MalformedError, match=message):
        WitnessPolicy(witnesses, required)


def test_no_witness_required_is_no_policy() -> None:
    assert WitnessPolicy.of(TRUSTED, 0) is None
    assert WitnessPolicy.of([], 0) is None
    assert WitnessPolicy.of(TRUSTED, 2) == WitnessPolicy(TRUSTED, 2)


def test_a_cosignature_from_the_future_fails_the_checkpoint() -> None:
    w1, w2 = WITNESSES[0], WITNESSES[1]
    note = cosign_checkpoint(cosign_checkpoint(NOTE, w1, NOW), w2, NOW + MAX_CLOCK_SKEW + 1)
    signed = open_checkpoint(note, LOG.verifier(), ORIGIN, TRUSTED)
    policy = WitnessPolicy(TRUSTED, 1)
    # w1 alone would be enough, but a trusted witness dating the future is refused.
    with pytest.raises(
        VerificationError,
        match=rf"^cosignature by w2\+{w2.key_id:08x}: timestamp {NOW + 61} is 61 s in the future "
        rf"\(now {NOW}, 60 s of clock skew allowed\)$",
    ):
        policy.verify(signed, now=NOW)
    # The same note is fine once that time has come, and within the skew.
    assert policy.verify(signed, now=NOW + 1).startswith("2 of 3")


def test_the_future_of_an_untrusted_witness_is_not_our_business() -> None:
    note = cosign_checkpoint(NOTE, WITNESSES[2], NOW + 10_000)
    signed = open_checkpoint(note, LOG.verifier(), ORIGIN, TRUSTED)
    with pytest.raises(VerificationError, match=r"^0 of 2 trusted"):
        WitnessPolicy(TRUSTED[:2], 1).verify(signed, now=NOW)


def test_check_not_future_at_the_edge() -> None:
    signed = _signed(WITNESSES[0])  # timestamp 1_700_000_000
    (cosignature,) = signed.cosignatures
    check_not_future([cosignature], 1_700_000_000 - MAX_CLOCK_SKEW)
    check_not_future([cosignature], 1_700_000_000, skew=0)
    with pytest.raises(VerificationError, match="1 s in the future"):
        check_not_future([cosignature], 1_700_000_000 - 1, skew=0)
