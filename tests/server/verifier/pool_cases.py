"""Cases of the member's checks for the verifier's equivalence tests.

A case is what the page's entry points take (``server/verifier/js/verify.js``):
``{"fn": "verifyDeduction" | "verifyClaim" | "verifyReceipt", "args": {...}}``
with the bundle or receipt as the text of its file.  :func:`python_verdict`
is what ``verifiable/`` says of one, as the client's ``verify-deduction``,
``verify-claim`` and ``verify-receipt`` (without ``--log``, or with the
claim's ``--bundle``) do after reading the file: the verdict and each
finding's ``[name, status]`` in order.

The honest logs are simulated pools (:mod:`verifiable.testonly.simulate`),
their bundles built without a server (:mod:`verifiable.pool.bundle_builder`
over :mod:`verifiable.pool.log_index`), their receipts from a ``vote.sealed``
entry and the ``vote.revealed`` that opens it.  A mutation changes one field
of an honest case: an entry re-signed under the log key with one field of
its body changed (so that only the rules can catch it), a proof element,
the member, the period, the paid list, the roster index or proof, a juror
leaf, a seed proof, the checkpoint, a receipt's field.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from tests.verifiable.pool.bundle_pool import Pool, pool
from tests.verifiable.pool.witnessed_pool import WITNESS, witnessed_config
from verifiable.errors import MutualogError
from verifiable.log.bodies import ClaimNoticed, VoteRevealed, VoteSealed
from verifiable.log.bundle import Bundle, parse_bundle
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import Entry, make_entry, parse_entry
from verifiable.log.fields import format_date
from verifiable.log.merkle import hash_leaves, inclusion_proof, root_hash
from verifiable.log.note import Ed25519Signer, Ed25519Verifier
from verifiable.log.notice_facts import NoticeFacts, months_between
from verifiable.pool.bundle_builder import MemorySource, claim_bundle, deduction_bundle
from verifiable.pool.claim_check import check_claim
from verifiable.pool.deduction import check_deduction
from verifiable.pool.log_index import LogIndex
from verifiable.pool.receipt import VoteReceipt, parse_receipt
from verifiable.pool.receipt_check import check_against_bundle, check_offline
from verifiable.pool.rules import DEFAULT_RULES
from verifiable.testonly.simulate import Simulation

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = [
    "SimLog",
    "bundle_mutations",
    "claim_case",
    "deduction_case",
    "honest_cases",
    "notice_fact_cases",
    "python_verdict",
    "receipt_case",
    "receipt_mutations",
    "rules_mutations",
    "run_cases",
    "simulated",
    "witnessed",
]

Case = dict[str, Any]
Outcome = dict[str, Any]

WITNESSED_ORIGIN = "example.org/mutualog/witnessed-js"
WITNESSED_CONFIG = witnessed_config()


# --- the page and Python, on the same case ------------------------------------------


_RUN = """async (cases) => {
  const verify = await import('/js/verify.js');
  const out = [];
  for (const c of cases) {
    try {
      const r = await verify[c.fn](c.args);
      out.push({verdict: r.verdict, findings: r.findings.map((f) => [f.name, f.status])});
    } catch (e) {
      out.push({verdict: 'THROWN', findings: [], error: String(e && e.stack || e)});
    }
  }
  return out;
}"""


def run_cases(page: Page, cases: Sequence[Case]) -> list[Outcome]:
    """Each case's outcome from verify.js in the page, in order."""
    out: list[Outcome] = []
    for start in range(0, len(cases), 50):
        batch = [{"fn": c["fn"], "args": c["args"]} for c in cases[start : start + 50]]
        out.extend(page.evaluate(_RUN, batch))
    return out


def _bundle_verdict(findings: Sequence[Any]) -> str:
    return "VERIFIED" if findings and all(f.ok for f in findings) else "FAILED"


