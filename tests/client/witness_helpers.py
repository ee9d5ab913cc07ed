"""What the witness's tests (and ``bench/witness.py``) work with: a log made
of nothing but its leaves and key (:class:`SimLog`), ``add-checkpoint``
bodies, a real ``mutualog witness serve`` process on a free port of
127.0.0.1 (:class:`WitnessProcess`, started and stopped by its pid), and a
plain HTTP POST.

The log signs its checkpoints with :mod:`verifiable.log.note`, builds its
proofs with :mod:`verifiable.log.merkle`: the witness checks both against
the same specs, not against this module.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from client.cli import main
from client.witness import create_witness_key
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.merkle import consistency_proof, leaf_hash, root_hash
from verifiable.log.note import Ed25519Signer, Note, Signer, encode_base64

__all__ = [
    "WITNESS",
    "Answer",
    "SimLog",
    "WitnessProcess",
    "body",
    "check_cosignature",
    "free_port",
    "held_rows",
    "make_witness",
    "post",
    "quiet_main",
]


WITNESS = "witness.example/w1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SimLog:
    """A log's leaves and key: checkpoints and consistency proofs on demand."""

    origin: str
    signer: Signer
    leaves: list[bytes] = field(default_factory=list)

    @classmethod
    def make(cls, origin: str, seed: bytes, key_name: str | None = None) -> SimLog:
        return cls(origin, Ed25519Signer(key_name or origin, hashlib.sha256(seed).digest()))

    @property
    def vkey(self) -> str:
        assert isinstance(self.signer, Ed25519Signer)
        return self.signer.verifier().to_vkey()

    def grow(self, count: int, tag: str = "") -> int:
        start = len(self.leaves)
        self.leaves += [leaf_hash(f"{tag}{start + i}".encode()) for i in range(count)]
        return len(self.leaves)

    def fork(self, origin_seed_tag: str, keep: int) -> SimLog:
        """Another history of the same log (same key) sharing ``keep`` leaves."""
        return SimLog(self.origin, self.signer, self.leaves[:keep])

    def checkpoint(self, size: int | None = None, signer: Signer | None = None) -> bytes:
        size = len(self.leaves) if size is None else size
        cp = Checkpoint(self.origin, size, root_hash(self.leaves[:size]))
        return sign_checkpoint(cp, signer or self.signer)

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = len(self.leaves) if new is None else new
        if old == 0:
            return []
        return consistency_proof(self.leaves, old, new)

    def request(self, old: int, new: int | None = None) -> bytes:
        """The ``add-checkpoint`` body from ``old`` to ``new`` (default: all)."""
        return body(old, self.proof(old, new), self.checkpoint(new))


def body(old: int | str, proof: Sequence[bytes], note: bytes) -> bytes:
    lines = [f"old {old}"] + [encode_base64(h) for h in proof]
    return ("\n".join(lines) + "\n\n").encode("ascii") + note


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]


def post(port: int, data: bytes, path: str = "/add-checkpoint", method: str = "POST") -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=data)
        response = connection.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, headers.get("content-type", ""), response.read(), headers)
    finally:
        connection.close()


def held_rows(state: Path) -> list[tuple[object, ...]]:
    """Every row of the witness's ``cosigned`` table, read directly."""
    path = state / "witness.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT * FROM cosigned ORDER BY origin, witness"))


@dataclass
class WitnessProcess:
    """``mutualog --state STATE witness serve --key KEY`` on a free port."""

    state: Path
    key: Path
    extra: Sequence[str] = ()
    workers: int = 2
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    output: Path | None = None

    def argv(self) -> list[str]:
        code = "import sys; from client.cli import main; sys.exit(main(sys.argv[1:]))"
        return [
            sys.executable,
            "-c",
            code,
            "--state",
            str(self.state),
            "witness",
            "serve",
            "--key",
            str(self.key),
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            *self.extra,
        ]

    def start(self) -> WitnessProcess:
        self.port = self.port or free_port()
        self.output = self.state.parent / f"witness-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
        env["LANG"] = "C"
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                self.argv(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"witness exited: {self.log_text()}")
            try:
                # A GET is answered 405 without touching the state.
                post(self.port, b"", method="GET")
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"witness did not answer: {self.log_text()}") from None
                time.sleep(0.05)

    def log_text(self) -> str:
        return self.output.read_text(errors="replace") if self.output else ""

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)


def quiet_main(*argv: str | Path) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main([str(a) for a in argv])


def make_witness(folder: Path, *logs: SimLog, name: str = WITNESS) -> tuple[Path, Path, str]:
    """A state folder pinning ``logs`` and a witness key: (state, key file, vkey)."""
    state = folder / "state"
    for log in logs:
        assert quiet_main("--state", state, "trust", log.origin, log.vkey) == 0
    key = folder / "witness.key"
    vkey = create_witness_key(key, name, hashlib.sha256(name.encode()).digest())
    return state, key, vkey


def check_cosignature(line: bytes, note: bytes, vkey: str) -> int:
    """Verify one response line by tlog-cosignature's rules, written out here
    rather than through the code under test; return its timestamp."""
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    raw = base64.b64decode(key_b64)
    assert raw[0] == 0x04
    prefix = f"\u2014 {name} ".encode()
    assert line.startswith(prefix) and line.endswith(b"\n")
    signature = base64.b64decode(line[len(prefix) : -1], validate=True)
    assert len(signature) == 4 + 8 + 64
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + raw[1:]).digest()[:4]
    assert signature[:4] == key_id == bytes.fromhex(key_id_hex)
    timestamp = int.from_bytes(signature[4:12], "big")
    text = Note.from_bytes(note).text.encode()
    message = b"cosignature/v1\ntime %d\n" % timestamp + text
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(signature[12:], message)
    return timestamp
