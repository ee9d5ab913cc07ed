"""What a dishonest operator can publish, built from an honest log.

The operator holds the log key, so most lies are *re-signed*: the honest
entries are decoded, changed as one kind of dishonesty says (with every
figure the cheater would also fix recomputed: a forged roster gets the root
and size of that roster, an inflated fee a share, a collection and a surplus
that follow from it), re-sequenced into a new hash chain, and loaded into a
fresh ``mutualog-server`` instance under a checkpoint signed with the same
key (:func:`publish`).  That instance is then snapshotted, exported or
served by the real server commands, so the client reads exactly what a real
server would serve.

The other lies are made to files after the fact (a tile, a bundle, the
checkpoint, the snapshot tar): :func:`rewrite_snapshot`.

A *mutation* is a function from the honest log's decoded entries to the
dishonest log's entries (:class:`Item`: a time and a body; ``seq`` and
``prev`` are assigned by :func:`rechain`).  Helpers here find entries, work
out rosters and juror pools from the log, and recompute period figures
(:func:`refigure`, and :func:`reclose` after payouts were changed).

A member's checks read a verification bundle, which a dishonest server
builds from its dishonest log (``mutualog-server serve`` over the forged
instance does exactly that) or doctors afterwards: :func:`get_bundle` asks a
server for one and :func:`bundle_site` lays out a static site that answers
the bundle routes with a doctored file.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from server.config import load_settings
from server.db import make_engine, upgrade
from server.storage import LogStore
from tests.client.harness import LogInstance
from tests.verifiable.pool.bundle_pool import roster_ids
from verifiable.log.bodies import (
    Body,
    ClaimDecided,
    ClaimPaid,
    JurorQualified,
    JurorRemoved,
    JuryPool,
    MemberLeft,
    Outcome,
    PanelDrawn,
    PeriodClosed,
)
from verifiable.log.bundle import Bundle, parse_bundle
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import FORMAT_VERSION, GENESIS_PREV, Entry, parse_entry
from verifiable.log.merkle import CompactTree, hash_leaves, leaf_hash, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.pool.roster import paid_claim_leaf, roster_root
from verifiable.pool.rules import DEFAULT_RULES, Rules, moment
from verifiable.pool.sortition import juror_pool_root

__all__ = [
    "HonestLog",
    "Item",
    "Mutation",
    "at",
    "bundle_site",
    "check_jury_pool",
    "check_roster",
    "decided_outcome",
    "decode",
    "find",
    "find_all",
    "get_bundle",
    "jury_pool_ids",
    "panel_of",
    "publish",
    "rechain",
    "reclose",
    "refigure",
    "rewrite_snapshot",
    "roster_ids",
    "sign_tree",
    "snapshot_members",
]

B = TypeVar("B", bound=Body)


@dataclass(frozen=True)
class Item:
    """One entry of a dishonest log before it is chained: its time and body."""

    time: datetime
    body: Body

    @classmethod
    def of(cls, entry: Entry) -> Item:
        return cls(entry.time, entry.body)


Mutation = Callable[[Sequence[Entry]], list[Item]]


@dataclass(frozen=True)
class HonestLog:
    """An honest log: its entries (bytes and decoded) and the key that signs it."""

    entries: tuple[bytes, ...]
    decoded: tuple[Entry, ...]
    key_file: Path
    signer: Ed25519Signer
    vkey: str

    @property
    def origin(self) -> str:
        return self.signer.name

    @classmethod
    def load(cls, entries: Sequence[bytes], key_file: Path, signer: Ed25519Signer) -> HonestLog:
        return cls(
            tuple(entries),
            decode(entries),
            key_file,
            signer,
            signer.verifier().to_vkey(),
        )

    def items(self) -> list[Item]:
        return [Item.of(e) for e in self.decoded]


def decode(entries: Sequence[bytes]) -> tuple[Entry, ...]:
    out = []
    prev = GENESIS_PREV
    for seq, data in enumerate(entries):
        out.append(parse_entry(data, seq=seq, prev=prev))
        prev = leaf_hash(data)
    return tuple(out)


# --- building the dishonest log -------------------------------------------------------


def rechain(items: Iterable[Item]) -> list[bytes]:
    """The items as canonical entries, ``seq`` and ``prev`` chained afresh."""
    out: list[bytes] = []
    prev = GENESIS_PREV
    for seq, item in enumerate(items):
        data = Entry(FORMAT_VERSION, seq, prev, item.time, item.body.TYPE, item.body).to_bytes()
        out.append(data)
        prev = leaf_hash(data)
    return out


def sign_tree(entries: Sequence[bytes], signer: Ed25519Signer) -> bytes:
    """A checkpoint note over ``entries``, signed by ``signer``."""
    tree = CompactTree()
    tree.extend(hash_leaves(entries))
    return sign_checkpoint(Checkpoint(signer.name, tree.size, tree.root()), signer)


def publish(
    folder: Path,
    key_file: Path,
    entries: Sequence[bytes],
    signer: Ed25519Signer,
    *,
    note: bytes | None = None,
) -> LogInstance:
    """A ``mutualog-server`` instance in the new ``folder`` holding
    ``entries`` under a checkpoint signed by ``signer`` (or ``note``), with
    ``key_file`` as its log key: ready for ``snapshot``, ``export-tiles``
    and ``serve``."""
    folder.mkdir(parents=True)
    shutil.copy2(key_file, folder / "log.key")
    settings = load_settings({"MUTUALOG_INSTANCE": folder})
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        LogStore(engine).load(entries, note if note is not None else sign_tree(entries, signer))
    finally:
        engine.dispose()
    return LogInstance(folder, signer.verifier().to_vkey(), signer.name)


# --- finding things in a log ------------------------------------------------------------


def find_all(
    entries: Sequence[Entry], kind: type[B], where: Callable[[B], bool] | None = None
) -> list[int]:
    """Indices of the entries whose body is a ``kind`` (and satisfies ``where``)."""
    return [
        i
        for i, e in enumerate(entries)
        if isinstance(e.body, kind) and (where is None or where(e.body))
    ]


def find(entries: Sequence[Entry], kind: type[B], where: Callable[[B], bool] | None = None) -> int:
    """The index of the first such entry; the honest log must have one."""
    found = find_all(entries, kind, where)
    assert found, f"the honest log has no {kind.TYPE} entry of the kind needed"
    return found[0]


def at(entries: Sequence[Entry], index: int, kind: type[B]) -> B:
    body = entries[index].body
    assert isinstance(body, kind), f"entry {index} is a {entries[index].type}"
    return body


def jury_pool_ids(entries: Sequence[Entry], index: int) -> list[str]:
    """The sorted ids of the qualified jurors when entry ``index`` (a
    ``jury.pool``) was appended."""
    jurors: set[str] = set()
    for e in entries[:index]:
        if isinstance(e.body, JurorQualified):
            jurors.add(e.body.member)
        elif isinstance(e.body, JurorRemoved | MemberLeft):
            jurors.discard(e.body.member)
    return sorted(jurors)


def check_roster(entries: Sequence[Entry], index: int) -> list[str]:
    """The roster of the ``period.closed`` at ``index``, checked against the
    honest entry, so a forged one differs by exactly what the test changed."""
    body = at(entries, index, PeriodClosed)
    ids = roster_ids(entries, moment(body.period))
    assert roster_root(ids) == (body.roster_root, body.roster_size)
    return ids


def check_jury_pool(entries: Sequence[Entry], index: int) -> list[str]:
    body = at(entries, index, JuryPool)
    ids = jury_pool_ids(entries, index)
    assert (juror_pool_root(ids), len(ids)) == (body.root, body.size)
    return ids


# --- figures a cheater recomputes --------------------------------------------------------


def refigure(body: PeriodClosed, **changes: object) -> PeriodClosed:
    """``body`` with ``changes``, and the figures that follow from them
    (share, unless given; collected; surplus out) recomputed by the rules'
    formula, so the forged entry is consistent in itself."""
    b = replace(body, **changes)  # type: ignore[arg-type]
    need = b.claims_total + b.fee + b.refunds - b.surplus_in
    share = b.share if "share" in changes else (0 if need <= 0 else -(-need // b.sharing))
    collected = share * b.sharing
    surplus_out = b.surplus_in + collected - b.claims_total - b.fee - b.refunds
    return replace(b, share=share, collected=collected, surplus_out=surplus_out)


def reclose(items: list[Item], period: date, rules: Rules = DEFAULT_RULES) -> list[Item]:
    """``items`` with ``period``'s ``period.closed`` committing to the
    ``claim.paid`` entries the items now hold for it, in log order (a
    duplicate hashed as listed, as a cheater paying twice would), with the
    fee and the figures that follow: an operator who changed payouts and
    closed the period on them."""
    paid = [
        (it.body.claim, it.body.amount)
        for it in items
        if isinstance(it.body, ClaimPaid) and it.body.period == period
    ]
    (i,) = [
        n
        for n, it in enumerate(items)
        if isinstance(it.body, PeriodClosed) and it.body.period == period
    ]
    body = items[i].body
    assert isinstance(body, PeriodClosed)
    total = sum(amount for _, amount in paid)
    items[i] = Item(
        items[i].time,
        refigure(
            body,
            claims_count=len(paid),
            claims_total=total,
            claims_root=root_hash([paid_claim_leaf(c, a) for c, a in paid]),
            fee=rules.fee(total),
        ),
    )
    return items


def decided_outcome(
    approvals: int, rejections: int, panel: int, amount: int, rules: Rules = DEFAULT_RULES
) -> tuple[Outcome, int]:
    """The outcome and amount the rules give for a tally (docs/rules.md §5)."""
    valid = approvals + rejections
    if valid < rules.quorum(panel):
        return Outcome.NO_QUORUM, 0
    if rules.approves(approvals, valid):
        return Outcome.APPROVED, amount
    return Outcome.REJECTED, 0


def panel_of(entries: Sequence[Entry], decision: int) -> PanelDrawn:
    """The panel that voted on the decision at ``decision``."""
    d = at(entries, decision, ClaimDecided)
    i = max(
        find_all(entries[:decision], PanelDrawn, lambda p: (p.claim, p.round) == (d.claim, d.round))
    )
    return at(entries, i, PanelDrawn)


# --- files changed after the fact --------------------------------------------------------


def snapshot_members(path: Path) -> list[tuple[str, bytes]]:
    """A snapshot's members, in order."""
    out = []
    with tarfile.open(path, mode="r:") as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None
            out.append((member.name, handle.read()))
    return out


def rewrite_snapshot(
    src: Path,
    dst: Path,
    change: Callable[[list[tuple[str, bytes]]], list[tuple[str, bytes]]],
) -> Path:
    """Copy the snapshot ``src`` to ``dst`` with its members passed through
    ``change``, written as the server writes them (ustar, mode 0644, mtime 0)."""
    members = change(snapshot_members(src))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    dst.write_bytes(buffer.getvalue())
    return dst


# --- bundles a server serves ---------------------------------------------------------------


def get_bundle(url: str, path: str) -> Bundle:
    """The bundle a server at ``url`` answers ``GET path`` with."""
    with urllib.request.urlopen(url + path, timeout=30) as response:
        return parse_bundle(response.read())


def bundle_site(export: Path, folder: Path, bundles: Mapping[str, Bundle]) -> Path:
    """A copy of the exported log ``export`` (checkpoint and tiles) in
    ``folder``, with ``bundles`` as files at their API paths
    (``api/v1/bundles/deduction``, ``api/v1/bundles/claim/<id>``): a static
    web server ignores the query string, so it answers every request for
    such a bundle with that file."""
    shutil.copytree(export, folder)
    for path, bundle in bundles.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bundle.to_bytes())
    return folder
