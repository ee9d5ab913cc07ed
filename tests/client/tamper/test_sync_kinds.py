"""The tamper suite: a member's history rewritten between two syncs.

The member synced the log when it was shorter (the ``earlier`` fixture);
the next ``mutualog sync`` must refuse the rewritten log, keep the stored
checkpoint and write the evidence; an auditor who synced before sees the
same rewrite in a snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from server.keys import create_key_file, load_signer
from tests.client.harness import LogInstance, Mutualog, Servers
from tests.client.tamper.forgeries import Forge, insert, put
from tests.client.tamper.honest import (
    ORIGIN,
    SYNCED_BEHIND,
    Demo,
    Synced,
    forge_instance,
    json_report,
)
from tests.client.tampering import Item, at, find, publish
from verifiable.log.bodies import ClaimNoticed, OperatorOverride, VoteSealed
from verifiable.log.fields import read_shape


def entry_changed(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, ClaimNoticed)
    body = at(e, i, ClaimNoticed)
    return put(d.log.items(), i, replace(body, text=body.text + " (amended)"))


def entry_dropped(d: Demo) -> list[Item]:
    items = d.log.items()
    del items[find(d.log.decoded, VoteSealed)]
    return items


def entries_reordered(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, VoteSealed)
    items = d.log.items()
    # Two votes swapped, each keeping its slot's time: the order is all that changed.
    items[i], items[i + 1] = Item(e[i].time, e[i + 1].body), Item(e[i + 1].time, e[i].body)
    return items


def entry_inserted(d: Demo) -> list[Item]:
    note = OperatorOverride("note", "rules", "A note the members never saw.", read_shape({}, "d"))
    return insert(d.log.items(), 100, note)


@dataclass(frozen=True)
class HistoryKind:
    """A log the member's next ``sync`` must refuse: ``kind`` names the
    evidence folder, ``detail`` is part of the failed check's message."""

    id: str
    serve: Callable[[Demo, Path], LogInstance]
    kind: str
    check: str
    detail: str
    resigned: bool = True


def _rewritten(forge: Forge) -> Callable[[Demo, Path], LogInstance]:
    return lambda d, folder: forge_instance(d, folder, forge(d))


def _shrunk(d: Demo, folder: Path) -> LogInstance:
    entries = d.log.entries[: len(d.log.entries) - SYNCED_BEHIND - 100]
    return publish(folder / "shrunk", d.log.key_file, entries, d.log.signer)


def _other_key(d: Demo, folder: Path) -> LogInstance:
    key = folder / "other.key"
    create_key_file(key, d.log.origin, bytes(32))
    return publish(folder / "other", key, d.log.entries, load_signer(key))


HISTORY_KINDS = [
    HistoryKind("entry-changed", _rewritten(entry_changed), "fork", "consistency", "forked"),
    HistoryKind("entry-dropped", _rewritten(entry_dropped), "fork", "consistency", "forked"),
    HistoryKind(
        "entries-reordered", _rewritten(entries_reordered), "fork", "consistency", "forked"
    ),
    HistoryKind("entry-inserted", _rewritten(entry_inserted), "fork", "consistency", "forked"),
    HistoryKind("log-shrank", _shrunk, "shrank", "consistency", "the log shrank", resigned=False),
    HistoryKind(
        "checkpoint-signed-by-another-key",
        _other_key,
        "bad-checkpoint",
        "signature",
        "no signature by a known key",
        resigned=False,
    ),
]


def _evidence(state: Path) -> dict[str, Any]:
    (folder,) = (state / "logs").iterdir()
    (found,) = (folder / "evidence").iterdir()
    assert (found / "old-checkpoint").is_file() and (found / "new-checkpoint").is_file()
    evidence: dict[str, Any] = json.loads((found / "evidence.json").read_text())
    return evidence


@pytest.mark.parametrize("kind", HISTORY_KINDS, ids=lambda k: k.id)
def test_sync_refuses_a_history_that_changed_since_the_last_sync(
    kind: HistoryKind,
    demo: Demo,
    earlier: Synced,
    servers: Servers,
    tmp_path: Path,
    mutualog: Mutualog,
    state: Path,
    request: pytest.FixtureRequest,
) -> None:
    assert mutualog("trust", ORIGIN, demo.instance.vkey).code == 0
    assert mutualog("sync", earlier.served.url).code == 0
    stored = (next((state / "logs").iterdir()) / "checkpoint").read_bytes()
    lying = kind.serve(demo, tmp_path)
    served = servers.serve(lying)
    try:
        result = mutualog("sync", served.url, "--origin", ORIGIN, "--json")
    finally:
        servers.stop(served)
    assert result.code == 1, result.out + result.err
    report = json_report(result)
    failed = report["checks"][-1]
    assert (failed["name"], failed["ok"]) == (kind.check, False)
    assert kind.detail in failed["detail"]
    assert not report["stored"]
    assert (next((state / "logs").iterdir()) / "checkpoint").read_bytes() == stored
    evidence = _evidence(state)
    assert (evidence["kind"], evidence["check"]) == (kind.kind, kind.check)
    if kind.resigned:
        # An auditor who synced before sees the same rewrite in a snapshot.
        snapshot = lying.snapshot(tmp_path / "lying.tar")
        request.getfixturevalue("offline")
        audited = json_report(mutualog("audit", snapshot, "--json"))
        checks = {c["name"]: c for c in audited["checks"]}
        assert not checks["consistent with last sync"]["ok"]
        assert "forked" in checks["consistent with last sync"]["detail"]


def test_sync_refuses_tiles_that_do_not_match_the_checkpoint(
    demo: Demo,
    earlier: Synced,
    servers: Servers,
    tmp_path: Path,
    mutualog: Mutualog,
    state: Path,
) -> None:
    """A server (or the CDN in front of it) serving tiles its own checkpoint
    does not sign: the consistency proof cannot be read from them."""
    folder = demo.instance.export(tmp_path / "export")
    (tile,) = (folder / "tile" / "0").glob("*.p/*")
    data = bytearray(tile.read_bytes())
    data[0] ^= 1
    tile.write_bytes(bytes(data))
    mutualog("trust", ORIGIN, demo.instance.vkey)
    assert mutualog("sync", earlier.served.url).code == 0
    served = servers.static(folder)
    try:
        result = mutualog("sync", served.url, "--origin", ORIGIN, "--json")
    finally:
        servers.stop(served)
    assert result.code == 1
    failed = json_report(result)["checks"][-1]
    assert failed["name"] == "consistency" and "tiles do not match" in failed["detail"]
    assert _evidence(state)["kind"] == "bad-tiles"
