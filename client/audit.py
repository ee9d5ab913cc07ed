"""The auditor's check of a whole log from a snapshot or exported tiles.

It verifies the signed checkpoint, every hash tile and entry bundle, every
entry's canonical form and the hash chain, and that the snapshot holds
exactly the files of the log at the checkpoint's size.  The pool's rules are
replayed by a later stage of the audit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from client.sources import TarSource, open_source
from verifiable.errors import MutualogError
from verifiable.note import Ed25519Verifier
from verifiable.tiledlog import open_tiled_log
from verifiable.tiles import bundles_for_size, tiles_for_size

__all__ = ["AuditReport", "Check", "audit_source"]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class AuditReport:
    source: str
    origin: str
    size: int = 0
    root: str = ""
    entries: int = 0
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "origin": self.origin,
            "size": self.size,
            "root": self.root,
            "entries": self.entries,
            "verified": self.ok,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def audit_source(
    path: Path,
    verifier: Ed25519Verifier,
    origin: str,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Audit the log at ``path``.  Raises :class:`~client.sources.SourceError` when the source
    cannot be read at all; every check that runs lands in the report."""
    report = AuditReport(source=str(path), origin=origin)
    source = open_source(path)
    try:
        try:
            log = open_tiled_log(source.checkpoint(), verifier, origin, source.fetch)
        except MutualogError as e:
            report.checks.append(Check("checkpoint", False, str(e)))
            return report
        cp = log.checkpoint.checkpoint
        report.size, report.root = cp.size, cp.root_hash.hex()
        report.checks.append(
            Check("checkpoint", True, f"signed by {verifier.name}, size {cp.size}")
        )
        try:
            for item in log.entries():
                report.entries = item.index + 1
                if progress is not None:
                    progress(report.entries, cp.size)
        except MutualogError as e:
            report.checks.append(Check("tiles and entries", False, str(e)))
            return report
        report.checks.append(
            Check(
                "tiles and entries",
                True,
                f"{report.entries} entries: every tile hashes to the root, every entry is "
                "canonical and chained",
            )
        )
        if isinstance(source, TarSource):
            expected = {"checkpoint"} | {
                t.path() for t in (*tiles_for_size(cp.size), *bundles_for_size(cp.size))
            }
            extra = sorted(source.names() - expected)
            report.checks.append(
                Check(
                    "snapshot layout",
                    not extra,
                    f"{len(extra)} file(s) not part of the log, first {extra[0]!r}"
                    if extra
                    else "exactly the log's checkpoint, tiles and bundles",
                )
            )
        return report
    finally:
        source.close()
