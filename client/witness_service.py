"""``mutualog witness serve``: a C2SP tlog-witness (https://c2sp.org/tlog-witness)
as a WSGI application, served by gunicorn.

One route, ``POST /add-checkpoint``.  :class:`Witness` judges a request (the
parsing and the checks are :mod:`client.witness_request`, the atomic
old-size check and update :mod:`client.witness_store`); :func:`make_app`
turns its answers into HTTP: 200 with the cosignature lines, 409 with the
size held as ``text/x.tlog.size``, every other refusal as ``text/plain``
with a line saying why.  Any other path is 404, any other method 405, a
body over :data:`~client.witness_request.MAX_REQUEST_BYTES` 413.

The key, the logs and the clock come in as arguments; each gunicorn worker
builds its own :class:`Witness` (and so its own database connection) after
the fork, and the workers agree through the database's write lock.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.witness_logs import WitnessedLog
from client.witness_request import (
    MAX_REQUEST_BYTES,
    AddCheckpoint,
    Held,
    Refusal,
    check_extends,
    open_submitted,
    parse_request,
)
from client.witness_store import WitnessStore, WitnessStoreError, witness_id
from verifiable.log.checkpoint import SignedCheckpoint
from verifiable.log.cosignature import Cosignature, CosignatureSigner, cosigned_message

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["PATH", "SIZE_TYPE", "Witness", "make_app", "serve"]

PATH = "/add-checkpoint"
SIZE_TYPE = "text/x.tlog.size"
_TEXT = "text/plain; charset=utf-8"

_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Entity",
    503: "Service Unavailable",
}


class Witness:
    """One witness key cosigning for ``logs``, its state in ``store``;
    ``clock`` gives the POSIX time of each cosignature."""

    def __init__(
        self,
        signer: CosignatureSigner,
        logs: Mapping[str, WitnessedLog],
        store: WitnessStore,
        clock: Callable[[], int],
    ) -> None:
        self.signer = signer
        self.logs = dict(logs)
        self.store = store
        self.clock = clock
        self.id = witness_id(signer.name, signer.key_id)
        self._key = Ed25519PrivateKey.from_private_bytes(signer.seed)
        self._key_id = signer.key_id

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature lines for the checkpoint in ``body``, stored
        before they are returned; :class:`Refusal` says why not."""
        request = parse_request(body)
        log = self.logs.get(request.origin)
        if log is None:
            raise Refusal(404, f"unknown log origin {request.origin!r}")
        try:
            signed = open_submitted(request, log.verifiers)
        except Refusal as refusal:
            if refusal.evidence:
                self.store.keep_evidence(
                    log.origin, self.id, self.clock(), refusal.evidence, str(refusal), body
                )
            raise
        return self.store.advance(
            log.origin,
            self.id,
            lambda held: self._cosign(held, request, signed),
            received=self.clock(),
            submitted=body,
        )

    def _cosign(
        self, held: Held | None, request: AddCheckpoint, signed: SignedCheckpoint
    ) -> tuple[Held, str]:
        checkpoint = signed.checkpoint
        check_extends(held, request, checkpoint)
        # A cosignature says "as of this time, this is the largest tree":
        # it never goes back in time, even if the clock does.
        timestamp = max(self.clock(), held.timestamp if held is not None else 0)
        note = signed.note.note
        # CosignatureSigner.cosign's two steps, with the key derived once per
        # process rather than once per request.
        signature = self._key.sign(cosigned_message(note.text, timestamp))
        line = Cosignature(self.signer.name, self._key_id, timestamp, signature).to_note_signature()
        if any((s.name, s.key_id) == (line.name, line.key_id) for s in note.signatures):
            kept = note.add_signatures([line]).to_bytes()  # our older line, replaced
        else:
            kept = request.note + line.to_line().encode() + b"\n"
        return Held(checkpoint.size, checkpoint.root_hash, kept, timestamp), line.to_line() + "\n"


def _read_body(environ: WSGIEnvironment) -> bytes:
    length_text = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length_text:
        if not length_text.isdigit():
            raise Refusal(400, "Content-Length is not a decimal number")
        if int(length_text) > MAX_REQUEST_BYTES:
            raise Refusal(413, f"request body over {MAX_REQUEST_BYTES} bytes")
        return bytes(stream.read(int(length_text)))
    # No length (chunked): read one byte past the limit to see it crossed.
    body = bytes(stream.read(MAX_REQUEST_BYTES + 1))
    if len(body) > MAX_REQUEST_BYTES:
        raise Refusal(413, f"request body over {MAX_REQUEST_BYTES} bytes")
    return body


def make_app(witness: Witness) -> WSGIApplication:
    """The WSGI application answering for ``witness``."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def answer(status: int, body: str, content_type: str = _TEXT, **extra: str) -> list[bytes]:
            data = body.encode("utf-8")
            headers = [("Content-Type", content_type), ("Content-Length", str(len(data)))]
            headers += [(k.replace("_", "-"), v) for k, v in extra.items()]
            start_response(f"{status} {_REASONS[status]}", headers)
            return [data]

        if environ.get("PATH_INFO") != PATH:
            return answer(404, f"not found; the witness answers POST {PATH}\n")
        if environ.get("REQUEST_METHOD") != "POST":
            return answer(405, f"{PATH} takes POST\n", Allow="POST")
        try:
            lines = witness.add_checkpoint(_read_body(environ))
        except Refusal as refusal:
            if refusal.status == 409 and refusal.held is not None:
                return answer(409, f"{refusal.held}\n", SIZE_TYPE)
            return answer(refusal.status, f"{refusal}\n")
        except WitnessStoreError as e:
            print(f"witness: {e}", file=sys.stderr)
            return answer(503, "the witness cannot reach its state; try again later\n")
        return answer(200, lines)

    return app


def serve(
    witness_factory: Callable[[], Witness],
    bind: str,
    workers: int,
    threads: int,
) -> None:
    """Serve the witness with gunicorn until it is stopped (SIGTERM, SIGINT)."""
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": bind,
                "workers": workers,
                # gthread keeps connections alive, as the spec asks of witnesses.
                "worker_class": "gthread",
                "threads": threads,
                "accesslog": None,
                # SIGTERM stops it within seconds; a request takes milliseconds.
                "graceful_timeout": 5,
                "loglevel": "warning",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> WSGIApplication:
            # Called in each worker after the fork: its own database connection.
            return make_app(witness_factory())

    _Gunicorn().run()
