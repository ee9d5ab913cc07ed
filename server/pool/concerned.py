"""Who a text bound for the log concerns, and the pool's last look at it.

A claim's texts concern its claimant; an objection and its answer the
objector too; a juror's reason the juror; an erasure the member erased or
the claimant whose evidence it is; an override what its target names (a
claim's claimant, or a member).  Their names, ID numbers and phones are
read from the private store (:func:`server.private.members.member_details`)
for the private-data guard (:mod:`server.private_guard`), which the forms
and the commands apply at their first step and the pool's operations apply
again here, just before they append (:func:`guard`), so that no path
bypasses it.  A member whose details were erased has none left to find.
"""

from __future__ import annotations

from collections.abc import Iterable

from server.log_texts import check_private
from server.pool.core import PoolCore
from server.private.members import member_details
from server.private_guard import PrivateIdentity
from verifiable.log.bodies import ClaimObjected
from verifiable.log.texts import TextRule
from verifiable.pool.state import PoolState

__all__ = ["concerned_members", "guard", "identities"]


def concerned_members(
    core: PoolCore,
    state: PoolState,
    *,
    claim: str | None = None,
    objection: int | None = None,
    member: str | None = None,
    target: str | None = None,
) -> list[str]:
    """The member ids a text concerns: ``claim``'s claimant, the author of
    its objection at seq ``objection``, ``member``, and what an override's
    ``target`` names (a claim's claimant or a member)."""
    ids: list[str] = []
    view = state.claim(claim) if claim else None
    if view is not None:
        ids.append(view.member)
        if objection is not None and objection in view.objection_seqs:
            ids.append(core.body(objection, ClaimObjected).member)
    if member:
        ids.append(member)
    if target:
        named = state.claim(target)
        if named is not None:
            ids.append(named.member)
        elif state.member(target) is not None or state.has_left(target):
            ids.append(target)
    return ids


def identities(core: PoolCore, member_ids: Iterable[str]) -> tuple[PrivateIdentity, ...]:
    """The private store's identities of ``member_ids`` (each once; none
    for a member whose details are erased or were never stored)."""
    found: list[PrivateIdentity] = []
    for member_id in dict.fromkeys(member_ids):
        details = member_details(core.engine, member_id)
        if details is not None:
            found.append(PrivateIdentity(details.name, details.id_number, details.phone))
    return tuple(found)


def guard(core: PoolCore, text: str, rule: TextRule, member_ids: Iterable[str]) -> None:
    """Refuse (:class:`server.log_texts.PrivateDataError`) a ``text`` for
    ``rule``'s field that holds a private identifier, of anyone's or of the
    members ``member_ids``; called after the log's rules, before appending."""
    check_private(text, rule, identities(core, member_ids))
