"""The honest-history generator is deterministic, and stays so across changes.

A seed and a configuration give one history, entry for entry.  The digests
below were taken from the generator before the core was reorganised into its
``log`` and ``pool`` subpackages; a refactor that changes any byte of any
entry, or the order of entries, fails here.  A deliberate change to the
simulation (a new entry type it plays, a new rule) updates the digests in the
same commit, saying why.
"""

from __future__ import annotations

import hashlib
import random

import pytest

from server.demo import demo_config
from verifiable.testonly.simulate import SimConfig, Simulation

#: A small history that still has claims, objections, appeals, redraws,
#: panels, votes, period closes and a rule change.
SMALL = SimConfig(
    days=60,
    initial_members=300,
    initial_jurors=100,
    claims_per_day=300,
    rules={
        "juror.seasoning_days": 0,
        "member.waiting_days": 10,
        "panel.size": 5,
        "panel.max_rounds": 2,
        "claim.objection_days": 2,
        "panel.voting_days": 2,
    },
    rule_changes=((30, {"member.waiting_days": 20}),),
)

#: (entries, SHA-256 of the entries each preceded by its 4-byte big-endian length)
GOLDEN = {
    "small-seed-1": (2997, "2522257a481b64b9ec9e4ea31d8204caae4106848b30149979e2fe4d95ae3c45"),
    "small-seed-2": (2995, "9da8b02eb9a9ea883a2fcdc064b4c19439e801957ee1637424876989e8a91b48"),
    "small-seed-3": (2959, "aa8133953bbe8383bdc68afdc8f63d4b6b19ff6d5f7829e8ad9d144afa39b107"),
    "demo-300-seed-2024": (
        6753,
        "f1a8c52cce172160fc34cea7b1bd080d1a306ed8c614b50036cf134da206a9e2",
    ),
}


def entries_digest(entries: list[bytes]) -> str:
    h = hashlib.sha256()
    for data in entries:
        h.update(len(data).to_bytes(4, "big"))
        h.update(data)
    return h.hexdigest()


def _history(name: str) -> list[bytes]:
    if name.startswith("small-seed-"):
        seed, config = int(name.rsplit("-", 1)[1]), SMALL
    else:
        seed, config = 2024, demo_config(300)
    return list(Simulation(random.Random(seed), config).run())


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_a_seed_gives_the_same_history_entry_for_entry(name: str) -> None:
    entries = _history(name)
    count, digest = GOLDEN[name]
    assert (len(entries), entries_digest(entries)) == (count, digest)


def test_the_digest_sees_one_changed_byte() -> None:
    entries = _history("small-seed-1")
    changed = [*entries[:-1], entries[-1][:-2] + b" }"]
    assert entries_digest(changed) != GOLDEN["small-seed-1"][1]
