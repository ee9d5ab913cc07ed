"""The auditor's check of a whole log, from its URL, a snapshot or exported tiles.

Log-level checks, each reported by name:

* ``checkpoint`` — the note is signed by the log key for the origin
  (C2SP tlog-checkpoint in a signed-note);
* ``witnesses`` — with a pinned witness policy, K of the pinned witnesses
  cosigned it (C2SP tlog-cosignature);
* ``consistent with last sync`` — with a pinned log, the checkpoint extends
  the last one ``sync`` stored (RFC 9162 §2.1.4, proof from the audited tiles);
* ``resume point`` — when an interrupted audit is resumed, the checkpoint
  extends the prefix that audit had proven;
* ``tiles and entries`` — every hash tile is authenticated up to the root
  (C2SP tlog-tiles), every entry bundle matches its level-0 tile, every entry
  is canonical and chained to the one before: the walk of
  :class:`verifiable.log.tiledlog.LogCursor`, the one the server's restore
  runs too, which hands each entry and its leaf hash to the rules replay;
* ``snapshot layout`` — a snapshot holds exactly the log's files.

Then the pool-level replay (``rules``): a log that begins with a
``pool.rules`` entry is replayed through :class:`verifiable.pool.replay.Replayer`,
every rule and money conserved.  A log that does not is a pool's log without
its rulebook, and fails ``rules.genesis``, when it is pinned as a pool's or
holds any pool entry type (:func:`verifiable.pool.replay.require_rulebook`):
an operator who dropped, moved or replaced the rulebook and re-signed the
log must not have every rule skipped.  Only a log of none of those (format
growth may bring entry types of the log itself) is reported as not replayed.
An audit that proves entry 0 a ``pool.rules`` entry of a pinned log records
in the pin that the log is a pool's (:attr:`client.state.PinnedLog.pool`).
Last, ``verifier page``: the served page (or ``--page``'s copy) against the
log's published hash (:mod:`client.verifier_page`).

Resuming.  The rules replay keeps the pool's records in the state folder
(:mod:`client.audit_store`, an SQLite file) when there is one, and every
few level-0 tiles, and when interrupted, saves them in one transaction with
where the walk stands: the checkpoint it is checking, the number of entries
proven (a multiple of 256), the leaf hash of the last of them (the chain
head), the compact range of that prefix (hashes read from authenticated
tiles) and the state's small part.  A re-run checks the saved file whole,
then proves its own checkpoint consistent with that prefix before going on
from it with the saved state, so a resume point is never taken on trust
from the server; a file that cannot be used is said so and the audit starts
afresh.  A log without a rulebook saves nothing: its walk starts over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from client import audit_store
from client.audit_store import SavedPoint, SqliteStore
from client.fetch import Fetcher
from client.sources import open_source
from client.state import AuditProgress, PinnedLog, StateDir, StateError
from client.sync import InconsistentError, TileProofError, prove_consistent, witness_check
from client.verifier_page import SavedPage, page_check
from verifiable.errors import MalformedError, MutualogError, RuleViolation, VerificationError
from verifiable.findings import Finding
from verifiable.log.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from verifiable.log.entry import GENESIS_PREV, ChainHead
from verifiable.log.note import Ed25519Verifier
from verifiable.log.tiledlog import LogCursor, LogPosition
from verifiable.log.tiles import TILE_WIDTH, bundles_for_size, tiles_for_size
from verifiable.pool.replay import (
    RULEBOOK_TYPE,
    PoolSummary,
    Replayer,
    decode_entry,
    require_rulebook,
)
from verifiable.pool.state import PoolState
from verifiable.pool.state_head import head_bytes
from verifiable.pool.state_head import resume as resume_state

__all__ = ["AuditReport", "RulesResult", "audit_log", "audit_source"]

SAVE_EVERY_TILES = 256
"""Save the resume point at least every this many level-0 tiles (65,536 entries) ..."""
SAVE_EVERY_SECONDS = 30.0
"""... or this often, whichever comes first ..."""
SAVE_FROM_RECORDS = 250_000
"""... once the pool's state holds this many records.  A smaller state is
saved only when the audit is interrupted: such an audit takes seconds, and
writing each record as it goes costs a third of its speed (docs/client.md)."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RulesResult:
    """The pool-level replay: ``status`` is ``"ok"``, ``"failed"`` or
    ``"skipped"`` (a log without a rulebook)."""

    status: str
    detail: str
    summary: PoolSummary | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"status": self.status, "detail": self.detail}
        if self.summary is not None:
            s = self.summary
            out["summary"] = {
                "entries": s.entries,
                "members": s.members,
                "members_left": s.members_left,
                "jurors": s.jurors,
                "claims": s.claims,
                "claims_by_stage": dict(s.claims_by_stage),
                "periods_closed": s.periods_closed,
                "ledger_fen": {
                    "collected": s.ledger.collected,
                    "aid": s.ledger.aid,
                    "fees": s.ledger.fees,
                    "refunds": s.ledger.refunds,
                    "surplus": s.ledger.surplus,
                },
                "overrides": len(s.overrides),
            }
        return out


