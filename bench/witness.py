"""How many checkpoints one witness cosigns a second.  Run by hand; not a test.

    python -m bench.witness                          # 8 logs x 400 checkpoints
    python -m bench.witness --logs 16 --checkpoints 500 --workers 2 --threads 4

Pins L logs in a temporary state folder, makes a witness key, and starts the
production command, ``mutualog witness serve --workers W --threads T``
(gunicorn, gthread workers), on a free loopback port.  Then L client
processes, one per log, each submit their log's chain of C checkpoints in
order (old size, consistency proof, the checkpoint signed by the log),
every request on one kept-alive connection, as C2SP tlog-witness asks of
logs.  Every answer must be a 200 whose line verifies; the figure is the
number of cosignatures over the wall-clock time from the first request to
the last answer.  The bodies (signatures, proofs) are built before the
clock starts, so that the figure is the witness's: parse, verify the log's
signature and the proof, lock, store with an fsync, cosign, answer.

The target: at least 500 checkpoints/s.  The witness is stopped by its pid.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import machine
from client.witness import create_witness_key
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.cosignature import CosignatureVerifier
from verifiable.log.merkle import CompactTree, consistency_proof, leaf_hash
from verifiable.log.note import Ed25519Signer, Note, encode_base64

TARGET = 500.0
WITNESS_NAME = "bench.example/witness"


def chain(origin: str, count: int) -> tuple[str, list[bytes]]:
    """A log's verifier key and the ``add-checkpoint`` bodies of ``count``
    checkpoints, each one to three leaves after the last."""
    signer = Ed25519Signer(origin, hashlib.sha256(origin.encode()).digest())
    leaves: list[bytes] = []
    tree = CompactTree()
    bodies = []
    old = 0
    for i in range(count):
        new = [leaf_hash(f"{origin} {len(leaves) + j}".encode()) for j in range(1 + i % 3)]
        leaves += new
        tree.extend(new)
        proof = consistency_proof(leaves, old, len(leaves)) if old else []
        note = sign_checkpoint(Checkpoint(origin, len(leaves), tree.root()), signer)
        head = "".join(f"{line}\n" for line in [f"old {old}", *map(encode_base64, proof)])
        bodies.append(f"{head}\n".encode() + note)
        old = len(leaves)
    return signer.verifier().to_vkey(), bodies


def submit(port: int, bodies: list[bytes], vkey: str, start: float) -> int:
    """Send ``bodies`` in order on one connection; return how many were cosigned."""
    verifier = CosignatureVerifier.from_vkey(vkey)
    while time.time() < start:
        time.sleep(0.001)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    done = 0
    for body in bodies:
        connection.request("POST", "/add-checkpoint", body=body)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SystemExit(f"witness answered {response.status}: {answer!r}")
        # Check one answer in ten fully: the client's cost is not the point.
        if done % 10 == 0:
            note = body[body.index(b"\n\n") + 2 :]
            text = Note.from_bytes(note).text.encode()
            line = Note.from_bytes(note + answer).signatures[-1]
            verifier.verify(text, line.signature)
        done += 1
    connection.close()
    return done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(argv: list[str]) -> None:
    code = "import sys; from client.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, check=False)
    if result.returncode != 0:
        raise SystemExit(result.stderr.decode())


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the witness exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the witness did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logs", type=int, default=8)
    parser.add_argument("--checkpoints", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-witness-"))
    state, key = folder / "state", folder / "witness.key"
    vkey = create_witness_key(key, WITNESS_NAME, os.urandom(32))
    print(f"building {args.logs} chains of {args.checkpoints} checkpoints...", flush=True)
    chains = [chain(f"bench.example/log{i}", args.checkpoints) for i in range(args.logs)]
    for i, (log_vkey, _) in enumerate(chains):
        _run(["--state", str(state), "trust", f"bench.example/log{i}", log_vkey])
    port = _free_port()
    serve = [*(sys.executable, "-c"), "import sys; from client.cli import main; sys.exit(main())"]
    serve += ["--state", str(state), "witness", "serve", "--key", str(key), "--port", str(port)]
    serve += ["--workers", str(args.workers), "--threads", str(args.threads)]
    process = subprocess.Popen(serve, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(port, process)
        start = time.time() + 1.0
        with multiprocessing.Pool(args.logs) as pool:
            jobs = [pool.apply_async(submit, (port, b, vkey, start)) for _, b in chains]
            done = sum(job.get() for job in jobs)
        elapsed = time.time() - start
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(30)
    rate = done / elapsed
    print(f"command: python -m bench.witness {' '.join(sys.argv[1:])}")
    print(machine("at the end"))
    print(
        f"witness serve --workers {args.workers} --threads {args.threads}: {args.logs} logs, "
        f"{done} checkpoints cosigned in {elapsed:.2f} s: {rate:.0f} checkpoints/s "
        f"(target {TARGET:.0f}: {'met' if rate >= TARGET else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
