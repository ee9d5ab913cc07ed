"""Benchmark ``mutualog verify-deduction`` at 1,000,000 members and 3,000 paid
claims a period.  Run by hand; not a test.

    python -m bench.client                         # 1,000,000 members, 3,000 claims
    python -m bench.client --members 100000 --claims 300
    python -m bench.client audit                   # audit of a 1,000,000-entry snapshot

(``audit`` is :mod:`bench.client_audit`, the auditor's benchmark.)

(As a module: run as a script, this file would hide the ``client`` package.)

The bundle is built directly with :mod:`verifiable.pool.bundle_builder` (the code
the server runs), not through a server: storing a 1,000,000-member log in
the server's database would take far longer than the check.  The inputs are
synthetic but real:

* a log of ``--log-size`` leaves (default 1,200,000, about what a pool of a
  million members has written by then): the entries a deduction needs are
  real canonical entries, signed into the tree; the rest are filler leaf
  hashes, so every inclusion proof has the length it would have;
* the genesis rulebook (panels of 31), the previous period's close and the
  period's ``period.closed`` with the figures :func:`period_figures` gives
  for a real roster tree of ``--members`` ids (``roster_root``) and a real
  list of ``--claims`` paid claims (``paid_claims_root``);
* ``--sample`` (default 3) of those claims with whole histories: filing,
  notice, a panel of 31 drawn by the sortition from a juror pool of half the
  members, seeded by the log's root at the right size, 31 sealed and 31
  revealed votes, the decision and the payout;
* a checkpoint signed with Ed25519 and stored as the synced one in a fresh
  state folder, as ``sync`` would.

It prints the bundle's size (JSON, and gzip as the server sends it), the CPU
seconds of the check alone (parse + :func:`check_deduction`), of the whole
``verify-deduction`` command run in this process, and of the command as a
fresh ``mutualog`` process (Python start-up and imports included).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from client.cli import main as mutualog
from client.state import PinnedLog, StateDir
from verifiable.log.bodies import (
    AgeBand,
    Body,
    Choice,
    ClaimDecided,
    ClaimFiled,
    ClaimNoticed,
    ClaimPaid,
    JuryPool,
    MemberJoined,
    Outcome,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
    VoteRevealed,
    VoteSealed,
)
from verifiable.log.bundle import parse_bundle
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import make_entry, parse_entry
from verifiable.log.fields import ShapeValue
from verifiable.log.merkle import (
    CompactTree,
    Subtree,
    consistency_proof_from,
    inclusion_proof_from,
)
from verifiable.log.note import Ed25519Signer
from verifiable.pool.bundle_builder import deduction_bundle
from verifiable.pool.deduction import check_deduction
from verifiable.pool.log_index import LogIndex
from verifiable.pool.periods import period_figures
from verifiable.pool.roster import paid_claims_root, roster_root
from verifiable.pool.rules import Rules
from verifiable.pool.sortition import draw_panel, juror_pool_root
from verifiable.pool.votes import vote_commitment

ORIGIN = "bench.example/mutualog/pool"
PERIOD = date(2024, 2, 7)
PREVIOUS = date(2024, 1, 21)
TARGET_CPU = 1.0
TARGET_BYTES = 1_000_000


def _id(tag: str, n: int) -> str:
    return hashlib.sha256(f"{tag}-{n}".encode()).hexdigest()[:32]


class Levels:
    """Every level of a Merkle tree over ``leaves``: complete-subtree hashes
    for proofs at any size, without rehashing (a :class:`HashReader`)."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels = [leaves]
        sha = hashlib.sha256
        while len(self.levels[-1]) > 1:
            low = self.levels[-1]
            self.levels.append(
                [sha(b"\x01" + low[i] + low[i + 1]).digest() for i in range(0, len(low) - 1, 2)]
            )

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        return [self.levels[s.level][s.index] for s in subtrees]


