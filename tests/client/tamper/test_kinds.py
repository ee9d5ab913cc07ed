"""The tamper suite's kinds, across its files: each distinct, and enough."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tests.client.tamper.test_doctored_bundles import DOCTORED_KINDS
from tests.client.tamper.test_file_kinds import FILE_KINDS
from tests.client.tamper.test_member_kinds import CLAIM_KINDS, DEDUCTION_KINDS
from tests.client.tamper.test_receipt_kinds import JUROR_KINDS
from tests.client.tamper.test_rule_kinds import RULE_KINDS
from tests.client.tamper.test_rulebook_kinds import RULEBOOK_KINDS
from tests.client.tamper.test_sync_kinds import HISTORY_KINDS
from tests.client.tamper.test_verifier_kinds import PAGE_KINDS
from tests.client.tamper.test_witness_kinds import WITNESS_KINDS


class Kind(Protocol):
    @property
    def id(self) -> str: ...


def test_every_kind_is_distinct_and_there_are_enough() -> None:
    tables: list[Sequence[Kind]] = [
        RULE_KINDS,
        RULEBOOK_KINDS,
        WITNESS_KINDS,
        JUROR_KINDS,
        HISTORY_KINDS,
        FILE_KINDS,
        PAGE_KINDS,
    ]
    ids = [k.id for table in tables for k in table]
    ids += ["chain-broken", "snapshot-truncated", "served-tile-altered", "served-tiles-mismatch"]
    ids += [k.id for table in (DEDUCTION_KINDS, CLAIM_KINDS, DOCTORED_KINDS) for k in table]
    # One kind (a checkpoint by another key) is caught by both sync and audit.
    assert len(set(ids)) == len(ids) - 1
    assert len(set(ids)) >= 25
