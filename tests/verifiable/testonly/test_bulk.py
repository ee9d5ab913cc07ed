"""The bulk generator's pools are honest: a small one replays through the
rulebook with no violation, its joins are the format's own bytes, and the
same seed gives the same log."""

from __future__ import annotations

import random

import pytest

from verifiable.log.bodies import AgeBand
from verifiable.log.entry import parse_entry
from verifiable.log.merkle import CompactTree, leaf_hash
from verifiable.pool.replay import replay
from verifiable.testonly.bulk import BAND_WEIGHTS, BulkSimulation, large_pool_config


def _generate(members: int, seed: int = 3) -> tuple[list[bytes], BulkSimulation]:
    simulation = BulkSimulation(random.Random(seed), large_pool_config(members))
    return list(simulation.run()), simulation


def test_a_small_generated_pool_replays_without_violation() -> None:
    entries, simulation = _generate(2_000)
    result = replay(entries)
    stats = simulation.stats
    assert result.state.size == len(entries)
    # Every kind of activity the generator promises, not only joins.
    for kind in ("member.joined", "juror.qualified", "period.closed", "panel.drawn"):
        assert stats[kind] > 0, kind
    assert stats["claim.paid"] > 0
    assert 1_900 <= stats["member.joined"] <= 2_100
    tree = CompactTree()
    tree.extend([leaf_hash(data) for data in entries])
    assert result.root == tree.root()


def test_joins_are_the_formats_bytes_with_weighted_bands() -> None:
    entries, _ = _generate(3_000, seed=11)
    joins = [parse_entry(data, seq=seq) for seq, data in enumerate(entries)]
    joins = [e for e in joins if e.type == "member.joined"]
    for entry in joins:
        assert entry.to_bytes() == entries[entry.seq]
    bands = [e.body.age_band for e in joins]  # type: ignore[attr-defined]
    share = bands.count(AgeBand.FROM_18_TO_39) / len(bands)
    assert abs(share - BAND_WEIGHTS[AgeBand.FROM_18_TO_39] / 100) < 0.05


def test_the_same_seed_gives_the_same_log() -> None:
    assert _generate(500, seed=5)[0] == _generate(500, seed=5)[0]
    assert _generate(500, seed=5)[0] != _generate(500, seed=6)[0]


def test_a_drifted_template_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("verifiable.testonly.bulk.format_time", lambda t: t.strftime("%Y/%m/%dT"))
    with pytest.raises(AssertionError, match="template differs from the format at seq"):
        _generate(500)


def test_refusals() -> None:
    with pytest.raises(ValueError, match="amend hooks are not supported"):
        BulkSimulation(random.Random(1), large_pool_config(500), amend=lambda t, b: b)
    with pytest.raises(ValueError, match="members 100 < 200"):
        large_pool_config(100)
