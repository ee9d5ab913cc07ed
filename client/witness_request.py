"""C2SP tlog-witness (https://c2sp.org/tlog-witness) ``add-checkpoint``: the
request body, and the witness's judgement of it, without I/O.

The body is an ``old <size>`` line, up to 63 consistency-proof lines (one
base64 hash each), an empty line, then the checkpoint as a signed note::

    old 20852014
    PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=

    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — example.com/behind-the-sofa Az3grlgt...

Every refusal is a :class:`Refusal` carrying the status code the spec gives
it, in the spec's order: 400 for a body that does not parse or an old size
above the checkpoint's, 404 for an origin the witness does not follow, 403
when no trusted key signed, 409 when the old size is not the size the
witness holds (or equal sizes with different roots), 422 when the
consistency proof does not verify.  The first three are decided before the
witness's state is read (:func:`parse_request`, :func:`open_submitted`); the
last two by :func:`check_extends`, which the store runs inside the one
transaction that reads and replaces the held checkpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifiable.errors import MalformedError, MutualogError, VerificationError
from verifiable.log.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from verifiable.log.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from verifiable.log.note import Verifier, decode_base64

__all__ = [
    "MAX_PROOF_LINES",
    "MAX_REQUEST_BYTES",
    "AddCheckpoint",
    "Held",
    "Refusal",
    "check_extends",
    "open_submitted",
    "parse_request",
]

MAX_PROOF_LINES = 63
"""The spec's bound: a client MUST NOT send more consistency-proof lines."""

MAX_REQUEST_BYTES = 64 * 1024
"""The largest body read.  A checkpoint with the 100 signatures a note may
carry and 63 proof lines is under 20 KiB; more is not a request."""

_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,18})")


class Refusal(MutualogError):  # noqa: N818 -- an answer of the protocol, not a crash
    """A request the witness refuses, with the HTTP status the spec gives it.

    ``held`` is the size the witness holds, for a 409 (the spec's
    ``text/x.tlog.size`` body); ``evidence`` names the kind of evidence a
    refusal of a checkpoint the log did sign is kept as (``fork``,
    ``bad-proof``), or is empty.
    """

    def __init__(
        self, status: int, message: str, *, held: int | None = None, evidence: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.held = held
        self.evidence = evidence


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed body: the size the client believes the witness holds, the
    proof from it, and the checkpoint note exactly as sent."""

    old_size: int
    proof: tuple[bytes, ...]
    note: bytes
    origin: str
    """The checkpoint's origin line, read before any signature is checked
    only to find the log's key (404 when unknown)."""


@dataclass(frozen=True)
class Held:
    """The last checkpoint the witness cosigned for one log."""

    size: int
    root: bytes
    note: bytes
    """The checkpoint as the log signed it, the witness's line appended."""
    timestamp: int


def parse_request(body: bytes) -> AddCheckpoint:
    """Parse an ``add-checkpoint`` body; :class:`Refusal` 400 when it is not one."""
    if len(body) > MAX_REQUEST_BYTES:
        raise Refusal(413, f"request body over {MAX_REQUEST_BYTES} bytes")
    head, sep, note = body.partition(b"\n\n")
    if not sep:
        raise Refusal(400, "no empty line between the old size and proof lines and the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as e:
        raise Refusal(400, f"the lines before the checkpoint are not ASCII (byte {e.start})") from e
    match = _OLD_LINE.fullmatch(lines[0])
    if match is None:
        raise Refusal(400, "line 1: expected 'old <size>' (decimal, no leading zeros)")
    old_size = int(match.group(1))
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refusal(400, f"{len(lines) - 1} consistency proof lines, at most {MAX_PROOF_LINES}")
    proof = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            hash_ = decode_base64(line, f"line {number}: proof hash")
        except MalformedError as e:
            raise Refusal(400, str(e)) from e
        if len(hash_) != HASH_SIZE:
            raise Refusal(400, f"line {number}: proof hash of {len(hash_)} bytes, not {HASH_SIZE}")
        proof.append(hash_)
    # Only the origin line is read here, to find the log's keys: the note is
    # parsed once, by open_submitted, with them.
    first, newline, _ = note.partition(b"\n")
    try:
        origin = first.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Refusal(400, f"the checkpoint: origin line not UTF-8 (byte {e.start})") from e
    if not newline or not origin:
        raise Refusal(400, "the checkpoint: no origin line")
    return AddCheckpoint(old_size, tuple(proof), note, origin)


def open_submitted(request: AddCheckpoint, verifiers: tuple[Verifier, ...]) -> SignedCheckpoint:
    """The submitted checkpoint, once a trusted key of its log signed it
    (403 otherwise; other keys' lines are ignored) and the old size is not
    above its size (400).

    The key's name may differ from the origin (Go's checksum database): the
    witness's configuration, not the name, binds the key to the log."""
    signed: SignedCheckpoint | None = None
    failures = []
    # A log may have several keys (a rotation); any one of them signing is enough.
    for verifier in verifiers:
        try:
            signed = open_checkpoint(
                request.note, verifier, request.origin, key_name_is_origin=False
            )
            break
        except MalformedError as e:
            raise Refusal(400, f"the checkpoint: {e}") from e
        except VerificationError as e:
            failures.append(str(e))
    if signed is None:
        raise Refusal(403, "; ".join(failures), evidence="bad-signature")
    size = signed.checkpoint.size
    if request.old_size > size:
        raise Refusal(400, f"old size {request.old_size} above the checkpoint's {size}")
    return signed


def check_extends(held: Held | None, request: AddCheckpoint, checkpoint: Checkpoint) -> None:
    """Whether the signed ``checkpoint`` may replace ``held``: 409 with the
    held size when the old size is not it (or equal sizes with another
    root), 422 when the proof does not show the new tree extends the held
    one.  Returns ``None`` when it may."""
    held_size = held.size if held is not None else 0
    if request.old_size != held_size:
        fork = (
            held is not None and checkpoint.size == held.size and checkpoint.root_hash != held.root
        )
        raise Refusal(
            409,
            f"old size {request.old_size}, but the last checkpoint cosigned has size {held_size}",
            held=held_size,
            # Two signed trees of one size with two roots: the log forked,
            # whatever size the client thought we held.
            evidence="fork" if fork else "",
        )
    if held is None or held.size == 0:
        if request.proof:
            raise Refusal(422, f"old size 0 needs an empty proof, got {len(request.proof)} hashes")
        # Every tree extends the empty one, whose root is fixed.
        if checkpoint.size == 0 and checkpoint.root_hash != EMPTY_ROOT:
            raise Refusal(
                422,
                f"a tree of size 0 has root {EMPTY_ROOT.hex()}, not {checkpoint.root_hash.hex()}",
                evidence="bad-proof",
            )
        return
    if checkpoint.size == held.size:
        if checkpoint.root_hash != held.root:
            raise Refusal(
                409,
                f"size {held.size} again with root {checkpoint.root_hash.hex()}, "
                f"but the checkpoint cosigned has root {held.root.hex()}",
                held=held.size,
                evidence="fork",
            )
        if request.proof:
            raise Refusal(422, f"equal sizes need an empty proof, got {len(request.proof)} hashes")
        return
    try:
        verify_consistency(
            held.size, checkpoint.size, request.proof, held.root, checkpoint.root_hash
        )
    except (MalformedError, VerificationError) as e:
        raise Refusal(422, str(e), evidence="bad-proof") from e
