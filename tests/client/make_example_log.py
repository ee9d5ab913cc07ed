"""Make the example log that ships with the client (``mutualog audit --example``).

Deterministic: a fixed Ed25519 seed, a fixed clock and fixed member ids, so
running it again gives the same bytes; ``tests/client/test_example_log.py``
checks that the committed files are exactly what this script makes.

    python tests/client/make_example_log.py client/examples
"""

from __future__ import annotations

import hashlib
import io
import sys
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from verifiable.log.bodies import AgeBand, MemberJoined, PoolRules
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import GENESIS_PREV, Entry, make_entry
from verifiable.log.merkle import leaf_hash, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.log.tiles import build_bundles, build_tiles

ORIGIN = "example.org/mutualog/example"
SEED = hashlib.sha256(b"mutualog example log key").digest()
START = datetime(2026, 1, 1, tzinfo=UTC)
MEMBERS = 300  # more than one full tile of 256, so the example has full and partial tiles
BANDS = (AgeBand.UNDER_18, AgeBand.FROM_18_TO_39, AgeBand.FROM_40_TO_59)


def _entries() -> list[Entry]:
    entries: list[Entry] = []
    prev = GENESIS_PREV
    rules = PoolRules(effective=START, rules={}, reason="The default rulebook.")
    bodies: list[tuple[str, PoolRules | MemberJoined]] = [("pool.rules", rules)]
    for i in range(MEMBERS):
        member = hashlib.sha256(b"example member %d" % i).hexdigest()[:32]
        bodies.append(("member.joined", MemberJoined(member=member, age_band=BANDS[i % 3])))
    for seq, (kind, body) in enumerate(bodies):
        entry = make_entry(seq, prev, START + timedelta(minutes=seq), kind, body)
        entries.append(entry)
        prev = entry.leaf_hash()
    return entries


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def make(folder: Path) -> None:
    signer = Ed25519Signer(ORIGIN, SEED)
    raw = [e.to_bytes() for e in _entries()]
    hashes = [leaf_hash(r) for r in raw]
    note = sign_checkpoint(Checkpoint(ORIGIN, len(raw), root_hash(hashes)), signer)
    files = {"checkpoint": note}
    files.update({t.path(): d for t, d in build_tiles(hashes).items()})
    files.update({t.path(): d for t, d in build_bundles(raw).items()})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            _add(tar, name, files[name])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "example-log.tar").write_bytes(buffer.getvalue())
    (folder / "example-log.vkey").write_text(signer.verifier().to_vkey() + "\n")


if __name__ == "__main__":
    make(Path(sys.argv[1]))
