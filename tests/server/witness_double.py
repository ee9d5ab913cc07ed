"""A C2SP tlog-witness in a thread, built on the core's verifiers, for the
submitter's tests: it checks the log's signature, the old size and the
consistency proof as the spec says, cosigns with its key, and can be told
to misbehave (answer with another key, a time in the future, an error).
The real witness service has its own tests; this one exists so that the
submitter's answers to every kind of witness are tested in-process."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from verifiable.errors import MutualogError
from verifiable.log.checkpoint import Checkpoint, open_checkpoint
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.merkle import verify_consistency
from verifiable.log.note import Ed25519Verifier, Note, decode_base64

__all__ = ["WitnessDouble"]


@dataclass
class WitnessDouble:
    signer: CosignatureSigner
    log: Ed25519Verifier
    timestamp: int = 1_800_000_000
    held: Checkpoint | None = None
    mode: str = "honest"
    requests: list[int] = field(default_factory=list)
    """The old size of each request received."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, content_type, answer = double.answer(self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        if path != "/add-checkpoint":
            return 404, "text/plain", b"no such path\n"
        head, _, note = body.partition(b"\n\n")
        lines = head.decode("ascii").split("\n")
        old = int(lines[0].removeprefix("old "))
        proof = [decode_base64(line, "proof") for line in lines[1:]]
        with self._lock:
            self.requests.append(old)
            if self.mode == "error":
                return 500, "text/plain", b"internal error\n"
            try:
                signed = open_checkpoint(note, self.log, self.log.name)
            except MutualogError:
                return 403, "text/plain", b"bad signature\n"
            new = signed.checkpoint
            held_size = 0 if self.held is None else self.held.size
            if old != held_size:
                return 409, "text/x.tlog.size", f"{held_size}\n".encode()
            if self.held is not None and old > 0:
                try:
                    verify_consistency(old, new.size, proof, self.held.root_hash, new.root_hash)
                except MutualogError:
                    return 422, "text/plain", b"bad proof\n"
            self.held = new
            signer = self.signer
            if self.mode == "wrong-key":
                signer = CosignatureSigner(self.signer.name, b"\xee" * 32)
            when = self.timestamp + (10**6 if self.mode == "future" else 0)
            line = signer.cosign(Note.from_bytes(note).text, when).to_line()
            extra = CosignatureSigner("other.example", b"\x77" * 32)
            other = extra.cosign(Note.from_bytes(note).text, when).to_line()
            return 200, "text/plain", f"{other}\n{line}\n".encode()
