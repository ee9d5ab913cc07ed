"""The demo pool: a realistic history from :mod:`verifiable.testonly.simulate`, stored
as a log, with accounts to explore it.

:class:`DemoBuilder` runs in three steps, so the command line can show
progress:

1. :meth:`DemoBuilder.simulate` plays an honest operator for ``days`` days
   with :class:`verifiable.testonly.simulate.Simulation` (deterministic from the
   seed): the founding members, joins, leaves, jurors, claims approved,
   rejected, appealed, objected to, redrawn after a missed quorum and
   refused inside the waiting period, payouts and period closes.  Each
   claim's evidence documents (a discharge summary, an invoice scan, a
   lab report: small synthetic PDF and JPEG files naming the patient) are
   stored privately through :func:`server.private.evidence.store_evidence`
   as the claim is filed, so its ``claim.filed`` entry carries their
   salted commitments;
2. :meth:`DemoBuilder.store` loads the entries into the empty log in large
   transactions (:meth:`server.storage.LogStore.load`) under one checkpoint
   signed with the log key — the entries keep the simulation's own times,
   so the panels' seeds stay those of the simulated log — and stores every
   member's private details (a Chinese name, an 18-digit resident ID
   number with its check digit, a mobile number; synthetic, from the
   seed and the member id) in the private store;
3. :meth:`DemoBuilder.finish` publishes the verifier page's hash through
   the pool service (``verifier.published``, the operator's first deploy
   step, so that ``mutualog audit`` of the demo checks the page it
   serves), replays the stored log, checks that the history holds every kind of case
   (:data:`DEMO_CASES`), keeps privately the openings of the votes sealed
   on the claims still voting (so the operator can close them), and
   creates three accounts: an operator, a member with a history of
   deductions, and a juror drawn for the open claim who has not voted yet.

The evidence salts are drawn from the operating system, as for a real
claim, so two builds from one seed differ in their commitments (and so in
the panels their roots seed), not in what happens.

The demo has a witness of its own (:data:`DEMO_WITNESS`, a key drawn at
random like the salts): its rulebook names it for the draw with K = 1, so
every panel of the history is seeded by a checkpoint it cosigned (the
simulation cosigns in-process, as the witness would), and the stored
checkpoint carries its cosignature, the witness registered with the log.  When the demo serves,
:func:`server.demo_witness.start_demo_witness` runs it as a real ``mutualog witness serve``
process, registered with the log, and the log's submitter
(``mutualog-server witness run``) beside it, so that new checkpoints are
cosigned and the operator's draws are witnessed too.

The server then runs on the demo's clock (:mod:`server.demo_clock`), kept
in the database: it starts just after the last simulated entry, moves with
real time, and the operator can move it forward to try every step.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, insert, update

from server.demo_redacted import DemoRedaction
from server.log_index import stored_index
from server.models import AccountRow, MemberDetailsRow, MemberIdentityRow
from server.pool_figures import CASES, claim_cases
from server.pool_service import PoolService
from server.private._tx import private_transaction
from server.private.accounts import Accounts, Role
from server.private.evidence import Upload, store_evidence
from server.private.identity import make_id_number
from server.private.identity_key import identity_hash
from server.private.members import MemberDetails, sealed_details
from server.private.passwords import Passwords
from server.private.sealing import sealer_of
from server.private.throttle import RequestLimits
from server.private.votes import PrivateVote, save_sealed_vote, set_sealed_seq
from server.private_guard import PrivateIdentity
from server.storage import LogStore
from server.verifier_publish import publish_page
from server.witnessing.store import add_witness, store_cosignature
from verifiable.errors import MutualogError
from verifiable.log.bodies import AgeBand, MemberJoined, MemberLeft, VoteSealed
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.entry import parse_entry
from verifiable.log.merkle import CompactTree, hash_leaves
from verifiable.log.note import Ed25519Signer, Note
from verifiable.pool.state import ClaimView, Stage
from verifiable.testonly.notice_facts import NoticeFactsHook
from verifiable.testonly.simulate import SimConfig, Simulation

__all__ = [
    "DEMO_CASES",
    "DEMO_RULES",
    "DEMO_WITNESS",
    "DemoAccount",
    "DemoBuilder",
    "DemoError",
    "DemoIdentities",
    "demo_config",
    "demo_documents",
    "demo_witness_key",
    "pdf_file",
    "witnessed_rules",
]

_details = cast(Table, MemberDetailsRow.__table__)
_identities = cast(Table, MemberIdentityRow.__table__)
_accounts = cast(Table, AccountRow.__table__)

DEMO_START = datetime(2025, 1, 1, tzinfo=UTC)
DEMO_DAYS = 110
#: Entries per storage transaction.
STORE_CHUNK = 10_000

DEMO_RULES: dict[str, object] = {
    # The founding jurors are seasoned by fiat (the simulation needs it),
    # and a short waiting period lets claims begin in the first month.
    "juror.seasoning_days": 0,
    "member.waiting_days": 14,
    # A new pool names the objection limit; the default (no limit) is for
    # rulebooks written before the rule existed.
    "claim.objections_per_member": 1,
}


#: The demo witness's name (its key name in cosignature lines).
DEMO_WITNESS = "localhost/mutualog/demo-witness"
#: Where the demo witness is registered until it serves (the witness's default port).
_WITNESS_URL = "http://127.0.0.1:7380"


def demo_witness_key(seed: bytes | None = None) -> CosignatureSigner:
    """The demo witness's key, from ``seed`` (32 random bytes by default)."""
    return CosignatureSigner(DEMO_WITNESS, seed if seed is not None else secrets.token_bytes(32))