def _outcome(verdict: str, findings: Sequence[Any]) -> Outcome:
    return {"verdict": verdict, "findings": [[f.name, f.status.value] for f in findings]}


def python_verdict(case: Case) -> Outcome:
    """What ``verifiable/`` says of ``case``: the client's command after it
    read the file; a file that is not a bundle or a receipt, or a key that
    cannot be read, stops it before any check (exit 2: ``PENDING``)."""
    a = case["args"]
    stopped = {"verdict": "PENDING", "findings": []}
    ids = [a[k] for k in ("member", "claim") if k in a]
    if not all(isinstance(i, str) and re.fullmatch("[0-9a-f]{32}", i) for i in ids):
        return stopped
    try:
        if "period" in a and not re.fullmatch("[0-9]{4}-[0-9]{2}-[0-9]{2}", a["period"]):
            return stopped
        if "period" in a:
            date.fromisoformat(a["period"])
        if case["fn"] == "verifyReceipt":
            receipt = parse_receipt(a["receiptText"].encode("utf-8"))
        if "bundleText" in a:
            bundle = parse_bundle(a["bundleText"].encode("utf-8"))
        verifier = Ed25519Verifier.from_vkey(a["verifierKey"])
    except (MutualogError, ValueError):
        return stopped
    origin = a["origin"] or verifier.name
    if case["fn"] == "verifyReceipt":
        if "bundleText" in a:
            report = check_against_bundle(receipt, verifier, origin, bundle)
        else:
            report = check_offline(receipt, verifier, origin)
        verdict = "FAILED" if report.failed else "PENDING" if report.pending else "VERIFIED"
        return _outcome(verdict, report.checks)
    if case["fn"] == "verifyClaim":
        found = check_claim(bundle, verifier, origin, a["claim"])
        return _outcome(_bundle_verdict(found), found)
    result = check_deduction(bundle, verifier, origin, a["member"], date.fromisoformat(a["period"]))
    return _outcome(_bundle_verdict(result.findings), result.findings)


# --- simulated logs -----------------------------------------------------------------


@dataclass(eq=False)
class SimLog:
    """A simulated log signed at its full size, with an index over it."""

    entries: list[bytes]
    decoded: list[Entry]
    index: LogIndex
    signer: Ed25519Signer
    origin: str

    @classmethod
    def of(cls, entries: Sequence[bytes], signer: Ed25519Signer, origin: str) -> SimLog:
        decoded = [parse_entry(d, seq=i) for i, d in enumerate(entries)]
        index = LogIndex()
        for e in decoded:
            index.feed(e)
        return cls(list(entries), decoded, index, signer, origin)

    @property
    def vkey(self) -> str:
        return self.signer.verifier().to_vkey()

    @cache  # noqa: B019 - a SimLog lives for the whole test run
    def note(self) -> bytes:
        root = root_hash(hash_leaves(self.entries))
        return sign_checkpoint(Checkpoint(self.origin, len(self.entries), root), self.signer)

    @cache  # noqa: B019
    def source(self) -> MemorySource:
        return MemorySource(self.entries)

    def roster(self, period: date) -> list[str]:
        from tests.verifiable.pool.bundle_pool import roster_ids
        from verifiable.pool.rules import moment

        return roster_ids(self.decoded, moment(period))

    def deduction(self, member: str, period: date, sample: Sequence[str]) -> Bundle:
        roster = self.roster(period)
        size = len(self.entries)
        return deduction_bundle(
            self.index, self.source(), size, self.note(), member, period, roster, sample
        )

    def claim(self, claim: str) -> Bundle:
        return claim_bundle(self.index, self.source(), len(self.entries), self.note(), claim)

    def forged(self, seq: int, body: Any) -> SimLog:
        """Entry ``seq`` with ``body``, the tree signed again under the log
        key; the index keeps the honest positions (what the bundles gather)."""
        old = self.decoded[seq]
        entry = make_entry(seq, old.prev, old.time, old.type, body)
        entries = list(self.entries)
        entries[seq] = entry.to_bytes()
        decoded = list(self.decoded)
        decoded[seq] = entry
        return SimLog(entries, decoded, self.index, self.signer, self.origin)


