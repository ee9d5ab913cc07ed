"""Fetching verification bundles, and checking them offline against the synced checkpoint.

``fetch`` syncs first (:func:`client.sync.sync_log`), then asks the log's
server for a bundle at the size of the checkpoint it just accepted
(``GET /api/v1/bundles/...?size=N``, docs/api.md), and saves it in the state
folder: ``logs/<origin>/bundles/deduction-<period>-<member>.json`` or
``claim-<claim>.json``.  For a deduction it then draws the sample locally,
with the operating system's randomness, from the period's paid-claims list
the bundle carries, and fetches each sampled claim's bundle at the same size.

``verify-deduction`` and ``verify-claim`` read a bundle file and the state
folder only: no network.  The bundle's checkpoint must be signed by the
pinned key (``checkpoint``) and be the checkpoint ``sync`` stored
(``synced``); everything else is :mod:`verifiable.pool.deduction` and
:mod:`verifiable.pool.claim_check`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from client.fetch import Fetcher, FetchError
from client.state import StateDir, StateError, safe_name
from client.sync import open_stored
from verifiable.errors import MalformedError, MutualogError
from verifiable.findings import Finding
from verifiable.log.bundle import MAX_BUNDLE_BYTES, Bundle, merge_bundles, parse_bundle
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.fields import format_date
from verifiable.log.note import Note
from verifiable.pool.claim_check import check_claim
from verifiable.pool.deduction import check_deduction
from verifiable.pool.proven import open_bundle
from verifiable.pool.redacted_check import check_redacted_opening

__all__ = [
    "BundleError",
    "BundleReport",
    "bundle_origin",
    "claim_path",
    "deduction_path",
    "fetch_claim",
    "fetch_deduction",
    "read_bundle",
    "save_bundle",
    "verify_claim",
    "verify_deduction",
]


class BundleError(MutualogError):
    """A bundle that cannot be read, fetched or matched to the state: exit 2."""


def deduction_path(state: StateDir, origin: str, member: str, period: date) -> Path:
    return state.log_dir(origin) / "bundles" / f"deduction-{format_date(period)}-{member}.json"


def claim_path(state: StateDir, origin: str, claim: str) -> Path:
    return state.log_dir(origin) / "bundles" / f"claim-{safe_name(claim)}.json"


def save_bundle(path: Path, bundle: Bundle) -> None:
    """Write ``bundle`` to ``path`` (through a temporary name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(bundle.to_bytes())
    tmp.replace(path)


def read_bundle(path: Path) -> Bundle:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BundleError(f"{path}: cannot be read: {e.strerror or e}") from e
    try:
        return parse_bundle(data)
    except MalformedError as e:
        raise BundleError(f"{path}: not a verification bundle: {e}") from e


def bundle_origin(bundle: Bundle, where: str) -> str:
    """The origin line of the bundle's checkpoint, not yet verified: only
    used to find the pinned key, which then verifies it."""
    try:
        return Checkpoint.from_text(Note.from_bytes(bundle.checkpoint).text).origin
    except MutualogError as e:
        raise BundleError(f"{where}: the bundle's checkpoint is not a checkpoint note: {e}") from e


def _get(fetcher: Fetcher, path: str) -> Bundle:
    data = fetcher.get(path, MAX_BUNDLE_BYTES)
    if data is None:
        raise FetchError(f"GET {fetcher.url(path)}: 404, the log has no such bundle")
    try:
        return parse_bundle(data)
    except MalformedError as e:
        raise FetchError(f"GET {fetcher.url(path)}: not a verification bundle: {e}") from e


def _same_checkpoint(bundle: Bundle, size: int, url: str) -> None:
    # The server must answer at the size asked for; anything else is refused
    # here rather than saved and failed later.
    try:
        got = Checkpoint.from_text(Note.from_bytes(bundle.checkpoint).text).size
    except MutualogError as e:
        raise FetchError(f"{url}: the bundle's checkpoint does not parse: {e}") from e
    if got != size:
        raise FetchError(f"{url}: a bundle at size {got}, not the synced size {size}")


def fetch_claim(fetcher: Fetcher, size: int, claim: str, since: int | None = None) -> Bundle:
    """The claim's bundle at tree ``size``; with ``since``, holding the
    consistency proof from that size too (for ``verify-receipt --bundle``)."""
    more = f"&since={since}" if since is not None else ""
    bundle = _get(fetcher, f"api/v1/bundles/claim/{claim}?size={size}{more}")
    _same_checkpoint(bundle, size, fetcher.url("api/v1/bundles/claim"))
    return bundle


def fetch_deduction(fetcher: Fetcher, size: int, member: str, period: date, sample: int) -> Bundle:
    """The member's deduction bundle at tree ``size``, with ``sample`` claims
    drawn from its paid list with :mod:`secrets` and their bundles merged in."""
    path = f"api/v1/bundles/deduction?member={member}&period={format_date(period)}&size={size}"
    bundle = _get(fetcher, path)
    _same_checkpoint(bundle, size, fetcher.url("api/v1/bundles/deduction"))
    if bundle.deduction is None:
        raise FetchError(f"{fetcher.url(path)}: a bundle without the deduction part")
    paid = [claim for claim, _ in bundle.deduction.paid]
    chosen = secrets.SystemRandom().sample(paid, min(sample, len(paid)))
    claims = [fetch_claim(fetcher, size, claim) for claim in chosen]
    try:
        return merge_bundles(bundle, *claims)
    except MalformedError as e:
        raise FetchError(f"{fetcher.label}: claim bundles at another checkpoint: {e}") from e


@dataclass
class BundleReport:
    """What a verifying command found."""

    command: str
    origin: str
    bundle: Path
    size: int = 0
    root: str = ""
    subject: dict[str, object] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)

    def to_json(self) -> dict[str, object]:
        return {
            "command": self.command,
            "origin": self.origin,
            "bundle": str(self.bundle),
            "size": self.size,
            "root": self.root,
            **self.subject,
            "verified": self.ok,
            "checks": [f.to_json("evidence") for f in self.findings],
        }


