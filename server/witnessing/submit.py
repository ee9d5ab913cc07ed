"""The submitter: each new checkpoint to every witness, by C2SP tlog-witness.

For each configured witness it POSTs ``<url>/add-checkpoint`` with

* ``old <size>``: the size the witness last said it holds (0 before its
  first answer: the spec allows a client to learn it that way),
* the RFC 9162 consistency proof from that size to the new one, and
* the log's newest signed checkpoint note;

and then

* **200**: verifies each cosignature line by the witness's own key
  against the checkpoint text (lines by other keys are ignored, as the
  spec says), refuses one whose timestamp is ahead of this server's clock
  by more than :data:`CLOCK_SKEW`, and stores the ones that pass;
* **409** with a ``text/x.tlog.size`` body: the witness holds another
  size; the submission is resent once from that size (a witness that
  restarted, or lost our last answer, catches up this way);
* anything else, a timeout or a refused connection: the error is recorded
  on the witness's row (shown to the operator) and tried again next round.

Each witness is talked to in a thread of its own, so a slow one never
delays the others; the append path never waits for any of them, since this
runs in its own process (``mutualog-server witness run``,
docs/witnesses.md says why).  One submitter holds the lease at a time,
whatever the number of processes started.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Engine

from server.storage import LogStore
from server.tilefiles import TileFiles
from server.witnessing.store import (
    Witness,
    acquire_lease,
    has_cosignature,
    list_witnesses,
    record_answer,
    release_lease,
    store_cosignature,
)
from verifiable.errors import MalformedError, MutualogError, VerificationError
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.cosignature import Cosignature
from verifiable.log.note import Note, NoteSignature, encode_base64

__all__ = [
    "CLOCK_SKEW",
    "Gatherer",
    "Outcome",
    "WitnessAnswerError",
    "add_checkpoint_body",
]

_log = logging.getLogger(__name__)

#: A cosignature time further than this ahead of our clock is refused.
CLOCK_SKEW = timedelta(seconds=60)
#: Bytes read at most from a witness's answer.
_MAX_ANSWER = 64 * 1024
_SIZE_TYPE = "text/x.tlog.size"
#: Resends after a 409 in one round (the witness may move again meanwhile).
_MAX_CONFLICTS = 2


class WitnessAnswerError(MutualogError):
    """A witness's answer that is not what C2SP tlog-witness allows, or
    does not hold a valid cosignature by the witness's key."""


@dataclass(frozen=True)
class Outcome:
    """What one submission to one witness came to: ``cosigned`` (a
    cosignature of ``size`` is stored), ``held`` (already stored, nothing
    sent) or ``failed`` (``detail`` says why)."""

    witness: str
    size: int
    status: str
    detail: str = ""


def add_checkpoint_body(old: int, proof: list[bytes], note: bytes) -> bytes:
    """The C2SP tlog-witness ``add-checkpoint`` request body."""
    lines = [f"old {old}\n", *(encode_base64(h) + "\n" for h in proof), "\n"]
    return "".join(lines).encode("ascii") + note


def _post(url: str, body: bytes, timeout: float) -> tuple[int, str, bytes]:
    parts = urlsplit(url + "/add-checkpoint")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(
            "POST", parts.path, body=body, headers={"Content-Type": "text/plain; charset=utf-8"}
        )
        response = connection.getresponse()
        data = response.read(_MAX_ANSWER + 1)
        content_type = response.getheader("Content-Type", "") or ""
        return response.status, content_type, data
    finally:
        connection.close()


def _conflict_size(content_type: str, data: bytes, witness: str) -> int:
    media = content_type.split(";")[0].strip().lower()
    text = data.decode("ascii", errors="replace")
    if media != _SIZE_TYPE or not text.endswith("\n") or not text[:-1].isdigit():
        raise WitnessAnswerError(
            f"witness {witness}: 409 without a {_SIZE_TYPE} size line "
            f"(Content-Type {content_type!r}, body {text[:60]!r})"
        )
    if len(text) > 21 or (text[0] == "0" and len(text) > 2):
        raise WitnessAnswerError(f"witness {witness}: 409 with size {text[:40]!r}")
    return int(text)