@dataclass
class AuditReport:
    source: str
    origin: str
    size: int = 0
    root: str = ""
    entries: int = 0
    checks: list[Finding] = field(default_factory=list)
    rules: RulesResult | None = None
    verifier_page: Finding | None = None
    resumed_from: int = 0
    notes: list[str] = field(default_factory=list)
    transfer: dict[str, int] | None = None

    @property
    def ok(self) -> bool:
        rules_ok = self.rules is None or self.rules.status != "failed"
        page_ok = self.verifier_page is None or not self.verifier_page.failed
        return bool(self.checks) and all(c.ok for c in self.checks) and rules_ok and page_ok

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "source": self.source,
            "origin": self.origin,
            "size": self.size,
            "root": self.root,
            "entries": self.entries,
            "verified": self.ok,
            "checks": [c.to_json("verdict") for c in self.checks],
            "rules": self.rules.to_json() if self.rules else None,
            "verifier_page": self.verifier_page.to_json("status") if self.verifier_page else None,
            "resumed_from": self.resumed_from,
            "notes": list(self.notes),
        }
        if self.transfer is not None:
            out["transfer"] = dict(self.transfer)
        return out


class _Audit:
    """One audit's I/O and state around the walk: the walk itself is
    :class:`verifiable.log.tiledlog.LogCursor`'s; here are the saved point,
    the progress and the hand-off of each entry to the rules replay
    (:meth:`_check`, the cursor's entry check)."""

    def __init__(
        self,
        source: Fetcher,
        signed: SignedCheckpoint,
        report: AuditReport,
        state: StateDir | None,
        on_progress: Progress | None,
        pool: bool = False,
    ) -> None:
        self.source = source
        self.pool = pool
        self.signed = signed
        self.cp = signed.checkpoint
        self.report = report
        self.state = state
        self.on_progress = on_progress
        self.cursor = LogCursor(self.cp.size, self.cp.root_hash, source.fetch, check=self._check)
        self.rules: bool | None = None  # None until entry 0 says whether there is a rulebook
        self.replayer: Replayer | None = None
        self.store: SqliteStore | None = None
        self.rules_error: str | None = None
        self.done = 0
        self.total = self.cp.size
        self._saved_at = time.monotonic()
        self._saved_tiles = 0

    # -- resume ------------------------------------------------------------------

    def resume(self, verifier: Ed25519Verifier) -> None:
        """Continue from the saved point, once this checkpoint is proven to
        extend the prefix it proved; else start afresh (a failed proof is a
        failed check)."""
        assert self.state is not None
        loaded = audit_store.load(self.state.audit_state_path(self.cp.origin))
        if isinstance(loaded, str):
            if loaded:
                self.report.notes.append(f"{loaded}; started afresh")
            return
        store, point = loaded
        try:
            if not self._take_up(store, point, verifier):
                store.close()
        except BaseException:
            store.close()
            raise

    def _take_up(self, store: SqliteStore, point: SavedPoint, verifier: Ed25519Verifier) -> bool:
        cp, progress = self.cp, point.progress
        p = progress.position
        try:
            earlier = open_checkpoint(progress.checkpoint, verifier, cp.origin).checkpoint
            if p > earlier.size:
                raise MalformedError(f"position {p} beyond its checkpoint's size {earlier.size}")
            position = LogPosition(p, progress.chain_head, progress.compact_range)
            pool = resume_state(store, point.head)
            replayer = Replayer.taken_up(pool, ChainHead(p, position.head), position.compact_range)
        except MutualogError as e:
            self.report.notes.append(f"saved audit state not usable ({e}); started afresh")
            return False
        prefix = Checkpoint(cp.origin, p, position.root())
        try:
            detail = prove_consistent(prefix, cp, self.cursor.reader)
        except (InconsistentError, TileProofError) as e:
            self.report.checks.append(
                Finding.verdict(
                    "resume point",
                    False,
                    f"the interrupted audit had proven entries 0..{p - 1} of a checkpoint of "
                    f"size {earlier.size}; this checkpoint does not extend them: {e}",
                )
            )
            return False
        self.report.checks.append(
            Finding.verdict(
                "resume point",
                True,
                f"entries 0..{p - 1} proven and their rules replayed by an interrupted audit "
                f"(checkpoint of size {earlier.size}), the pool's state as it saved it; {detail}",
            )
        )
        self.report.resumed_from = p
        self.cursor.seek(position)
        self.rules, self.replayer, self.store = True, replayer, store
        self.total = cp.size - p
        return True

    # -- the pass over the log --------------------------------------------------------

    def _progress(self, n: int) -> None:
        self.done += n
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)

    def _start_rules(self) -> Replayer:
        """The replayer of a log with a rulebook: its records in the state
        folder when there is one, else in memory."""
        if self.state is not None:
            try:
                self.store = audit_store.open_fresh(self.state.audit_state_path(self.cp.origin))
            except StateError as e:
                self.report.notes.append(f"the pool's state kept in memory, not saved: {e}")
        if self.store is None:
            return Replayer()
        return Replayer.taken_up(PoolState(self.store), ChainHead(0, GENESIS_PREV), ())

    def _check(self, data: bytes, seq: int, prev: bytes, leaf: bytes) -> None:
        """The cursor's entry check: the rules replay while there is one (it
        parses and chains the entry too), else the canonical form and chain."""
        if self.rules is None:
            entry = decode_entry(data, 0, GENESIS_PREV)
            self.rules = entry.type == RULEBOOK_TYPE
            if self.rules:
                self.replayer = self._start_rules()
        replayer = self.replayer
        if replayer is not None:
            try:
                replayer.feed_bytes(data, leaf)
            except RuleViolation as e:
                # The rules stop here; the log-level checks go on.
                self.rules_error = str(e)
                self.replayer = None
        else:
            entry = decode_entry(data, seq, prev)
            if not self.rules and self.rules_error is None:
                try:
                    require_rulebook(seq, entry.type, pool=self.pool)
                except RuleViolation as e:
                    self.rules_error = str(e)

    def run(self) -> None:
        for tile in self.cursor.tiles():
            self._progress(tile.width)
            if tile.width == TILE_WIDTH and self.store is not None and self.replayer is not None:
                self._mark()
                self._maybe_save()

    # -- saving ------------------------------------------------------------------------

    def _mark(self) -> None:
        # Only at a tile boundary: the compact range is then made of hashes
        # of whole level-0 tiles, each authenticated against the root.
        assert self.store is not None and self.replayer is not None
        position = self.cursor.position
        progress = AuditProgress(
            checkpoint=self.signed.to_bytes(),
            position=position.size,
            chain_head=position.head,
            compact_range=position.compact_range,
            rules=True,
        )
        self.store.mark(SavedPoint(progress, head_bytes(self.replayer.state)))

    def _maybe_save(self) -> None:
        self._saved_tiles += 1
        now = time.monotonic()
        if self._saved_tiles >= SAVE_EVERY_TILES or now - self._saved_at >= SAVE_EVERY_SECONDS:
            if self.store is not None and self.store.records < SAVE_FROM_RECORDS:
                return
            self.save()
            self._saved_tiles, self._saved_at = 0, now

    def save(self) -> None:
        """Save the state at the last tile boundary, with where it stands."""
        if self.store is None:
            return
        try:
            self.store.save()
        except StateError as e:
            self.report.notes.append(f"resume point not saved: {e}")

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def finish(self) -> None:
        self.close()
        if self.state is not None:
            try:
                self.state.clear_progress(self.cp.origin)
            except StateError as e:
                self.report.notes.append(str(e))


