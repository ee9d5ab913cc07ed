"""The witness for any C2SP log: the vectors of the specs, a log whose key
is named otherwise than its origin (Go's checksum database), configured
through ``trust`` and through a ``logs/v0`` log list, and a log list it
cannot read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug.test import Client

from client.witness_logs import LogListError, WitnessedLog, parse_log_list
from client.witness_service import Witness, make_app
from client.witness_store import WitnessStore
from tests.client.witness_helpers import (
    SimLog,
    WitnessProcess,
    body,
    check_cosignature,
    held_rows,
    make_witness,
    post,
)
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import Ed25519Signer, Ed25519Verifier, sign_note

if TYPE_CHECKING:
    from tests.client.harness import Mutualog

VECTORS = Path(__file__).parents[1] / "vectors"
SIGNED_NOTE: dict[str, Any] = json.loads((VECTORS / "signed-note.json").read_text("utf-8"))
GENERATED: dict[str, Any] = json.loads(
    (VECTORS / "generated-cosignature-and-tiles.json").read_text("utf-8")
)
SUMDB_ORIGIN = "go.sum database tree"


def _in_process(tmp_path: Path, signer: CosignatureSigner, log: WitnessedLog, now: int) -> Client:
    store = WitnessStore(tmp_path / "witness.sqlite")
    return Client(make_app(Witness(signer, {log.origin: log}, store, lambda: now)))


def test_the_cosignature_is_the_vectors_byte_for_byte(tmp_path: Path) -> None:
    """The generated vector's checkpoint, submitted as its log signed it
    (with the vector witness's own line, which the witness ignores as an
    unknown key's), is answered with exactly the vector's cosignature line:
    same message, key ID and timestamp encoding."""
    keys = GENERATED["keys"]
    witness = CosignatureSigner(
        keys["witness"]["name"], bytes.fromhex(keys["witness"]["ed25519_seed_hex"])
    )
    log_key = Ed25519Verifier.from_vkey(keys["log"]["vkey"])
    log = WitnessedLog(log_key.name, (log_key,), "vector")
    client = _in_process(tmp_path, witness, log, GENERATED["cosignature_timestamp"])
    note = GENERATED["checkpoint_with_log_sig_and_cosig"].encode()
    response = client.post("/add-checkpoint", data=body(0, [], note))
    assert response.status_code == 200
    expected = note.decode().splitlines()[-1] + "\n"
    assert response.get_data(as_text=True) == expected
    check_cosignature(response.get_data(), note, keys["witness"]["vkey_cosignature_v1"])


def _sumdb_note() -> bytes:
    """The tree note of golang.org/x/mod's sumdb test (origin ``go.sum
    database tree``), signed by the vectors' PeterNeumann key as the vector
    signs its notes: a key whose name is not the origin."""
    vector = SIGNED_NOTE["tlog_tree_note_sumdb"]
    text = vector["text"]
    peter = Ed25519Signer.from_private_key(SIGNED_NOTE["go_sumdb_note"]["peter_skey"])
    return sign_note(text, [peter])


def test_signed_note_vectors_sign_as_the_witness_reads(tmp_path: Path) -> None:
    vector = SIGNED_NOTE["go_sumdb_note"]
    peter = Ed25519Signer.from_private_key(vector["peter_skey"])
    # The vector key signs the vector text into the vector's very line.
    assert sign_note(vector["text"], [peter]).decode() == vector["signed_by_peter"]
    log = WitnessedLog(SUMDB_ORIGIN, (Ed25519Verifier.from_vkey(vector["peter_vkey"]),), "vector")
    witness = CosignatureSigner("witness.example/w1", bytes(32))
    client = _in_process(tmp_path, witness, log, 1_800_000_000)
    response = client.post("/add-checkpoint", data=body(0, [], _sumdb_note()))
    assert response.status_code == 200
    stamp = check_cosignature(response.get_data(), _sumdb_note(), witness.verifier().to_vkey())
    assert stamp == 1_800_000_000
    # The same note signed by a key of the right name but another key: refused.
    other = Ed25519Signer(vector["peter_vkey"].split("+")[0], bytes(32))
    forged = sign_note(SIGNED_NOTE["tlog_tree_note_sumdb"]["text"], [other])
    assert client.post("/add-checkpoint", data=body(0, [], forged)).status_code == 403


# --- a key named otherwise than its origin, through trust and through a list ---------


SUMDB = SimLog.make(SUMDB_ORIGIN, b"sumdb", key_name="sum.golang.org")


@pytest.fixture
def processes() -> Iterator[list[WitnessProcess]]:
    started: list[WitnessProcess] = []
    yield started
    for process in started:
        process.stop()


def _check_chain(process: WitnessProcess, log: SimLog, vkey: str) -> None:
    log.leaves.clear()
    log.grow(5)
    answer = post(process.port, log.request(0))
    assert answer.status == 200, answer.body
    check_cosignature(answer.body, log.checkpoint(), vkey)
    log.grow(7)
    answer = post(process.port, log.request(5))
    assert answer.status == 200, answer.body
    check_cosignature(answer.body, log.checkpoint(), vkey)


def test_a_sumdb_like_log_pinned_with_trust(
    mutualog: Mutualog, tmp_path: Path, processes: list[WitnessProcess]
) -> None:
    state, key, vkey = make_witness(tmp_path)
    result = mutualog("--state", state, "trust", SUMDB_ORIGIN, SUMDB.vkey)
    assert result.code == 0
    assert (
        "the key is named 'sum.golang.org', not after the origin 'go.sum database tree'"
        in result.err
    )
    processes.append(WitnessProcess(state, key).start())
    _check_chain(processes[0], SUMDB, vkey)
    assert held_rows(state)[0][0] == SUMDB_ORIGIN
    assert f"{SUMDB_ORIGIN}  [trust]" in processes[0].log_text()


LOG_LIST = """#
# A list in the witness network's format: comments and blank lines between.
#
logs/v0

