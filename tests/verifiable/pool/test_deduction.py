"""verify-deduction's checks (verifiable.pool.deduction): an honest bundle passes,
and every single-field change to a bundle, or to the log behind it, fails
the check that owns the field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.verifiable.pool.bundle_pool import ORIGIN, Pool, forged, pool
from verifiable.log.bodies import PeriodClosed
from verifiable.log.bundle import Bundle, BundleEntry, Deduction, JurorLeaf, SeedProof, parse_bundle
from verifiable.log.merkle import root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.pool.deduction import DeductionResult, check_deduction
from verifiable.pool.roster import paid_claim_leaf


def _check(bundle: Bundle, p: Pool | None = None) -> DeductionResult:
    p = p or pool()
    assert bundle.deduction is not None
    return check_deduction(
        bundle, p.verifier, ORIGIN, bundle.deduction.member, bundle.deduction.period
    )


def _failed(result: DeductionResult) -> set[str]:
    return {f.name for f in result.findings if not f.ok}


def test_honest_bundle_passes() -> None:
    result = _check(pool().deduction())
    assert result.ok, [f for f in result.findings if not f.ok]
    names = [f.name for f in result.findings]
    for name in (
        "checkpoint",
        "inclusion",
        "rules",
        "period entry",
        "roster",
        "paid claims",
        "surplus",
        "share",
        "sortition",
        "votes",
        "decision",
        "payout",
        "sample payout",
        "sample",
    ):
        assert name in names
    assert result.closed is not None and result.closed.share > 0


@pytest.mark.parametrize("member_index", [0, 1, -1])
def test_every_roster_position(member_index: int) -> None:
    assert _check(pool().deduction(member_index=member_index)).ok


def test_every_period_passes() -> None:
    p = pool()
    for period in p.index.closed:
        roster = p.roster(period)
        from verifiable.pool.bundle_builder import deduction_bundle

        bundle = deduction_bundle(
            p.index,
            p.source,
            len(p.entries),
            p.note,
            roster[-1],
            period,
            roster,
            [c for c, _ in p.index.paid.get(period, [])],
        )
        result = _check(bundle)
        assert result.ok, (period, [f for f in result.findings if not f.ok])


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def _flip_proof(proof: tuple[bytes, ...], i: int) -> tuple[bytes, ...]:
    return (*proof[:i], _flip(proof[i]), *proof[i + 1 :])


def _mutations(bundle: Bundle) -> list[tuple[str, Bundle, str]]:
    """(id, mutated bundle, the check that must fail) for one change each."""
    out: list[tuple[str, Bundle, str]] = []
    d = bundle.deduction
    assert d is not None

    def with_entry(i: int, e: BundleEntry) -> Bundle:
        entries = list(bundle.entries)
        entries[i] = e
        return replace(bundle, entries=tuple(entries))

    for i, e in enumerate(bundle.entries):
        data = e.data[:20] + bytes([e.data[20] ^ 1]) + e.data[21:]
        out.append((f"entry {e.index} bytes", with_entry(i, replace(e, data=data)), "inclusion"))
        out.append(
            (f"entry {e.index} index", with_entry(i, replace(e, index=e.index + 1)), "inclusion")
        )
        for j in {0, len(e.proof) - 1}:
            out.append(
                (
                    f"entry {e.index} proof {j}",
                    with_entry(i, replace(e, proof=_flip_proof(e.proof, j))),
                    "inclusion",
                )
            )
        out.append(
            (
                f"entry {e.index} proof short",
                with_entry(i, replace(e, proof=e.proof[:-1])),
                "inclusion",
            )
        )
    for i, s in enumerate(bundle.consistency):
        seeds = list(bundle.consistency)
        seeds[i] = SeedProof(s.size, _flip_proof(s.proof, 0))
        out.append((f"seed {s.size} proof", replace(bundle, consistency=tuple(seeds)), "seed"))
    for i, j in enumerate(bundle.jurors):
        jurors = list(bundle.jurors)
        jurors[i] = JurorLeaf(j.pool, j.index, j.member, _flip_proof(j.proof, 0))
        out.append((f"juror {i} proof", replace(bundle, jurors=tuple(jurors)), "sortition"))
        jurors[i] = JurorLeaf(j.pool, j.index, "f" * 32, j.proof)
        out.append((f"juror {i} member", replace(bundle, jurors=tuple(jurors)), "sortition"))

    def with_d(**changes: object) -> Bundle:
        return replace(bundle, deduction=replace(d, **changes))

    out.append(("roster index", with_d(roster_index=d.roster_index + 1), "roster"))
    for j in range(len(d.roster_proof)):
        out.append(
            (f"roster proof {j}", with_d(roster_proof=_flip_proof(d.roster_proof, j)), "roster")
        )
    for k, (claim, amount) in enumerate(d.paid):
        paid = list(d.paid)
        paid[k] = (claim, amount + 1)
        out.append((f"paid {k} amount", with_d(paid=tuple(paid)), "paid claims"))
        paid[k] = ("0" * 32, amount)
        out.append((f"paid {k} claim", with_d(paid=tuple(paid)), "paid claims"))
    out.append(("paid dropped", with_d(paid=d.paid[1:]), "paid claims"))
    out.append(("paid reordered", with_d(paid=d.paid[::-1]), "paid claims"))
    unsampled = next(c for c, _ in d.paid if c not in bundle.claims)
    out.append(
        ("sample swapped", replace(bundle, claims=(unsampled, *bundle.claims[1:])), "claim filed")
    )
    out.append(("sample not paid", replace(bundle, claims=("0" * 32,)), "sample"))
    note = bundle.checkpoint.replace(b"\n", b"\n ", 1)
    out.append(("checkpoint text", replace(bundle, checkpoint=note), "checkpoint"))
    other = Ed25519Signer(ORIGIN, bytes(32))
    from verifiable.log.checkpoint import Checkpoint, sign_checkpoint

    text = bundle.checkpoint.decode().split("\n\n")[0] + "\n"
    resigned = sign_checkpoint(Checkpoint.from_text(text), other)
    out.append(("checkpoint key", replace(bundle, checkpoint=resigned), "checkpoint"))
    return out


_BUNDLE = pool().deduction()
_MUTATIONS = _mutations(_BUNDLE)


@pytest.mark.parametrize(
    ("bundle", "check"), [(b, c) for _, b, c in _MUTATIONS], ids=[i for i, _, _ in _MUTATIONS]
)
def test_bundle_mutation_fails(bundle: Bundle, check: str) -> None:
    result = _check(bundle)
    assert not result.ok
    assert check in _failed(result)
    failed = next(f for f in result.findings if f.name == check)
    assert failed.detail and failed.expected


def test_dropped_entries_fail() -> None:
    for i in range(len(_BUNDLE.entries)):
        bundle = replace(_BUNDLE, entries=_BUNDLE.entries[:i] + _BUNDLE.entries[i + 1 :])
        assert not _check(bundle).ok, f"dropping entry {_BUNDLE.entries[i].index} went unseen"


def test_wrong_member_or_period() -> None:
    p = pool()
    d = _BUNDLE.deduction
    assert d is not None
    result = check_deduction(_BUNDLE, p.verifier, ORIGIN, "0" * 32, d.period)
    assert _failed(result) == {"period entry"}


def _period_seq() -> int:
    p = pool()
    return p.index.closed[p.paid_period()][0]


def _previous_seq() -> int:
    p = pool()
    period = p.paid_period()
    return p.index.closed[max(q for q in p.index.closed if q < period)][0]


FORGED: list[tuple[str, Callable[[PeriodClosed], dict[str, object]], str]] = [
    ("share", lambda b: {"share": b.share + 1}, "share"),
    ("fee", lambda b: {"fee": b.fee + 1}, "share"),
    ("fee rate", lambda b: {"fee_rate_bp": b.fee_rate_bp + 1}, "share"),
    ("collected", lambda b: {"collected": b.collected + 1}, "share"),
    ("surplus out", lambda b: {"surplus_out": b.surplus_out + 1}, "share"),
    ("sharing", lambda b: {"sharing": b.sharing + 1}, "share"),
    ("refunds", lambda b: {"refunds": b.refunds + 1000}, "share"),
    ("surplus in", lambda b: {"surplus_in": b.surplus_in - 1}, "surplus"),
    ("claims total", lambda b: {"claims_total": b.claims_total + 1}, "paid claims"),
    ("claims count", lambda b: {"claims_count": b.claims_count - 1}, "paid claims"),
    ("claims root", lambda b: {"claims_root": _flip(b.claims_root)}, "paid claims"),
    ("roster root", lambda b: {"roster_root": _flip(b.roster_root)}, "roster"),
    # An inclusion proof binds its tree size only through the root, and some
    # leaves have the same path in trees of n and n+1 leaves: the size is
    # bound by the share's formula (sharing = roster_size) instead.
    ("roster size", lambda b: {"roster_size": b.roster_size + 1}, "share"),
]


@pytest.mark.parametrize(
    ("change", "check"), [(c, k) for _, c, k in FORGED], ids=[i for i, _, _ in FORGED]
)
def test_forged_period_entry_fails(
    change: Callable[[PeriodClosed], dict[str, object]], check: str
) -> None:
    seq = _period_seq()
    body = pool().decoded[seq].body
    assert isinstance(body, PeriodClosed)
    p = forged(seq, **change(body))
    result = _check(p.deduction(), p)
    assert check in _failed(result), result.findings


def test_forged_previous_surplus_fails() -> None:
    seq = _previous_seq()
    body = pool().decoded[seq].body
    assert isinstance(body, PeriodClosed)
    p = forged(seq, surplus_out=body.surplus_out + 7)
    assert "surplus" in _failed(_check(p.deduction(), p))


def test_missing_previous_period_fails() -> None:
    previous = _previous_seq()
    bundle = replace(_BUNDLE, entries=tuple(e for e in _BUNDLE.entries if e.index != previous))
    result = _check(bundle)
    assert _failed(result) == {"surplus"}
    assert next(f for f in result.findings if f.name == "surplus").found == "none"


def test_deduction_result_needs_the_deduction_part() -> None:
    bundle = replace(_BUNDLE, deduction=None)
    assert _failed(_check_raw(bundle)) == {"period entry"}


def _check_raw(bundle: Bundle) -> DeductionResult:
    d = _BUNDLE.deduction
    assert isinstance(d, Deduction)
    return check_deduction(bundle, pool().verifier, ORIGIN, d.member, d.period)


def test_paid_list_with_a_claim_twice_fails_paid_claims_and_share() -> None:
    """An operator pays one claim twice and closes the period on that list:
    ``claims_root``, ``claims_count`` and ``claims_total`` are computed over
    the list as it is (the duplicate hashed like any leaf) and the log is
    signed again.  The bundle still parses and the check still returns its
    findings, so the client reports a failed check (exit 1), not a bundle it
    cannot verify (exit 2)."""
    seq = _period_seq()
    body = pool().decoded[seq].body
    assert isinstance(body, PeriodClosed)
    honest = pool().deduction()
    assert honest.deduction is not None
    paid = (*honest.deduction.paid, honest.deduction.paid[0])
    p = forged(
        seq,
        claims_root=root_hash([paid_claim_leaf(c, a) for c, a in paid]),
        claims_count=len(paid),
        claims_total=sum(a for _, a in paid),
    )
    bundle = p.deduction()
    assert bundle.deduction is not None
    bundle = replace(bundle, deduction=replace(bundle.deduction, paid=paid))
    assert parse_bundle(bundle.to_bytes()) == bundle

    result = _check(bundle, p)
    assert not result.ok
    failed = {f.name: f for f in result.findings if not f.ok}
    assert {"paid claims", "share"} <= set(failed), result.findings
    assert "listed twice" in failed["paid claims"].detail
    assert failed["share"].found == "refused"
    assert {"checkpoint", "inclusion", "roster"}.isdisjoint(failed)