def _check_layout(listing: frozenset[str], size: int) -> Finding:
    expected = {"checkpoint"} | {t.path() for t in (*tiles_for_size(size), *bundles_for_size(size))}
    extra = sorted(listing - expected)
    return Finding.verdict(
        "snapshot layout",
        not extra,
        f"{len(extra)} file(s) not part of the log, first {extra[0]!r}"
        if extra
        else "exactly the log's checkpoint, tiles and bundles",
    )


def _check_synced(report: AuditReport, synced: Checkpoint, audit: _Audit) -> None:
    cp = audit.cp
    if synced.size <= cp.size:
        try:
            detail = prove_consistent(synced, cp, audit.cursor.reader)
            report.checks.append(Finding.verdict("consistent with last sync", True, detail))
        except (InconsistentError, TileProofError) as e:
            report.checks.append(Finding.verdict("consistent with last sync", False, str(e)))
    else:
        report.notes.append(
            f"the last checkpoint sync stored (size {synced.size}) is newer than this one: "
            "not compared"
        )


def _walk(audit: _Audit, resume: bool, verifier: Ed25519Verifier) -> bool:
    """Resume if asked and there is a saved point, then walk the log;
    whether the tiles and entries all verified (a failure is the report's)."""
    report = audit.report
    try:
        if resume:
            audit.resume(verifier)
        audit.run()
    except (MalformedError, VerificationError) as e:
        report.entries = audit.cursor.proven
        report.checks.append(Finding.verdict("tiles and entries", False, str(e)))
        audit.finish()
        return False
    except BaseException:
        # Interrupted (network, Ctrl-C): keep what is proven for the next run.
        audit.save()
        audit.close()
        raise
    report.entries = audit.cursor.proven
    resumed = (
        f" (entries 0..{report.resumed_from - 1} in an earlier, interrupted run)"
        if report.resumed_from
        else ""
    )
    report.checks.append(
        Finding.verdict(
            "tiles and entries",
            True,
            f"{report.entries} entries: every tile hashes to the root, every entry is "
            f"canonical and chained{resumed}",
        )
    )
    return True


