"""The tamper suite's kinds, across its files: each distinct, and enough."""

from __future__ import annotations

from tests.client.tamper.test_doctored_bundles import DOCTORED_KINDS
from tests.client.tamper.test_file_kinds import FILE_KINDS
from tests.client.tamper.test_member_kinds import CLAIM_KINDS, DEDUCTION_KINDS
from tests.client.tamper.test_receipt_kinds import JUROR_KINDS
from tests.client.tamper.test_rule_kinds import RULE_KINDS
from tests.client.tamper.test_sync_kinds import HISTORY_KINDS


def test_every_kind_is_distinct_and_there_are_enough() -> None:
    ids = [k.id for k in (*RULE_KINDS, *JUROR_KINDS, *HISTORY_KINDS, *FILE_KINDS)]
    ids += ["chain-broken", "snapshot-truncated", "served-tile-altered", "served-tiles-mismatch"]
    ids += [k.id for k in (*DEDUCTION_KINDS, *CLAIM_KINDS, *DOCTORED_KINDS)]
    # One kind (a checkpoint by another key) is caught by both sync and audit.
    assert len(set(ids)) == len(ids) - 1
    assert len(set(ids)) >= 25