class Source:
    """The bench log as a :class:`verifiable.pool.bundle_builder.ProofSource`."""

    def __init__(self, entries: dict[int, bytes], levels: Levels) -> None:
        self.entries = entries
        self.levels = levels

    def entry(self, index: int) -> bytes:
        return self.entries[index]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return inclusion_proof_from(self.levels, index, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return consistency_proof_from(self.levels, old, new)


class LogWriter:
    """Appends real entries and filler leaves, keeping the root at every size
    a seed needs and an index of the real entries."""

    def __init__(self) -> None:
        self.tree = CompactTree()
        self.leaves: list[bytes] = []
        self.entries: dict[int, bytes] = {}
        self.index = LogIndex()
        self.fillers = 0

    def fill(self, count: int) -> None:
        sha = hashlib.sha256
        new = [
            sha(b"filler" + (self.fillers + i).to_bytes(8, "big")).digest() for i in range(count)
        ]
        self.fillers += count
        self.tree.extend(new)
        self.leaves.extend(new)

    def add(self, time: datetime, type_: str, body: Body) -> int:
        seq = len(self.leaves)
        prev = self.leaves[-1] if self.leaves else bytes(32)
        entry = make_entry(seq, prev, time, type_, body)
        data = entry.to_bytes()
        self.entries[seq] = data
        self.tree.append(entry.leaf_hash())
        self.leaves.append(entry.leaf_hash())
        self.index.size = seq  # the fillers are no entries the index needs
        self.index.feed(parse_entry(data, seq=seq))
        return seq


@dataclass(frozen=True)
class _Inputs:
    """What the bench log is made of: the rules, the roster and its jurors,
    the period's paid claims and the ones the bundle samples."""

    rules_json: dict[str, ShapeValue]
    rules: Rules
    roster: list[str]
    root: bytes
    size: int
    jurors: list[str]
    pool_root: bytes
    paid: list[tuple[str, int]]
    sampled: list[str]
    claimants: dict[str, str]

    @property
    def amounts(self) -> dict[str, int]:
        return dict(self.paid)


def _inputs(members: int, claims: int, sample: int) -> _Inputs:
    rules_json: dict[str, ShapeValue] = {"panel.size": 31, "juror.seasoning_days": 0}
    rules = Rules.from_json(rules_json, "bench rules")
    roster = sorted(_id("member", n) for n in range(members))
    root, size = roster_root(roster)
    jurors = roster[::2]
    pool_root = juror_pool_root(jurors)
    paid = [(_id("claim", n), 100_000 + n * 7) for n in range(claims)]
    sampled = [c for c, _ in paid[:: max(1, claims // max(sample, 1))][:sample]]
    claimants = {c: roster[1 + 2 * i] for i, c in enumerate(sampled)}  # odd ids: not jurors
    return _Inputs(
        rules_json, rules, roster, root, size, jurors, pool_root, paid, sampled, claimants
    )


def _file_claims(w: LogWriter, inp: _Inputs) -> None:
    """The sampled claims filed and noticed, after the period's juror pool."""
    t = datetime(2024, 1, 7, 1, tzinfo=UTC)
    pool = JuryPool(period=date(2024, 1, 7), root=inp.pool_root, size=len(inp.jurors))
    seq = w.add(t, "jury.pool", pool)
    w.index.set_pool(seq, date(2024, 1, 7), inp.jurors)
    amounts = inp.amounts
    for n, c in enumerate(inp.sampled):
        t = datetime(2024, 1, 8, 1, tzinfo=UTC) + timedelta(hours=n)
        w.add(
            t,
            "claim.filed",
            ClaimFiled(
                claim=c,
                member=inp.claimants[c],
                category="cancer",
                amount=amounts[c],
                diagnosed=date(2024, 1, 5),
                evidence=(hashlib.sha256(c.encode()).digest(),),
            ),
        )
        until = t + timedelta(minutes=10) + timedelta(days=inp.rules.objection_days)
        w.add(
            t + timedelta(minutes=10),
            "claim.noticed",
            ClaimNoticed(
                claim=c,
                text="A member aged 18-39 asks for aid for cancer.",
                amount=amounts[c],
                age_band=AgeBand.FROM_18_TO_39,
                category="cancer",
                objections_until=until,
            ),
        )


def _draw_panels(w: LogWriter, inp: _Inputs) -> dict[str, tuple[tuple[str, ...], datetime]]:
    """A panel drawn for each sampled claim: its jurors and its vote deadline."""
    rules = inp.rules
    panels: dict[str, tuple[tuple[str, ...], datetime]] = {}
    for n, c in enumerate(inp.sampled):
        # As in a real log, the entry before the seed size is timed before the
        # end of the objection window and the panel is the first one after it.
        notice = datetime(2024, 1, 8, 1, 10, tzinfo=UTC) + timedelta(hours=n)
        until = notice + timedelta(days=rules.objection_days)
        joiner = MemberJoined(member=_id("late", n), age_band=AgeBand.FROM_18_TO_39)
        w.add(until - timedelta(minutes=1), "member.joined", joiner)
        drawn_at = until + timedelta(minutes=1)
        seed = w.tree.root()
        panel = draw_panel(seed, c, 1, False, inp.jurors, 31, {inp.claimants[c]})
        votes_until = drawn_at + timedelta(days=rules.voting_days)
        panels[c] = (panel, votes_until)
        w.add(
            drawn_at,
            "panel.drawn",
            PanelDrawn(
                claim=c,
                round=1,
                appeal=False,
                pool_period=date(2024, 1, 7),
                seed_size=len(w.leaves),
                seed=seed,
                jurors=panel,
                votes_until=votes_until,
            ),
        )
    return panels


def _vote(w: LogWriter, inp: _Inputs, panels: dict[str, tuple[tuple[str, ...], datetime]]) -> None:
    """Every juror of every panel approves: sealed, revealed, decided."""
    reason = "The records match the notice."
    t = datetime(2024, 1, 11, 6, tzinfo=UTC)
    for c in inp.sampled:
        for j in panels[c][0]:
            salt = hashlib.sha256(j.encode() + c.encode()).digest()
            t += timedelta(seconds=30)
            w.add(
                t,
                "vote.sealed",
                VoteSealed(
                    claim=c,
                    round=1,
                    juror=j,
                    commitment=vote_commitment(c, 1, j, Choice.APPROVE, reason, salt),
                ),
            )
    t = max(v for _, v in panels.values()) + timedelta(minutes=1)
    for c in inp.sampled:
        for j in panels[c][0]:
            salt = hashlib.sha256(j.encode() + c.encode()).digest()
            t += timedelta(seconds=30)
            w.add(
                t,
                "vote.revealed",
                VoteRevealed(
                    claim=c, round=1, juror=j, choice=Choice.APPROVE, reason=reason, salt=salt
                ),
            )
    amounts = inp.amounts
    for c in inp.sampled:
        t += timedelta(minutes=5)
        w.add(
            t,
            "claim.decided",
            ClaimDecided(
                claim=c,
                round=1,
                approvals=31,
                rejections=0,
                outcome=Outcome.APPROVED,
                amount=amounts[c],
            ),
        )


def _close_and_pay(w: LogWriter, inp: _Inputs, log_size: int) -> None:
    """The previous period closed, the sampled claims paid, the log filled
    to ``log_size`` and the target period closed on the paid list."""
    t = datetime(2024, 1, 21, 0, 5, tzinfo=UTC)
    w.add(
        t,
        "period.closed",
        PeriodClosed(
            period=PREVIOUS,
            claims_count=0,
            claims_total=0,
            claims_root=paid_claims_root([]),
            fee=0,
            fee_rate_bp=inp.rules.fee_rate_bp,
            refunds=0,
            surplus_in=0,
            surplus_out=12_345,
            sharing=inp.size,
            share=0,
            collected=0,
            roster_root=inp.root,
            roster_size=inp.size,
        ),
    )
    amounts = inp.amounts
    for n, c in enumerate(inp.sampled):
        w.add(
            datetime(2024, 1, 25, 1, tzinfo=UTC) + timedelta(hours=n),
            "claim.paid",
            ClaimPaid(claim=c, amount=amounts[c], period=PERIOD),
        )
    w.index.paid[PERIOD] = inp.paid
    w.fill(log_size - len(w.leaves) - 1)
    figures = period_figures(PERIOD, inp.paid, 0, 12_345, inp.root, inp.size, inp.rules)
    w.add(datetime(2024, 2, 7, 0, 5, tzinfo=UTC), "period.closed", figures.to_body())


def build(
    members: int, claims: int, sample: int, log_size: int
) -> tuple[Path, str, dict[str, float]]:
    t0 = time.perf_counter()
    inp = _inputs(members, claims, sample)
    timings = {"inputs": time.perf_counter() - t0}

    w = LogWriter()
    t = datetime(2023, 6, 1, tzinfo=UTC)
    w.add(t, "pool.rules", PoolRules(effective=t, rules=inp.rules_json, reason="Bench rulebook."))
    for c in inp.sampled:
        joined = MemberJoined(member=inp.claimants[c], age_band=AgeBand.FROM_18_TO_39)
        w.add(t, "member.joined", joined)
    w.fill(log_size // 2)
    _file_claims(w, inp)
    w.fill(log_size // 8)
    _vote(w, inp, _draw_panels(w, inp))
    _close_and_pay(w, inp, log_size)
    timings["log"] = time.perf_counter() - t0 - timings["inputs"]

    levels = Levels(w.leaves)
    signer = Ed25519Signer(ORIGIN, bytes(range(32)))
    note = sign_checkpoint(Checkpoint(ORIGIN, len(w.leaves), w.tree.root()), signer)
    roster = inp.roster
    member = roster[len(roster) // 3]
    bundle = deduction_bundle(
        w.index, Source(w.entries, levels), len(w.leaves), note, member, PERIOD, roster, inp.sampled
    )
    timings["bundle"] = time.perf_counter() - t0 - timings["inputs"] - timings["log"]
    state = Path(tempfile.mkdtemp(prefix="mutualog-bench-"))
    states = StateDir(state)
    states.save_pin(PinnedLog(ORIGIN, signer.verifier().to_vkey(), (), 0))
    states.save_checkpoint(ORIGIN, note)
    path = state / "bundle.json"
    path.write_bytes(bundle.to_bytes())
    return path, member, timings


def main() -> int:
    if sys.argv[1:2] == ["audit"]:
        from bench.client_audit import main as audit_main

        return audit_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=3_000)
    parser.add_argument("--sample", type=int, default=3)
    parser.add_argument("--log-size", type=int, default=1_200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    path, member, timings = build(args.members, args.claims, args.sample, args.log_size)
    print("setup: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    data = path.read_bytes()
    wire = len(gzip.compress(data, compresslevel=6, mtime=0))
    print(
        f"bundle: {len(data):,} bytes JSON, {wire:,} bytes gzip on the wire "
        f"(target < {TARGET_BYTES:,})"
    )
    pin = StateDir(path.parent).load_pin(ORIGIN)
    assert pin is not None
    verifier = pin.verifier()
    check, command = [], []
    argv = [
        "--state",
        str(path.parent),
        "verify-deduction",
        "--member",
        member,
        "--period",
        PERIOD.isoformat(),
        "--bundle",
        str(path),
    ]
    for _ in range(args.repeat):
        c0 = time.process_time()
        bundle = parse_bundle(path.read_bytes())
        result = check_deduction(bundle, verifier, ORIGIN, member, PERIOD)
        check.append(time.process_time() - c0)
        assert result.ok, [f for f in result.findings if not f.ok]
        c0 = time.process_time()
        with open(os.devnull, "w") as devnull:
            saved, sys.stdout = sys.stdout, devnull
            try:
                code = mutualog(argv)
            finally:
                sys.stdout = saved
        command.append(time.process_time() - c0)
        assert code == 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "client.cli", *argv], check=True, stdout=subprocess.DEVNULL
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"check (parse + check_deduction): best {min(check):.3f} s CPU of {args.repeat}")
    print(f"verify-deduction in process:     best {min(command):.3f} s CPU of {args.repeat}")
    print(
        f"verify-deduction as a process:   {process:.3f} s CPU (start-up and imports included)"
        f" (target < {TARGET_CPU} s)"
    )
    shutil.rmtree(path.parent)
    ok = min(command) < TARGET_CPU and wire < TARGET_BYTES
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