def _cosignature(witness: Witness, note: Note, data: bytes, now: datetime) -> Cosignature:
    """The witness's valid cosignature among the lines of its 200 answer."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise WitnessAnswerError(f"witness {witness.name}: answer is not UTF-8") from e
    if not text.endswith("\n") or len(data) > _MAX_ANSWER:
        raise WitnessAnswerError(f"witness {witness.name}: answer is not signature lines")
    key = witness.verifier
    message = note.text.encode("utf-8")
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        try:
            sig = NoteSignature.from_line(line)
        except MalformedError as e:
            raise WitnessAnswerError(f"witness {witness.name}: answer line {number}: {e}") from e
        if (sig.name, sig.key_id) != (key.name, key.key_id):
            continue  # another key of the witness's: ignored, as the spec says
        try:
            key.verify(message, sig.signature)
            cosignature = Cosignature.from_note_signature(sig)
        except (MalformedError, VerificationError) as e:
            raise WitnessAnswerError(f"witness {witness.name}: cosignature: {e}") from e
        limit = int((now + CLOCK_SKEW).timestamp())
        if cosignature.timestamp > limit:
            raise WitnessAnswerError(
                f"witness {witness.name}: cosignature time {cosignature.timestamp} is ahead "
                f"of this server's clock ({int(now.timestamp())})"
            )
        return cosignature
    raise WitnessAnswerError(
        f"witness {witness.name}: 200 without a cosignature by {key.name}+{key.key_id:08x}"
    )


class Gatherer:
    """Submits the log's newest checkpoint to every configured witness.

    ``holder`` names this submitter in the lease (host and process id by
    default); ``timeout`` bounds each HTTP exchange with a witness; with
    ``files``, the log's files are published after each cosignature stored.
    """

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        *,
        timeout: float = 5.0,
        holder: str | None = None,
        lease: timedelta = timedelta(seconds=30),
        files: TileFiles | None = None,
    ) -> None:
        self._engine = engine
        self._files = files
        self._store = LogStore(engine)
        self._clock = clock
        self._timeout = timeout
        self._holder = holder or f"{socket.gethostname()[:80]}:{os.getpid()}"
        self._lease = lease
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="witness")
        self._running: dict[str, Future[Outcome]] = {}

    def close(self) -> None:
        """Wait for the submissions in flight, then give up the lease."""
        self._pool.shutdown(wait=True)
        release_lease(self._engine, self._holder)

    def round(self, *, wait: bool = False) -> list[Future[Outcome]] | None:
        """Start a submission to each witness not already busy with one;
        ``None`` when another submitter holds the lease.  With ``wait``,
        return only once those submissions are done."""
        if not acquire_lease(self._engine, self._holder, self._clock(), self._lease):
            return None
        note = self._store.latest_checkpoint()
        if note is None:
            return []
        started = []
        for witness in list_witnesses(self._engine):
            running = self._running.get(witness.name)
            if running is not None and not running.done():
                continue
            future = self._pool.submit(self.submit, witness, note)
            self._running[witness.name] = future
            started.append(future)
        if wait:
            for future in started:
                future.result()
        return started

    def run(self, stop: threading.Event, interval: float) -> None:
        """Rounds every ``interval`` seconds until ``stop`` is set."""
        try:
            while not stop.is_set():
                self.round()
                stop.wait(interval)
        finally:
            self.close()

    def submit(self, witness: Witness, note: bytes) -> Outcome:
        """Submit ``note`` to ``witness`` (resending after a 409) and store
        the cosignature it returns; never raises for the witness's faults."""
        parsed = Note.from_bytes(note)
        size = Checkpoint.from_text(parsed.text).size
        if size == 0 or has_cosignature(self._engine, size, witness.verifier):
            return Outcome(witness.name, size, "held")
        old = witness.known_size or 0
        try:
            for _ in range(_MAX_CONFLICTS + 1):
                if old > size:
                    raise WitnessAnswerError(
                        f"witness {witness.name} holds size {old}, beyond the log's {size}"
                    )
                proof = self._store.consistency_proof(old, size) if 0 < old < size else []
                body = add_checkpoint_body(old, proof, note)
                status, content_type, data = _post(witness.url, body, self._timeout)
                if status == 200:
                    cosignature = _cosignature(witness, parsed, data, self._clock())
                    store_cosignature(self._engine, size, cosignature, self._clock())
                    if self._files is not None:
                        # /checkpoint may now serve this size, or more lines.
                        self._files.publish_after_commit(self._engine)
                    _log.info("witness %s cosigned size %d (from size %d)", witness.name, size, old)
                    return Outcome(witness.name, size, "cosigned")
                if status != 409:
                    shown = data[:200].decode("utf-8", errors="replace").strip()
                    raise WitnessAnswerError(f"witness {witness.name}: HTTP {status}: {shown}")
                held = _conflict_size(content_type, data, witness.name)
                record_answer(
                    self._engine, witness.name, self._clock(), known_size=held, error=None
                )
                if held == old:
                    raise WitnessAnswerError(
                        f"witness {witness.name} holds a different tree of size {held}: "
                        "it refuses this log's checkpoint of that size"
                    )
                _log.info("witness %s holds size %d, not %d: resending", witness.name, held, old)
                old = held
            raise WitnessAnswerError(f"witness {witness.name}: still 409 after resending")
        except (OSError, http.client.HTTPException, MutualogError) as e:
            detail = str(e) or type(e).__name__
            if isinstance(e, (OSError, http.client.HTTPException)):
                detail = f"witness {witness.name} at {witness.url}: {type(e).__name__}: {e}"
            record_answer(self._engine, witness.name, self._clock(), known_size=None, error=detail)
            if detail != witness.last_error:  # a dead witness is reported once, not every round
                _log.warning("%s", detail)
            return Outcome(witness.name, size, "failed", detail)
