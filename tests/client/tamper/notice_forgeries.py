"""Re-signed logs whose notice misstates a fact the log fixes (notice facts
v1): the month of the diagnosis, the months of membership, the waiting
period, the amount requested, the amount within the cap, and the count of
redacted copies.  Each changes one field of the first notice of the honest
demo log that carries facts; nothing else needs recomputing, since no later
figure depends on those fields."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.client.tamper.forgeries import label_hash, put
from tests.client.tamper.honest import Demo
from tests.client.tampering import Item, at, find
from verifiable.log.bodies import ClaimFiled, ClaimNoticed

__all__ = [
    "notice_capped_wrong",
    "notice_month_wrong",
    "notice_months_wrong",
    "notice_redacted_short",
    "notice_requested_wrong",
    "notice_waiting_denied",
]


def _with_facts(d: Demo, **changes: Any) -> list[Item]:
    e = d.log.decoded
    i = find(e, ClaimNoticed, lambda b: b.facts is not None)
    body = at(e, i, ClaimNoticed)
    assert body.facts is not None
    return put(d.log.items(), i, replace(body, facts=replace(body.facts, **changes)))


def notice_month_wrong(d: Demo) -> list[Item]:
    """A diagnosis a year earlier than the filing's, as if long known."""
    e = d.log.decoded
    facts = at(e, find(e, ClaimNoticed, lambda b: b.facts is not None), ClaimNoticed).facts
    assert facts is not None
    year, month = facts.month
    return _with_facts(d, diagnosed_month=f"{year - 1:04d}-{month:02d}")


def notice_months_wrong(d: Demo) -> list[Item]:
    """A claimant made to look a long-standing member."""
    return _with_facts(d, months_member=36)


def notice_waiting_denied(d: Demo) -> list[Item]:
    return _with_facts(d, waiting_met=False)


def notice_requested_wrong(d: Demo) -> list[Item]:
    """A request shown larger than the one filed (the capped amount kept)."""
    e = d.log.decoded
    facts = at(e, find(e, ClaimNoticed, lambda b: b.facts is not None), ClaimNoticed).facts
    assert facts is not None
    return _with_facts(d, requested=facts.requested + 100_000)


def notice_capped_wrong(d: Demo) -> list[Item]:
    """An amount within the cap shown smaller than the rules give."""
    e = d.log.decoded
    facts = at(e, find(e, ClaimNoticed, lambda b: b.facts is not None), ClaimNoticed).facts
    assert facts is not None
    return _with_facts(d, capped=facts.capped - 1)


def notice_redacted_short(d: Demo) -> list[Item]:
    """Redacted copies committed for one document more than were filed: the
    panel shown a document the claim never had."""
    e = d.log.decoded
    i = find(e, ClaimNoticed, lambda b: b.facts is not None)
    body = at(e, i, ClaimNoticed)
    filed = at(e, find(e, ClaimFiled, lambda b: b.claim == body.claim), ClaimFiled)
    copies = tuple(label_hash(f"copy {n}") for n in range(len(filed.evidence) + 1))
    return put(d.log.items(), i, replace(body, redacted=copies))