@cache
def simulated() -> SimLog:
    """The bundle tests' honest pool (tests/verifiable/pool/bundle_pool.py)."""
    p: Pool = pool()
    from tests.verifiable.pool.bundle_pool import ORIGIN

    return SimLog.of(p.entries, p.signer, ORIGIN)


@cache
def witnessed() -> SimLog:
    """A pool whose rules seed each panel from a checkpoint cosigned by a witness."""
    sim = Simulation(
        random.Random(4), WITNESSED_CONFIG, witnesses=[WITNESS], origin=WITNESSED_ORIGIN
    )
    signer = Ed25519Signer(WITNESSED_ORIGIN, bytes(range(1, 33)))
    return SimLog.of(list(sim.run()), signer, WITNESSED_ORIGIN)


# --- honest cases -------------------------------------------------------------------


def deduction_case(log: SimLog, bundle: Bundle | str, member: str, period: date) -> Case:
    text = bundle if isinstance(bundle, str) else bundle.to_bytes().decode("utf-8")
    args = {
        "bundleText": text,
        "verifierKey": log.vkey,
        "origin": log.origin,
        "member": member,
        "period": format_date(period),
    }
    return {"fn": "verifyDeduction", "args": args}


def claim_case(log: SimLog, bundle: Bundle | str, claim: str) -> Case:
    text = bundle if isinstance(bundle, str) else bundle.to_bytes().decode("utf-8")
    args = {"bundleText": text, "verifierKey": log.vkey, "origin": log.origin, "claim": claim}
    return {"fn": "verifyClaim", "args": args}


def receipt_case(log: SimLog, receipt: VoteReceipt | str) -> Case:
    text = receipt if isinstance(receipt, str) else json.dumps(receipt.to_json())
    args = {"receiptText": text, "verifierKey": log.vkey, "origin": log.origin}
    return {"fn": "verifyReceipt", "args": args}


def _deductions(log: SimLog, rng: random.Random, count: int) -> Iterator[Case]:
    periods = sorted(log.index.closed)
    for _ in range(count):
        period = rng.choice(periods)
        roster = log.roster(period)
        member = rng.choice(roster)
        paid = [c for c, _ in log.index.paid.get(period, [])]
        sample = rng.sample(paid, min(len(paid), rng.choice([0, 1, 2, 3])))
        yield deduction_case(log, log.deduction(member, period, sample), member, period)


def _claims(log: SimLog, rng: random.Random, count: int) -> Iterator[Case]:
    claims = sorted(log.index.claims)
    for claim in rng.sample(claims, min(count, len(claims))):
        yield claim_case(log, log.claim(claim), claim)


def receipts(log: SimLog) -> list[VoteReceipt]:
    """A receipt for every sealed vote that was revealed, at the full size."""
    reveals = {
        (b.claim, b.round, b.juror): b
        for b in (e.body for e in log.decoded)
        if isinstance(b, VoteRevealed)
    }
    leaves = hash_leaves(log.entries)
    out = []
    for e in log.decoded:
        b = e.body
        if not isinstance(b, VoteSealed) or (b.claim, b.round, b.juror) not in reveals:
            continue
        r = reveals[(b.claim, b.round, b.juror)]
        out.append(
            VoteReceipt(
                claim=b.claim,
                round=b.round,
                juror=b.juror,
                choice=r.choice,
                reason=r.reason,
                salt=r.salt,
                commitment=b.commitment,
                leaf_index=e.seq,
                entry=log.entries[e.seq],
                tree_size=len(log.entries),
                inclusion_proof=tuple(inclusion_proof(leaves, e.seq, len(leaves))),
                checkpoint=log.note(),
            )
        )
    return out


