"""The juror's receipt for a sealed vote (``mutualog.vote-receipt/v1``).

The server hands it out when it appends a ``vote.sealed`` entry; the client's
``verify-receipt`` reads it.  It carries the vote's opening (claim, round,
juror, choice, reason, salt), the sealed entry's bytes, its leaf index, an
RFC 9162 inclusion proof and the signed checkpoint the proof is against.
As JSON: hashes and the salt in lowercase hex, the entry and the checkpoint
note as UTF-8 text.  docs/format.md §5 gives the fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from verifiable.errors import MalformedError
from verifiable.log.bodies import Choice

__all__ = ["RECEIPT_TYPE", "VoteReceipt", "parse_receipt"]

RECEIPT_TYPE = "mutualog.vote-receipt/v1"

_HASH_SIZE = 32
_MAX_PROOF = 64


@dataclass(frozen=True)
class VoteReceipt:
    """What a juror keeps of a sealed vote."""

    claim: str
    round: int
    juror: str
    choice: Choice
    reason: str
    salt: bytes
    commitment: bytes
    leaf_index: int
    entry: bytes
    tree_size: int
    inclusion_proof: tuple[bytes, ...]
    checkpoint: bytes

    def to_json(self) -> dict[str, object]:
        """The receipt as a JSON object."""
        return {
            "type": RECEIPT_TYPE,
            "claim": self.claim,
            "round": self.round,
            "juror": self.juror,
            "choice": self.choice.value,
            "reason": self.reason,
            "salt": self.salt.hex(),
            "commitment": self.commitment.hex(),
            "leaf_index": self.leaf_index,
            "entry": self.entry.decode("utf-8"),
            "tree_size": self.tree_size,
            "inclusion_proof": [h.hex() for h in self.inclusion_proof],
            "checkpoint": self.checkpoint.decode("utf-8"),
        }


def _field(obj: Mapping[str, object], name: str, kind: type) -> object:
    if name not in obj:
        raise MalformedError(f"missing field {name!r}")
    value = obj[name]
    if kind is int and isinstance(value, bool):
        raise MalformedError(f"{name}: expected an integer, got a boolean")
    if not isinstance(value, kind):
        raise MalformedError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _hex(value: str, name: str, size: int | None = None) -> bytes:
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise MalformedError(f"{name}: not hexadecimal") from None
    if size is not None and len(data) != size:
        raise MalformedError(f"{name}: expected {size} bytes, got {len(data)}")
    return data


def _text_bytes(value: str, name: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedError(f"{name}: not encodable as UTF-8") from None


def parse_receipt(data: bytes) -> VoteReceipt:
    """The receipt in ``data`` (its JSON download); :class:`MalformedError`
    for anything that is not a well-formed vote receipt.  Only the shape is
    checked here; whether it is true is what ``verify-receipt`` checks."""
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise MalformedError(f"not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise MalformedError("not a JSON object")
    kind = obj.get("type")
    if kind != RECEIPT_TYPE:
        raise MalformedError(f"type: expected {RECEIPT_TYPE!r}, got {kind!r}")
    choice_text = _field(obj, "choice", str)
    assert isinstance(choice_text, str)
    try:
        choice = Choice(choice_text)
    except ValueError:
        raise MalformedError(f"choice: expected approve or reject, got {choice_text!r}") from None
    proof_items = _field(obj, "inclusion_proof", list)
    assert isinstance(proof_items, list)
    if len(proof_items) > _MAX_PROOF:
        raise MalformedError(f"inclusion_proof: {len(proof_items)} hashes, more than {_MAX_PROOF}")
    proof = []
    for i, item in enumerate(proof_items):
        if not isinstance(item, str):
            raise MalformedError(f"inclusion_proof[{i}]: expected str")
        proof.append(_hex(item, f"inclusion_proof[{i}]", _HASH_SIZE))
    round_, leaf_index, tree_size = (
        _field(obj, name, int) for name in ("round", "leaf_index", "tree_size")
    )
    claim, juror, reason, salt, commitment, entry, checkpoint = (
        _field(obj, name, str)
        for name in ("claim", "juror", "reason", "salt", "commitment", "entry", "checkpoint")
    )
    assert isinstance(round_, int) and isinstance(leaf_index, int) and isinstance(tree_size, int)
    assert isinstance(claim, str) and isinstance(juror, str) and isinstance(reason, str)
    assert isinstance(salt, str) and isinstance(commitment, str)
    assert isinstance(entry, str) and isinstance(checkpoint, str)
    if leaf_index < 0 or tree_size < 0:
        raise MalformedError("leaf_index and tree_size must not be negative")
    return VoteReceipt(
        claim=claim,
        round=round_,
        juror=juror,
        choice=choice,
        reason=reason,
        salt=_hex(salt, "salt"),
        commitment=_hex(commitment, "commitment"),
        leaf_index=leaf_index,
        entry=_text_bytes(entry, "entry"),
        tree_size=tree_size,
        inclusion_proof=tuple(proof),
        checkpoint=_text_bytes(checkpoint, "checkpoint"),
    )
