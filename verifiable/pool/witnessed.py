"""The witnessed draw: the checkpoint a panel's seed comes from, checked.

When the rules in force at a draw name witnesses (``draw.witnesses``) and
require K of them (``draw.witnesses_required`` above 0), a ``panel.drawn``
carries the checkpoint its seed comes from (``witnessed``, a
:class:`~verifiable.log.bodies.SeedCheckpoint`), and :func:`check_witnessed`
holds it to the rules (docs/rules.md, "The witnessed draw"):

* ``panel.witnessed``: the checkpoint is there exactly when K > 0;
* ``panel.witness_count``: exactly K cosignatures;
* ``panel.witness_unknown``: each by a key the rules name;
* ``panel.witness_order``: in the order the rules list their witnesses,
  each witness once (so the one set of cosignatures gives one seed);
* ``panel.witness_signature``: each verifies over the checkpoint's text;
* ``panel.witness_size``: the checkpoint's size is at least the seed size
  the rules fix (the log as it stood when the claim became ready for its
  draw) and at most the log's size before the draw;
* ``panel.witness_root``: the checkpoint is the log's own: its root, with
  the consistency proof carried beside it, gives the log's root before the
  draw (checked when the caller supplies the log's roots);

and the seed is :func:`~verifiable.pool.sortition.witnessed_seed` of it,
which the caller compares with the entry's ``seed`` (``panel.seed``).

:func:`seed_checkpoint` is the other side: from a checkpoint note with
cosignature lines (what a log server gathers from its witnesses), the
:class:`~verifiable.log.bodies.SeedCheckpoint` a draw records.
"""

from __future__ import annotations

from collections.abc import Sequence

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.bodies import SeedCheckpoint
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.cosignature import Cosignature
from verifiable.log.merkle import verify_consistency
from verifiable.log.note import Note
from verifiable.pool.claims import RootAt, violation
from verifiable.pool.rules import Rules
from verifiable.pool.sortition import witnessed_seed

__all__ = ["check_witnessed", "seed_checkpoint"]

_v = violation


def check_witnessed(
    seq: int,
    witnessed: SeedCheckpoint | None,
    seed_size: int,
    rules: Rules,
    root_at: RootAt | None,
) -> bytes | None:
    """Check the witnessed checkpoint of a draw appended at ``seq`` under
    ``rules`` (those in force at the draw); return the seed it gives, or
    ``None`` when the rules want no witnesses (the seed is then the log's
    root at ``seed_size``).  ``root_at(seq)`` is the log's root before the
    draw; with ``None`` the checkpoint's root is taken as given."""
    k = rules.witnesses_required
    if k == 0:
        if witnessed is not None:
            raise _v(
                "panel.witnessed",
                "the rules name no witnesses for the draw: the seed is the log's root",
                seq,
                "no witnessed checkpoint",
                "a witnessed checkpoint",
            )
        return None
    if witnessed is None:
        raise _v(
            "panel.witnessed",
            f"the rules want the seed from a checkpoint cosigned by {k} of their witnesses",
            seq,
            "a witnessed checkpoint",
            "none",
        )
    _check_cosignatures(seq, witnessed, rules)
    checkpoint = witnessed.checkpoint
    if not seed_size <= checkpoint.size <= seq:
        raise _v(
            "panel.witness_size",
            "the checkpoint is of the log once the claim was ready for its draw, "
            "and no larger than the log before the draw",
            seq,
            f"size {seed_size} to {seq}",
            checkpoint.size,
        )
    if root_at is not None:
        root = root_at(seq)
        try:
            verify_consistency(checkpoint.size, seq, witnessed.proof, checkpoint.root_hash, root)
        except (MalformedError, VerificationError) as e:
            raise _v(
                "panel.witness_root",
                f"the checkpoint is not the log's at size {checkpoint.size}: {e}",
                seq,
                f"a root consistent with the log's root {root.hex()} at size {seq}",
                checkpoint.root_hash.hex(),
            ) from e
    return witnessed_seed(checkpoint.root_hash, witnessed.cosignatures)


def _check_cosignatures(seq: int, witnessed: SeedCheckpoint, rules: Rules) -> None:
    """Exactly K cosignatures by the rules' witnesses, in their order, each valid."""
    k = rules.witnesses_required
    cosignatures = witnessed.cosignatures
    if len(cosignatures) != k:
        raise _v(
            "panel.witness_count",
            f"the seed comes from the cosignatures of exactly {k} of the rules' witnesses",
            seq,
            k,
            len(cosignatures),
        )
    text = witnessed.text.encode("utf-8")
    order = {(w.name, w.key_id): i for i, w in enumerate(rules.witnesses)}
    last = -1
    for c in cosignatures:
        place = order.get((c.name, c.key_id))
        if place is None:
            raise _v(
                "panel.witness_unknown",
                "a cosignature by a key the rules do not name as a witness",
                seq,
                "one of " + ", ".join(w.name for w in rules.witnesses),
                f"{c.name}+{c.key_id:08x}",
            )
        if place <= last:
            raise _v(
                "panel.witness_order",
                "the cosignatures are in the order the rules list their witnesses, once each",
                seq,
                f"after {rules.witnesses[last].name}",
                c.name,
            )
        last = place
        try:
            rules.witnesses[place].verify(text, c.timestamp.to_bytes(8, "big") + c.signature)
        except VerificationError as e:
            raise _v(
                "panel.witness_signature",
                f"the cosignature by {c.name} does not verify: {e}",
                seq,
                "a valid cosignature",
                c.signature.hex(),
            ) from e


def seed_checkpoint(
    note: bytes, rules: Rules, proof: Sequence[bytes] = ()
) -> SeedCheckpoint | None:
    """The checkpoint of signed ``note`` with the cosignatures of the first
    ``draw.witnesses_required`` of the rules' witnesses (in the rules'
    order) whose lines in it verify, and ``proof`` from its size to the
    log's; ``None`` if fewer of them cosigned it.  Other lines (the log's
    own signature, other witnesses') are left out: a draw records only
    what its seed is derived from."""
    parsed = Note.from_bytes(note)
    checkpoint = Checkpoint.from_text(parsed.text)
    text = parsed.text.encode("utf-8")
    lines = {(sig.name, sig.key_id): sig for sig in parsed.signatures}
    chosen: list[Cosignature] = []
    for witness in rules.witnesses:
        line = lines.get((witness.name, witness.key_id))
        if line is None or len(chosen) == rules.witnesses_required:
            continue
        try:
            witness.verify(text, line.signature)
        except VerificationError:
            continue
        chosen.append(Cosignature.from_note_signature(line))
    if not chosen or len(chosen) < rules.witnesses_required:
        return None
    return SeedCheckpoint(checkpoint, tuple(chosen), tuple(proof))