def witnessed_rules(rules: dict[str, object], witness: CosignatureSigner) -> dict[str, object]:
    """``rules`` naming ``witness`` for the draw, one cosignature required."""
    return {
        **rules,
        "draw.witnesses": [witness.verifier().to_vkey()],
        "draw.witnesses_required": 1,
    }


#: The kinds of claim the demo must show (see :func:`server.pool_figures.claim_cases`).
DEMO_CASES = (*CASES, "voting")


class DemoError(MutualogError):
    """The demo cannot be built (the simulated history lacks what it needs)."""


# --- synthetic private data -------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶"
    "黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红文辉力建国志宇浩然梓涵欣怡子"
    "轩雨萱思远嘉俊晓东海燕春梅秀英佳琪博凯婷雪"
)
#: Resident-ID region codes (province, city, district).
_REGIONS = ("110101", "310104", "440106", "510107", "330106", "420106", "320102", "610113")
#: The youngest and oldest age in whole years of each band's members: the
#: youngest a year old rather than 30 days, so nobody is too young for the
#: waiting period's diagnoses before joining.
_AGES = {
    AgeBand.UNDER_18: (1, 17),
    AgeBand.FROM_18_TO_39: (18, 39),
    AgeBand.FROM_40_TO_59: (40, 59),
}
#: How long after the simulated history a demo member stays in their band,
#: so a demo served for weeks still files claims in the band they joined in.
_BAND_SLACK = timedelta(days=120)


def _years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