def honest_cases(log: SimLog, rng: random.Random, count: int) -> list[Case]:
    """``count`` deductions, ``count`` claims and ``count`` receipts of ``log``."""
    out = list(_deductions(log, rng, count)) + list(_claims(log, rng, count))
    all_receipts = receipts(log)
    out += [receipt_case(log, r) for r in rng.sample(all_receipts, min(count, len(all_receipts)))]
    return out


# --- single-field mutations -----------------------------------------------------------


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return b"\x00"
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]


def _flip_proof(proof: tuple[bytes, ...], rng: random.Random) -> tuple[bytes, ...] | None:
    if not proof:
        return None
    i = rng.randrange(len(proof))
    return (*proof[:i], _flip(proof[i], rng), *proof[i + 1 :])


def _text_of(case: Case) -> str:
    return str(case["args"]["bundleText"])


def _with(case: Case, **args: object) -> Case:
    return {"fn": case["fn"], "args": {**case["args"], **args}}


def _rebundled(case: Case, bundle: Bundle) -> Case:
    return _with(case, bundleText=bundle.to_bytes().decode("utf-8"))


def bundle_mutations(case: Case, rng: random.Random) -> list[Case]:
    """Single-field changes to a bundle case's file or arguments."""
    bundle = parse_bundle(_text_of(case).encode("utf-8"))
    out: list[Case] = []
    entries = list(bundle.entries)
    if entries:
        i = rng.randrange(len(entries))
        proof = _flip_proof(entries[i].proof, rng)
        if proof is not None:
            entries[i] = replace(entries[i], proof=proof)
            out.append(_rebundled(case, replace(bundle, entries=tuple(entries))))
        j = rng.randrange(len(bundle.entries))
        dropped = bundle.entries[:j] + bundle.entries[j + 1 :]
        out.append(_rebundled(case, replace(bundle, entries=dropped)))
    note = bytearray(bundle.checkpoint)
    ascii_at = [i for i, b in enumerate(note) if 0x20 < b < 0x7F]
    note[rng.choice(ascii_at)] ^= 1
    out.append(_rebundled(case, replace(bundle, checkpoint=bytes(note))))
    if bundle.consistency:
        k = rng.randrange(len(bundle.consistency))
        proof = _flip_proof(bundle.consistency[k].proof, rng)
        if proof is not None:
            flipped = list(bundle.consistency)
            flipped[k] = replace(flipped[k], proof=proof)
            out.append(_rebundled(case, replace(bundle, consistency=tuple(flipped))))
        dropped_seed = bundle.consistency[:k] + bundle.consistency[k + 1 :]
        out.append(_rebundled(case, replace(bundle, consistency=dropped_seed)))
    if bundle.jurors:
        k = rng.randrange(len(bundle.jurors))
        jurors = list(bundle.jurors)
        proof = _flip_proof(jurors[k].proof, rng)
        if proof is not None:
            jurors[k] = replace(jurors[k], proof=proof)
            out.append(_rebundled(case, replace(bundle, jurors=tuple(jurors))))
        other = bundle.jurors[(k + 1) % len(bundle.jurors)].member
        jurors = list(bundle.jurors)
        jurors[k] = replace(jurors[k], member=other)
        out.append(_rebundled(case, replace(bundle, jurors=tuple(jurors))))
    if case["fn"] == "verifyClaim":
        out.append(_with(case, claim=rng.choice(["0" * 32, "f" * 32])))
        return out
    if case["fn"] == "verifyReceipt":
        return out  # the claim's bundle of a receipt: no deduction part
    out += _deduction_mutations(case, bundle, rng)
    return out