def _synced(state: StateDir, bundle: Bundle, path: Path) -> tuple[str, Finding, Checkpoint]:
    """The origin, the ``synced`` finding, and the stored checkpoint; raises
    :class:`BundleError` when the two cannot be compared."""
    origin = bundle_origin(bundle, str(path))
    pin = state.load_pin(origin)
    if pin is None:
        raise BundleError(
            f"the log {origin!r} is not pinned: run `mutualog trust ORIGIN VERIFIER_KEY` first"
        )
    note = state.load_checkpoint(origin)
    if note is None:
        raise BundleError(f"no checkpoint of {origin} synced yet: run `mutualog sync URL` first")
    stored = open_stored(note, pin, state.checkpoint_path(origin)).checkpoint
    try:
        mine = Checkpoint.from_text(Note.from_bytes(bundle.checkpoint).text)
    except MutualogError as e:
        raise BundleError(f"{path}: the bundle's checkpoint does not parse: {e}") from e
    if mine.size != stored.size:
        raise BundleError(
            f"{path} was fetched at size {mine.size}, the last synced checkpoint has size "
            f"{stored.size}: fetch the bundle again"
        )
    if mine.root_hash != stored.root_hash:
        finding = Finding.failure(
            "synced",
            "the bundle's checkpoint and the synced one have the same size and different roots",
            stored.root_hash.hex(),
            mine.root_hash.hex(),
            f"size {stored.size}",
        )
    else:
        finding = Finding.passed("synced", f"the checkpoint sync stored (size {stored.size})")
    return origin, finding, stored


def _report(
    command: str, state: StateDir, path: Path, bundle: Bundle
) -> tuple[BundleReport, Finding, Checkpoint]:
    origin, synced, stored = _synced(state, bundle, path)
    report = BundleReport(command, origin, path, size=stored.size, root=stored.root_hash.hex())
    return report, synced, stored


def verify_deduction(
    state: StateDir, path: Path, bundle: Bundle, member: str, period: date
) -> BundleReport:
    """``verify-deduction``, offline."""
    report, synced, _ = _report("verify-deduction", state, path, bundle)
    pin = state.load_pin(report.origin)
    if pin is None:  # pragma: no cover - _synced checked it
        raise StateError(f"{report.origin} is not pinned")
    result = check_deduction(bundle, pin.verifier(), report.origin, member, period)
    findings = list(result.findings)
    findings.insert(1 if findings and findings[0].name == "checkpoint" else 0, synced)
    report.findings = findings
    report.subject = {
        "member": member,
        "period": format_date(period),
        "share": result.closed.share if result.closed else None,
        "sample": list(bundle.claims),
    }
    return report


def verify_claim(
    state: StateDir,
    path: Path,
    bundle: Bundle,
    claim: str,
    openings: Sequence[Mapping[str, object]] = (),
) -> BundleReport:
    """``verify-claim``, offline; with ``openings``, each redacted copy's
    opening checked against the claim's notice."""
    report, synced, _ = _report("verify-claim", state, path, bundle)
    pin = state.load_pin(report.origin)
    if pin is None:  # pragma: no cover - _synced checked it
        raise StateError(f"{report.origin} is not pinned")
    findings = check_claim(bundle, pin.verifier(), report.origin, claim)
    if openings:
        proven, _opened = open_bundle(bundle, pin.verifier(), report.origin)
        if proven is not None:
            findings += [check_redacted_opening(proven, claim, o) for o in openings]
    findings.insert(1 if findings and findings[0].name == "checkpoint" else 0, synced)
    report.findings = findings
    stage = next((f.detail.split()[-1] for f in findings if f.name == "stage"), None)
    report.subject = {"claim": claim, "stage": stage}
    return report