class DemoIdentities:
    """Synthetic, deterministic private details of the demo's members.

    Each birth date puts the member in the band they joined in on the day
    they joined and until ``until``, the end of the simulated history and
    some slack after it: no demo claim is diagnosed in another band.
    """

    def __init__(self, seed: int, until: date | None = None) -> None:
        self._seed = seed
        end = until if until is not None else DEMO_START.date() + timedelta(days=DEMO_DAYS)
        self._until = end + _BAND_SLACK
        # One ID number per person, as the pool requires: a number drawn
        # twice takes the next serial.  The demo asks in the same order for
        # the same seed, so the numbers are reproducible.
        self._made: dict[str, MemberDetails] = {}
        self._taken: set[str] = set()

    def details(self, member_id: str, band: AgeBand, joined: date | None = None) -> MemberDetails:
        """A name, ID number and mobile number for ``member_id``, the same
        for the same seed; the birth date in the ID number fits ``band``
        from ``joined`` (by default the demo's first day) on."""
        made = self._made.get(member_id)
        if made is not None:
            return made
        joined = joined if joined is not None else DEMO_START.date()
        rng = random.Random(f"mutualog-demo/{self._seed}/{member_id}")
        given = "".join(_GIVEN[rng.randrange(len(_GIVEN))] for _ in range(1 + rng.randrange(2)))
        name = _SURNAMES[rng.randrange(len(_SURNAMES))] + given
        low, high = _AGES[band]
        latest = _years_before(joined, low)
        earliest = _years_before(self._until, high + 1) + timedelta(days=1)
        born = earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
        region = _REGIONS[rng.randrange(len(_REGIONS))]
        serial = rng.randrange(1000)
        id_number = make_id_number(region, born, serial)
        while id_number in self._taken:
            serial = (serial + 1) % 1000
            id_number = make_id_number(region, born, serial)
        self._taken.add(id_number)
        phone = f"1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}"
        made = MemberDetails.parse(name, id_number, phone, self._until)
        self._made[member_id] = made
        return made


def _pdf(title: str, lines: Sequence[str], author: str) -> bytes:
    """A small one-page PDF: ``lines`` in Helvetica, ``author`` (any
    script) in the document information as UTF-16."""
    # PDF strings end at ')' and escape with '\\': keep the text plain.
    plain = [line.translate({ord("\\"): None, ord("("): "[", ord(")"): "]"}) for line in lines]
    text = "".join(
        f"BT /F1 11 Tf 56 {760 - 16 * n} Td ({line}) Tj ET\n" for n, line in enumerate(plain)
    ).encode("ascii")
    who = ("\ufeff" + author).encode("utf-16-be").hex().upper()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"endstream",
        b"<< /Title (" + title.encode("ascii") + b") /Author <" + who.encode("ascii") + b"> >>",
    ]
    return pdf_file(objects, info=6)