def _deduction_mutations(case: Case, bundle: Bundle, rng: random.Random) -> list[Case]:
    d = bundle.deduction
    assert d is not None
    out: list[Case] = []

    def with_d(**changes: Any) -> None:
        out.append(_rebundled(case, replace(bundle, deduction=replace(d, **changes))))

    other = "0" * 32 if d.member != "0" * 32 else "1" * 32
    out.append(_with(case, member=other))
    with_d(member=other)
    later = d.period + timedelta(days=rng.choice([1, 14, -14]))
    out.append(_with(case, period=format_date(later)))
    with_d(period=later)
    with_d(roster_index=d.roster_index + 1)
    if d.roster_index:
        with_d(roster_index=d.roster_index - 1)
    proof = _flip_proof(d.roster_proof, rng)
    if proof is not None:
        with_d(roster_proof=proof)
    if d.paid:
        k = rng.randrange(len(d.paid))
        paid = list(d.paid)
        paid[k] = (paid[k][0], paid[k][1] + rng.choice([1, -1]))
        with_d(paid=tuple(paid))
        with_d(paid=d.paid[:k] + d.paid[k + 1 :])
        with_d(paid=(*d.paid, d.paid[k]))
        if len(d.paid) > 1:
            with_d(paid=tuple(reversed(d.paid)))
    else:
        with_d(paid=(("a" * 32, 100),))
    listed = [c for c, _ in d.paid]
    unsampled = [c for c in listed if c not in bundle.claims]
    if unsampled:
        claims = tuple(sorted((*bundle.claims, rng.choice(unsampled))))
        out.append(_rebundled(case, replace(bundle, claims=claims)))
    if bundle.claims:
        out.append(_rebundled(case, replace(bundle, claims=())))
    out.append(_rebundled(case, replace(bundle, claims=tuple(sorted((*bundle.claims, "e" * 32))))))
    return out


def _changed(value: object, rng: random.Random) -> object:
    """One field's value changed, as a cheating operator would."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, StrEnum):
        others = [v for v in type(value) if v is not value]
        return rng.choice(others) if others else value
    if isinstance(value, int):
        return max(0, value + rng.choice([1, -1, 7]))
    if isinstance(value, bytes):
        return _flip(value, rng)
    if isinstance(value, datetime):
        return value + timedelta(days=rng.choice([1, -1]))
    if isinstance(value, date):
        return value + timedelta(days=rng.choice([1, -1, 14]))
    if isinstance(value, str) and len(value) == 32:
        return ("0" if value[0] != "0" else "1") + value[1:]
    if isinstance(value, tuple) and value:
        k = rng.randrange(len(value))
        return value[:k] + value[k + 1 :]
    return value


_RULED = (
    "period.closed",
    "claim.noticed",
    "claim.objected",
    "claim.answered",
    "claim.appealed",
    "panel.drawn",
    "vote.sealed",
    "vote.revealed",
    "claim.decided",
    "claim.paid",
    "jury.pool",
)


def rules_mutations(log: SimLog, case: Case, rng: random.Random, count: int) -> list[Case]:
    """Up to ``count`` changes of one field of one entry the case's bundle
    holds, the log re-signed under its key: only the rules can catch them."""
    bundle = parse_bundle(_text_of(case).encode("utf-8"))
    held = [x.index for x in bundle.entries if log.decoded[x.index].type in _RULED]
    out: list[Case] = []
    for seq in rng.sample(held, min(count, len(held))):
        body = log.decoded[seq].body
        names = [f.name for f in fields(body)]
        name = rng.choice(names)
        try:
            changed = replace(body, **{name: _changed(getattr(body, name), rng)})
            forged = log.forged(seq, changed)
        except (MutualogError, ValueError, TypeError):
            continue
        if forged.entries[seq] == log.entries[seq]:
            continue
        out.append(_rebuilt(forged, case))
    return out


def _rebuilt(log: SimLog, case: Case) -> Case:
    """The case's bundle built again from the forged ``log``."""
    a = case["args"]
    bundle = parse_bundle(str(a["bundleText"]).encode("utf-8"))
    if case["fn"] == "verifyClaim":
        return claim_case(log, log.claim(a["claim"]), a["claim"])
    assert bundle.deduction is not None
    period = bundle.deduction.period
    d = log.deduction(a["member"], period, bundle.claims)
    return deduction_case(log, d, a["member"], period)


