"""The tamper suite: re-signed logs whose witnessed draw is not what the rules say.

The demo's rulebook names its witness for the draw (K = 1), so each panel
records the checkpoint that witness cosigned, and its seed is derived from
it.  A dishonest operator re-signs a log with one panel changed: drawn
without the witness, with a cosignature by a key the rules do not name, with
a cosignature that does not verify, or with a seed that does not follow.
``mutualog audit`` fails (exit 1) naming the rule; the log's own checks
pass.  docs/tamper-suite.md lists the kinds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.client.harness import Mutualog
from tests.client.tamper.forgeries import Forge, label_hash, put
from tests.client.tamper.honest import Demo, forge_instance, json_report
from tests.client.tampering import Item, at, find
from verifiable.log.bodies import PanelDrawn, SeedCheckpoint
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.merkle import hash_leaves, root_hash
from verifiable.pool.sortition import witnessed_seed

STRANGER = CosignatureSigner("localhost/mutualog/demo-witness", bytes([5]) * 32)
"""A key under the demo witness's name that the demo's rules do not name."""


def _witnessed(d: Demo) -> tuple[int, PanelDrawn, SeedCheckpoint]:
    e = d.log.decoded
    i = find(e, PanelDrawn, lambda b: b.witnessed is not None)
    body = at(e, i, PanelDrawn)
    assert body.witnessed is not None
    return i, body, body.witnessed


def _reseeded(d: Demo, i: int, body: PanelDrawn, witnessed: SeedCheckpoint) -> list[Item]:
    """The panel with ``witnessed`` and the seed it gives, so that only the
    witness rules can tell."""
    seed = witnessed_seed(witnessed.checkpoint.root_hash, witnessed.cosignatures)
    return put(d.log.items(), i, replace(body, witnessed=witnessed, seed=seed))


def draw_unwitnessed(d: Demo) -> list[Item]:
    """The witness's cosignature missing: the panel seeded by the log's root
    at the seed size, as if the rules wanted no witness."""
    i, body, _ = _witnessed(d)
    root = root_hash(hash_leaves(d.log.entries[: body.seed_size]))
    return put(d.log.items(), i, replace(body, witnessed=None, seed=root))


def draw_cosigned_by_unknown_key(d: Demo) -> list[Item]:
    i, body, witnessed = _witnessed(d)
    forged = STRANGER.cosign(witnessed.text, witnessed.cosignatures[0].timestamp)
    return _reseeded(d, i, body, replace(witnessed, cosignatures=(forged,)))


def draw_cosignature_bad(d: Demo) -> list[Item]:
    i, body, witnessed = _witnessed(d)
    first = witnessed.cosignatures[0]
    flipped = replace(first, signature=bytes([first.signature[0] ^ 1]) + first.signature[1:])
    return _reseeded(d, i, body, replace(witnessed, cosignatures=(flipped,)))


def draw_seed_not_following(d: Demo) -> list[Item]:
    i, body, _ = _witnessed(d)
    return put(d.log.items(), i, replace(body, seed=label_hash("chosen")))


@dataclass(frozen=True)
class WitnessKind:
    """A re-signed log whose witnessed draw breaks a rule: ``audit`` names it."""

    id: str
    forge: Forge
    rule: str


WITNESS_KINDS = [
    WitnessKind("draw-unwitnessed", draw_unwitnessed, "panel.witnessed"),
    WitnessKind(
        "draw-cosigned-by-unknown-key", draw_cosigned_by_unknown_key, "panel.witness_unknown"
    ),
    WitnessKind("draw-cosignature-bad", draw_cosignature_bad, "panel.witness_signature"),
    WitnessKind("draw-seed-not-following", draw_seed_not_following, "panel.seed"),
]


def test_the_demo_s_draws_are_witnessed(demo: Demo) -> None:
    i, body, witnessed = _witnessed(demo)
    assert [c.name for c in witnessed.cosignatures] == ["localhost/mutualog/demo-witness"]
    assert body.seed_size <= witnessed.checkpoint.size <= i
    assert all(
        e.body.witnessed is not None for e in demo.log.decoded if isinstance(e.body, PanelDrawn)
    )


@pytest.mark.parametrize("kind", WITNESS_KINDS, ids=lambda k: k.id)
def test_audit_names_the_witness_rule_a_resigned_log_breaks(
    kind: WitnessKind,
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    snapshot = forge_instance(demo, tmp_path, kind.forge(demo)).snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    result = mutualog("audit", snapshot, "--key", demo.instance.vkey, "--json")
    assert result.code == 1, result.err
    report = json_report(result)
    assert all(c["ok"] for c in report["checks"]), report["checks"]
    assert report["rules"]["status"] == "failed"
    assert re.match(rf"entry \d+: rule {re.escape(kind.rule)}: ", report["rules"]["detail"])