# Go's checksum database shape: the origin is not the key's name.
vkey {sumdb}
origin go.sum database tree
qpd 86400
contact sumdb (at) example.org

  vkey {plain}
origin none
qpd 24
contact https://example.org/contact
"""


def test_a_sumdb_like_log_from_a_log_list(tmp_path: Path, processes: list[WitnessProcess]) -> None:
    plain = SimLog.make("example.org/plain", b"plain")
    listed = tmp_path / "log-list"
    listed.write_text(LOG_LIST.format(sumdb=SUMDB.vkey, plain=plain.vkey))
    state, key, vkey = make_witness(tmp_path)  # pins nothing
    processes.append(WitnessProcess(state, key, ("--log-list", str(listed))).start())
    _check_chain(processes[0], SUMDB, vkey)
    _check_chain(processes[0], plain, vkey)
    assert [row[0] for row in held_rows(state)] == ["example.org/plain", SUMDB_ORIGIN]
    assert f"{SUMDB_ORIGIN}  [{listed} line 7]" in processes[0].log_text()
    # A log the list does not name stays unknown.
    assert post(processes[0].port, SimLog.make("example.org/other", b"o").request(0)).status == 404


def test_the_log_list_is_read_as_the_network_writes_it() -> None:
    plain = SimLog.make("example.org/plain", b"plain")
    logs = parse_log_list(LOG_LIST.format(sumdb=SUMDB.vkey, plain=plain.vkey), "list")
    assert [(log.origin, log.qpd, log.contact) for log in logs] == [
        (SUMDB_ORIGIN, 86400, "sumdb (at) example.org"),
        ("example.org/plain", 24, "https://example.org/contact"),
    ]
    assert [log.verifiers[0].to_vkey() for log in logs] == [SUMDB.vkey, plain.vkey]
    # The origin line is optional: absent, it is the key's name.
    (short,) = parse_log_list(f"logs/v0\nvkey {plain.vkey}\nqpd 1\ncontact me\n", "list")
    assert short.origin == "example.org/plain"
    assert parse_log_list("logs/v0\n", "empty") == []


BAD_LISTS = {
    "no-header": ("vkey {key}\nqpd 1\ncontact x\n", 1, "expected the header 'logs/v0'"),
    "old-header": ("logs/v1\n", 1, "expected the header"),
    "empty-file": ("# nothing\n", 2, "no 'logs/v0' header"),
    "bad-vkey": ("logs/v0\n\nvkey example.org+00000000+AAAA\nqpd 1\ncontact x\n", 3, "vkey:"),
    "two-vkeys": ("logs/v0\nvkey {key} {key}\nqpd 1\ncontact x\n", 2, "one verifier key"),
    "witness-key": ("logs/v0\nvkey {witness}\nqpd 1\ncontact x\n", 2, "signature type 0x04"),
    "origin-empty": ("logs/v0\nvkey {key}\norigin\nqpd 1\ncontact x\n", 3, "no origin line"),
    "qpd-zero": ("logs/v0\nvkey {key}\nqpd 0\ncontact x\n", 3, "qpd: '0' is not a positive"),
    "qpd-missing": ("logs/v0\nvkey {key}\ncontact x\n", 3, "expected 'origin <line>' or 'qpd"),
    "contact-empty": ("logs/v0\nvkey {key}\nqpd 5\ncontact\n", 4, "expected 'contact <text>'"),
    "unknown-line": ("logs/v0\nbastion none\n", 2, "expected 'vkey <key>', found 'bastion'"),
    "incomplete": ("logs/v0\nvkey {key}\nqpd 5\n\n# end\n", 6, "the log of line 2 is incomplete"),
}


@pytest.mark.parametrize("name", list(BAD_LISTS))
def test_a_log_list_line_it_cannot_read_stops_the_witness(
    mutualog: Mutualog, tmp_path: Path, name: str
) -> None:
    text, line, message = BAD_LISTS[name]
    witness_vkey = CosignatureSigner("w", bytes(32)).verifier().to_vkey()
    listed = tmp_path / "list"
    listed.write_text(text.format(key=SUMDB.vkey, witness=witness_vkey))
    with pytest.raises(LogListError, match=f"line {line}: .*{message}") as caught:
        parse_log_list(listed.read_text(), str(listed))
    assert caught.value.line == line
    state, key, _ = make_witness(tmp_path)
    result = mutualog("--state", state, "witness", "serve", "--key", key, "--log-list", listed)
    assert result.code == 2
    assert f"{listed}: line {line}: " in result.err and message.split("'")[0] in result.err
    assert not (state / "witness.sqlite").exists()


def test_a_witness_with_no_log_does_not_start(mutualog: Mutualog, tmp_path: Path) -> None:
    state, key, _ = make_witness(tmp_path)
    result = mutualog("--state", state, "witness", "serve", "--key", key)
    assert result.code == 2 and "no log to witness" in result.err


def test_a_witness_with_a_bad_key_does_not_start(mutualog: Mutualog, tmp_path: Path) -> None:
    log = SimLog.make("example.org/k", b"k")
    state, key, _ = make_witness(tmp_path, log)
    key.write_text(Ed25519Signer("example.org/k", hashlib.sha256(b"k").digest()).to_private_key())
    result = mutualog("--state", state, "witness", "serve", "--key", key)
    assert result.code == 2 and "signature type 0x01, expected 0x04" in result.err


# A tree head Go's checksum database signed (size 65664258), with the key Go
# publishes: a real log whose key is not named after its origin.
GO_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
GO_NOTE = (
    "go.sum database tree\n65664258\nWVVNVD2qx+fTq31zkj6UAqxT5X6HvGphGM+o8Thnbsg=\n\n"
    "\u2014 sum.golang.org Az3grligJmgX7KGyGPKybykNTh3VgsbLvUuvOwrM5zLVlulmFp2wdvbxOw74/gcNxURShX"
    "Epb7RXcs3+BYflYN+w0gQ=\n"
).encode()


@pytest.mark.parametrize("configured", ["trust", "log-list"])
def test_a_checkpoint_of_gos_checksum_database_is_cosigned(
    mutualog: Mutualog, tmp_path: Path, processes: list[WitnessProcess], configured: str
) -> None:
    state, key, vkey = make_witness(tmp_path)
    extra: tuple[str, ...] = ()
    if configured == "trust":
        result = mutualog("--state", state, "trust", SUMDB_ORIGIN, GO_VKEY)
        assert result.code == 0 and "the key is named 'sum.golang.org'" in result.err
    else:
        listed = tmp_path / "log-list"
        listed.write_text(f"logs/v0\nvkey {GO_VKEY}\norigin {SUMDB_ORIGIN}\nqpd 86400\ncontact -\n")
        extra = ("--log-list", str(listed))
    processes.append(WitnessProcess(state, key, extra).start())
    answer = post(processes[0].port, body(0, [], GO_NOTE))
    assert answer.status == 200, answer.body
    check_cosignature(answer.body, GO_NOTE, vkey)
    # The same tree head again is cosigned again; one bit off the root is not Go's.
    assert post(processes[0].port, body(65664258, [], GO_NOTE)).status == 200
    bent = GO_NOTE.replace(b"WVVN", b"WVVM")
    assert post(processes[0].port, body(65664258, [], bent)).status == 403
    assert held_rows(state)[0][2] == 65664258


def test_a_cosignature_never_goes_back_in_time(tmp_path: Path) -> None:
    """A clock set back does not date a larger tree before a smaller one."""
    log = SimLog.make("example.org/clock", b"clock")
    verifier = Ed25519Verifier.from_vkey(log.vkey)
    signer = CosignatureSigner("witness.example/w1", bytes(32))
    now = [2_000_000_000]
    witness = Witness(
        signer,
        {log.origin: WitnessedLog(log.origin, (verifier,), "test")},
        WitnessStore(tmp_path / "witness.sqlite"),
        lambda: now[0],
    )
    client = Client(make_app(witness))
    log.grow(3)
    first = client.post("/add-checkpoint", data=log.request(0)).get_data()
    now[0] = 1_000_000_000
    log.grow(3)
    second = client.post("/add-checkpoint", data=log.request(3)).get_data()
    vkey = signer.verifier().to_vkey()
    assert check_cosignature(first, log.checkpoint(3), vkey) == 2_000_000_000
    assert check_cosignature(second, log.checkpoint(6), vkey) == 2_000_000_000