def receipt_mutations(log: SimLog, receipt: VoteReceipt, rng: random.Random) -> list[Case]:
    """Single-field changes to a receipt."""
    changes: list[dict[str, Any]] = [
        {"leaf_index": receipt.leaf_index + 1},
        {"tree_size": receipt.tree_size + 1},
        {"round": receipt.round + 1},
        {"juror": _changed(receipt.juror, rng)},
        {"claim": _changed(receipt.claim, rng)},
        {"choice": _changed(receipt.choice, rng)},
        {"reason": receipt.reason + "."},
        {"salt": _flip(receipt.salt, rng)},
        {"commitment": _flip(receipt.commitment, rng)},
        {"checkpoint": receipt.checkpoint.replace(b"\n", b"\n ", 1)},
    ]
    proof = _flip_proof(receipt.inclusion_proof, rng)
    if proof is not None:
        changes.append({"inclusion_proof": proof})
    return [receipt_case(log, replace(receipt, **c)) for c in changes]


def flipped_key(log: SimLog) -> Callable[[Case], Case]:
    """The case under another log's key."""
    other = Ed25519Signer(log.origin, bytes(range(2, 34))).verifier().to_vkey()
    return lambda case: _with(case, verifierKey=other)


# --- notices with facts (notice facts v1) --------------------------------------------


def _with_facts(log: SimLog, claim: str, rng: random.Random) -> tuple[int, ClaimNoticed] | None:
    """The claim's notice with the facts and redacted copies the log fixes
    (the simulated pools' notices have none): its seq and body."""
    record = log.index.claims[claim]
    filed = record.filed
    seqs = [s for s, t in record.entries if t == "claim.noticed"]
    if not seqs or filed.member not in log.index.joined:
        return None
    notice = log.decoded[seqs[0]].body
    assert isinstance(notice, ClaimNoticed)
    joined = log.index.joined[filed.member][1]
    cap = DEFAULT_RULES.cap(notice.age_band) or 0
    facts = NoticeFacts(
        diagnosed_month=filed.diagnosed.isoformat()[:7],
        months_member=months_between(joined.date(), filed.diagnosed),
        waiting_met=True,
        hospital_grade=None,
        requested=filed.amount,
        capped=min(filed.amount, cap),
    )
    redacted = tuple(bytes(rng.randrange(256) for _ in range(32)) for _ in filed.evidence)
    return seqs[0], replace(notice, facts=facts, redacted=redacted or None)


def notice_fact_cases(log: SimLog, rng: random.Random, count: int) -> list[Case]:
    """For ``count`` claims: the notice given its facts, honest, and each
    fact and the redacted copies misstated, the log re-signed each time."""
    out: list[Case] = []
    claims = sorted(log.index.claims)
    for claim in rng.sample(claims, min(count, len(claims))):
        found = _with_facts(log, claim, rng)
        if found is None:
            continue
        seq, notice = found
        facts, filed = notice.facts, log.index.claims[claim].filed
        assert facts is not None
        misstated: list[dict[str, Any]] = [
            {},
            {"diagnosed_month": f"{filed.diagnosed.year - 1:04d}{facts.diagnosed_month[4:]}"},
            {"months_member": facts.months_member + 1},
            {"waiting_met": False},
            {"requested": facts.requested + 1},
            {"capped": facts.capped - 1},
        ]
        bodies = [replace(notice, facts=replace(facts, **m)) for m in misstated]
        if notice.redacted:
            bodies.append(replace(notice, redacted=notice.redacted[1:] or None))
            bodies.append(replace(notice, redacted=(filed.evidence[0], *notice.redacted[1:])))
        for body in bodies:
            forged = log.forged(seq, body)
            out.append(claim_case(forged, forged.claim(claim), claim))
    return out