def audit_log(
    source: Fetcher,
    verifier: Ed25519Verifier,
    origin: str,
    *,
    pin: PinnedLog | None = None,
    synced: Checkpoint | None = None,
    state: StateDir | None = None,
    restart: bool = False,
    on_progress: Progress | None = None,
    note: bytes | None = None,
    page: SavedPage | None = None,
) -> AuditReport:
    """Audit the log ``source`` serves (see the module docstring); ``note``
    is its checkpoint, if already read; ``page`` a saved copy of the
    verifier page to check instead of the served one.

    ``pin`` brings the witness policy, ``synced`` the last checkpoint
    ``sync`` stored, ``state`` the place to save and find a resume point
    (``restart`` forgets it).  Raises :class:`~client.sources.SourceError`,
    :class:`~client.fetch.FetchError` or :class:`~client.state.StateError`
    when the audit cannot go on, after saving its resume point; every check
    that runs lands in the report.
    """
    report = AuditReport(source=source.label, origin=origin)
    if note is None:
        note = source.checkpoint()
    try:
        witnesses = pin.witness_verifiers() if pin is not None else []
        signed = open_checkpoint(note, verifier, origin, witnesses)
    except MutualogError as e:
        report.checks.append(Finding.failure("checkpoint", str(e)))
        return report
    cp = signed.checkpoint
    report.size, report.root = cp.size, cp.root_hash.hex()
    report.checks.append(Finding.passed("checkpoint", f"signed by {verifier.name}, size {cp.size}"))
    policy = pin.witness_policy() if pin is not None else None
    if policy is not None:
        # The one clock read of an audit: a cosignature dated later is refused.
        report.checks.append(witness_check(signed, policy, int(time.time())))
    audit = _Audit(source, signed, report, state, on_progress, pin is not None and pin.pool)
    if synced is not None:
        _check_synced(report, synced, audit)
    if state is not None and restart:
        state.clear_progress(origin)
    if not _walk(audit, state is not None and not restart, verifier):
        return report
    listing = source.listing()
    if listing is not None:
        report.checks.append(_check_layout(listing, cp.size))
    report.rules = _rules_result(audit)
    audit.finish()
    if pin is not None and state is not None and audit.rules and not pin.pool:
        _learn_pool(report, state, pin)
    report.verifier_page = page_check(source, report.rules.status, report.rules.summary, page)
    return report


def _learn_pool(report: AuditReport, state: StateDir, pin: PinnedLog) -> None:
    """Record in the pin that the log is a pool's: entry 0, proven against the
    signed checkpoint, is its rulebook.  From then on a snapshot of it without
    the rulebook fails ``rules.genesis`` whatever it holds."""
    try:
        state.save_pin(replace(pin, pool=True))
    except StateError as e:
        report.notes.append(f"the pin not updated: {e}")
        return
    report.notes.append("entry 0 is the pool's rulebook: the pin now records a pool's log")


def _rules_result(audit: _Audit) -> RulesResult:
    if audit.rules_error is not None:
        return RulesResult("failed", audit.rules_error)
    if audit.cursor.proven == 0:
        return RulesResult("skipped", "the log is empty: no rules to replay")
    if audit.replayer is None:
        return RulesResult(
            "skipped",
            "the log does not begin with a pool.rules entry: format-level content only, "
            "no rules to replay",
        )
    try:
        result = audit.replayer.result()
    except RuleViolation as e:
        return RulesResult("failed", str(e))
    s = result.summary
    return RulesResult(
        "ok",
        f"{s.entries} entries replayed under the logged rules: {s.members} members, "
        f"{s.claims} claims, {s.periods_closed} periods closed, money conserved to the fen",
        s,
    )


def audit_source(
    path: Path,
    verifier: Ed25519Verifier,
    origin: str,
    progress: Progress | None = None,
) -> AuditReport:
    """Audit the snapshot or folder at ``path`` with no state folder."""
    source = open_source(path)
    try:
        return audit_log(source, verifier, origin, on_progress=progress)
    finally:
        source.close()