def pdf_file(objects: Sequence[bytes], info: int | None = None) -> bytes:
    """A PDF file of ``objects`` (numbered from 1, the catalog first) with
    its cross-reference table; ``info`` the number of the document
    information object, if any."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer = b" /Info %d 0 R" % info if info is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _jpeg(comment: str, rng: random.Random) -> bytes:
    """A small JPEG-framed scan: JFIF header, a comment, scan bytes."""
    note = comment.encode("utf-8")
    jfif = b"JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
    scan = bytes(rng.randrange(255) for _ in range(600))  # no 0xff: no stray markers
    return (
        b"\xff\xd8"
        + b"\xff\xe0" + (len(jfif) + 2).to_bytes(2, "big") + jfif
        + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note
        + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
        + scan
        + b"\xff\xd9"
    )  # fmt: skip


def demo_documents(
    claim_id: str, person: MemberDetails, count: int, filed: datetime, seed: int
) -> list[Upload]:
    """``count`` evidence documents of a claim: a discharge summary, an
    invoice scan, a lab report (in that order), naming the patient."""
    rng = random.Random(f"mutualog-demo/{seed}/evidence/{claim_id}")
    day = filed.date() - timedelta(days=1 + rng.randrange(20))
    record = f"{rng.randrange(10**8):08d}"
    lines = [
        f"Hospital record {record}",
        f"Patient ID number: {person.id_number}",
        f"Mobile: {person.phone}",
        f"Admitted {day.isoformat()}",
    ]
    kinds = [
        lambda: Upload(
            _pdf("Discharge summary", ["Discharge summary", *lines], person.name),
            "application/pdf",
            f"discharge-{record}.pdf",
        ),
        lambda: Upload(
            _jpeg(f"{person.name} {person.id_number} invoice {record}", rng),
            "image/jpeg",
            f"invoice-{record}.jpg",
        ),
        lambda: Upload(
            _pdf("Laboratory report", ["Laboratory report", *lines], person.name),
            "application/pdf",
            f"lab-{record}.pdf",
        ),
    ]
    return [kinds[n % len(kinds)]() for n in range(count)]


def demo_config(members: int, days: int = DEMO_DAYS) -> SimConfig:
    """A pool of ``members`` founding members, about one claim a day."""
    return SimConfig(
        start=DEMO_START,
        days=days,
        initial_members=members,
        initial_jurors=min(members // 2, max(150, members // 10)),
        joins_per_day=max(100, members * 30 // 100),
        leaves_per_day=max(10, members * 3 // 100),
        jurors_per_day=max(20, members * 5 // 100),
        juror_removals_per_day=20,
        claims_per_day=100,
        notes_per_day=10,
        rules=DEMO_RULES,
    )


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str
    member_id: str | None
    note: str


@dataclass
class DemoBuilder:
    """Builds the demo into the empty log of ``engine``."""

    engine: Engine
    signer: Ed25519Signer
    members: int
    seed: int = 2024
    days: int = DEMO_DAYS
    passwords: Passwords = field(default_factory=Passwords)
    #: The evidence salts' source; injected to make the demo's log reproducible.
    salts: Callable[[int], bytes] = secrets.token_bytes
    #: The demo's witness; injected, like the salts, to make the log reproducible.
    witness: CosignatureSigner = field(default_factory=demo_witness_key)
    entries: list[bytes] = field(default_factory=list)
    _sim: Simulation | None = None
    #: The key of the ID numbers' hash (:mod:`server.private.identity_key`):
    #: with it, each active member's hash is stored, so nobody joins the
    #: demo with a demo member's ID number.
    identity_key: bytes | None = None
    #: Every member who joined, with their band and day of joining, in joining order.
    _bands: dict[str, tuple[AgeBand, date]] = field(default_factory=dict)
    #: The members who left.
    _left: set[str] = field(default_factory=set)
    _identities: DemoIdentities = field(init=False)
    _redaction: DemoRedaction = field(init=False)

    def __post_init__(self) -> None:
        self._identities = DemoIdentities(self.seed, DEMO_START.date() + timedelta(days=self.days))
        self._redaction = DemoRedaction(self.engine, self._identity, _pdf, self.salts)

    def _identity(self, member_id: str) -> PrivateIdentity:
        person = self._identities.details(member_id, *self._bands[member_id])
        return PrivateIdentity(person.name, person.id_number, person.phone)

    def simulate(self) -> list[bytes]:
        """Generate the history, storing each claim's evidence documents
        privately as it is filed; returns the entries."""
        config = demo_config(self.members, self.days)
        sim = Simulation(
            random.Random(self.seed),
            replace(config, rules=witnessed_rules(dict(config.rules), self.witness)),
            evidence=self._store_documents,
            # Structured notices: facts, a place coarsened, a summary in Chinese,
            # and the redacted copies of their documents, as jurors see them.
            amend=self._redaction.after(NoticeFactsHook()),
            witnesses=[self.witness],
            origin=self.signer.name,
        )
        self._sim = sim
        self.entries = []
        for data in sim.run():
            self.entries.append(data)
            # A claimant's join is always yielded before the claim is filed.
            if b'"member.joined"' in data or b'"member.left"' in data:
                self._note_member(data, len(self.entries) - 1)
        return self.entries

    def _note_member(self, data: bytes, seq: int) -> None:
        entry = parse_entry(data, seq=seq)
        body = entry.body
        if isinstance(body, MemberJoined):
            self._bands[body.member] = (body.age_band, entry.time.date())
        elif isinstance(body, MemberLeft):
            self._left.add(body.member)

    def _store_documents(
        self, claim_id: str, member_id: str, count: int, filed: datetime
    ) -> list[bytes]:
        person = self._identities.details(member_id, *self._bands[member_id])
        self._redaction.filed(claim_id, member_id, count)
        uploads = demo_documents(claim_id, person, count, filed, self.seed)
        return store_evidence(self.engine, claim_id, uploads, filed, self.salts)

    @property
    def stats(self) -> dict[str, int]:
        return dict(self._sim.stats) if self._sim else {}

    def store(self, advance: Callable[[int], None] | None = None) -> None:
        """Load the entries into the empty log under one signed checkpoint;
        ``advance(n)`` is told of every ``n`` entries stored."""
        tree = CompactTree()
        tree.extend(hash_leaves(self.entries))
        checkpoint = Checkpoint(self.signer.name, tree.size, tree.root())
        note = sign_checkpoint(checkpoint, self.signer)
        LogStore(self.engine).load(_counted(self.entries, advance), note)
        self._store_identities()
        self._register_witness(checkpoint)

    def _register_witness(self, checkpoint: Checkpoint) -> None:
        """The demo witness, registered with the log, with its cosignature
        of the stored checkpoint.  ``/checkpoint`` requires it only once it
        serves (:func:`server.demo_witness.start_demo_witness`): a demo
        built and not served has nobody to cosign what is appended later."""
        last = self.start() - timedelta(minutes=1)
        cosignature = self.witness.cosign(checkpoint.to_text(), int(last.timestamp()))
        vkey = self.witness.verifier().to_vkey()
        add_witness(self.engine, DEMO_WITNESS, _WITNESS_URL, vkey, last)
        store_cosignature(self.engine, checkpoint.size, cosignature, last)

    def _cosign_latest(self, now: datetime) -> None:
        """The demo witness's cosignature of the log's latest checkpoint, the
        one over the page's publication: as for the stored history, a demo
        built and not served has nobody else to give it."""
        note = LogStore(self.engine).latest_checkpoint()
        assert note is not None  # the page was just published
        checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
        cosignature = self.witness.cosign(checkpoint.to_text(), int(now.timestamp()))
        store_cosignature(self.engine, checkpoint.size, cosignature, now)

    def _store_identities(self) -> None:
        """Every member's private details, and the keyed hash of each active
        member's ID number, in one transaction."""
        now = self.start()
        sealer = sealer_of(self.engine)
        rows, hashes = [], []
        for member_id, (band, joined) in self._bands.items():
            person = self._identities.details(member_id, band, joined)
            sealed = sealed_details(sealer, member_id, person)
            rows.append({"member_id": member_id, "created": now, **sealed})
            if self.identity_key is not None and member_id not in self._left:
                id_hash = identity_hash(self.identity_key, person.id_number)
                hashes.append({"id_hash": id_hash, "member_id": member_id, "created": now})
        with private_transaction(self.engine) as conn:
            for start in range(0, len(rows), STORE_CHUNK):
                conn.execute(insert(_details), rows[start : start + STORE_CHUNK])
            for start in range(0, len(hashes), STORE_CHUNK):
                conn.execute(insert(_identities), hashes[start : start + STORE_CHUNK])

    def start(self) -> datetime:
        """The demo's time when it opens: a minute after the last simulated
        entry (then moving on with real time, :mod:`server.demo_clock`)."""
        last = parse_entry(self.entries[-1], seq=len(self.entries) - 1).time
        return last + timedelta(minutes=1)

    def finish(self, service: PoolService, now: datetime) -> tuple[ClaimView, list[DemoAccount]]:
        """Keep the sealed votes' openings, create the demo accounts; returns
        the claim open for voting and the accounts."""
        # The operator's first deploy step: the page's hash in the log, so
        # that audit can compare the served page with it.
        publish_page(service)
        self._cosign_latest(now)
        state = service.state()
        cases = claim_cases(stored_index(service.engine).catch_up(state.size), state)
        missing = [case for case in DEMO_CASES if not cases.get(case)]
        if missing:
            raise DemoError(f"the simulated history has no claim {', '.join(missing)}")
        voting = [
            c
            for c in state.claims()
            if c.stage is Stage.VOTING
            and c.votes_until is not None
            and c.votes_until > now + timedelta(hours=2)
        ]
        openings = self._keep_openings(voting, now)
        candidates = [
            (c, [j for j in c.jurors if j not in openings.get(c.id, set())]) for c in voting
        ]
        candidates = [(c, free) for c, free in candidates if free]
        if not candidates:
            raise DemoError("the simulated history ends with no claim open for voting")
        claim, free = max(candidates, key=lambda pair: pair[0].votes_until or now)
        juror = free[0]
        member = next(
            m
            for m, view in state.members.active.items()
            if not view.juror and not view.ending and m not in claim.jurors
        )
        accounts = Accounts(self.engine, self.passwords, RequestLimits(self.engine))
        made = [
            self._account(accounts, "operator", Role.OPERATOR, None, now, "runs the pool"),
            self._account(
                accounts, "member", Role.MEMBER, member, now, "a founding member with deductions"
            ),
            self._account(
                accounts, "juror", Role.MEMBER, juror, now, f"drawn to vote on claim {claim.id}"
            ),
        ]
        return claim, made

    def _keep_openings(self, voting: Sequence[ClaimView], now: datetime) -> dict[str, set[str]]:
        assert self._sim is not None
        # The simulation keeps the openings of the votes it sealed; the
        # server keeps them privately until the reveal, as for a web vote.
        openings = {c.id: self._sim.sealed_votes(c.id) for c in voting}
        ids = {c.id: c for c in voting}
        seqs: dict[tuple[str, str], int] = {}
        for seq, data in enumerate(self.entries):
            if b'"vote.sealed"' in data:
                body = parse_entry(data, seq=seq).body
                if isinstance(body, VoteSealed) and body.claim in ids:
                    view = ids[body.claim]
                    if body.round == view.round:
                        seqs[(body.claim, body.juror)] = seq
        kept: dict[str, set[str]] = {}
        for (claim_id, juror), seq in seqs.items():
            choice, reason, salt = openings[claim_id][juror]
            view = ids[claim_id]
            vote = PrivateVote(claim_id, view.round, juror, choice, reason, salt)
            save_sealed_vote(self.engine, vote, now)
            set_sealed_seq(self.engine, claim_id, view.round, juror, seq)
            kept.setdefault(claim_id, set()).add(juror)
        return kept

    def _account(
        self,
        accounts: Accounts,
        username: str,
        role: Role,
        member_id: str | None,
        now: datetime,
        note: str,
    ) -> DemoAccount:
        password = secrets.token_urlsafe(12)
        account = accounts.register(username, password, now, role=role)
        if member_id is not None:
            _link_member(self.engine, account.id, member_id)
        return DemoAccount(role.value, username, password, member_id, note)


def _link_member(engine: Engine, account_id: int, member_id: str) -> None:
    """Give a demo account a member id of the simulated history, with the
    details stored for it (a real member joins through
    :meth:`PoolService.join` instead)."""
    with private_transaction(engine) as conn:
        conn.execute(
            update(_details).where(_details.c.member_id == member_id).values(account_id=account_id)
        )
        conn.execute(
            update(_accounts).where(_accounts.c.id == account_id).values(member_id=member_id)
        )


def _counted(entries: list[bytes], advance: Callable[[int], None] | None) -> Iterator[bytes]:
    for start in range(0, len(entries), STORE_CHUNK):
        chunk = entries[start : start + STORE_CHUNK]
        yield from chunk
        if advance is not None:
            advance(len(chunk))
