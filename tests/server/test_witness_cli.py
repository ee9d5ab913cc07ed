"""``mutualog-server witness``: add, list, remove, policy and one round of
run; bad input is exit 2 with one line saying what is wrong, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.cli import main
from verifiable.log.cosignature import CosignatureSigner

KEYS = [CosignatureSigner(f"w{i}.example", bytes([0x30 + i]) * 32) for i in range(2)]


class Run:
    def __init__(self, tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.base = ["--instance", str(tmp_path / "instance"), "--database-url", url]
        self.capsys = capsys
        assert main([*self.base, "init", "--origin", "example.org/witness-cli"]) == 0
        capsys.readouterr()

    def __call__(self, *args: str) -> tuple[int, str, str]:
        status = main([*self.base, "witness", *args])
        captured = self.capsys.readouterr()
        return status, captured.out, captured.err


@pytest.fixture
def run(tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(tmp_path, sqlite_url, capsys)


def test_add_list_policy_remove(run: Run) -> None:
    for i, key in enumerate(KEYS):
        vkey = key.verifier().to_vkey()
        status, out, _ = run("add", key.name, f"http://127.0.0.1:{7380 + i}/", vkey)
        assert status == 0 and f"witness {key.name} added: http://127.0.0.1:{7380 + i}" in out
    assert run("policy", "2")[0] == 0
    status, out, _ = run("list")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "policy: 2 of 2 witnesses required"
    assert lines[1].split("\t") == [
        "w0.example",
        "http://127.0.0.1:7380",
        KEYS[0].verifier().to_vkey(),
        "last cosigned never",
        "ok",
    ]
    status, _, err = run("remove", "w0.example")
    assert status == 2 and "lower it first" in err
    assert run("policy", "1")[0] == 0
    assert run("remove", "w0.example") == (0, "witness w0.example removed\n", "")
    assert run("list")[1].splitlines()[1].startswith("w1.example\t")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "w0.example", "http://x", "w0.example+00000000+AAAA"), "not a C2SP cosignature"),
        (("add", "other", "http://x", KEYS[0].verifier().to_vkey()), "is named 'w0.example'"),
        (("add", "w0.example", "x.org", KEYS[0].verifier().to_vkey()), "not an http://"),
        (("remove", "nobody"), "no witness named 'nobody'"),
        (("policy", "1"), "between 0 and the 0 configured"),
        (("policy", "-1"), "-1"),
    ],
    ids=["bad-key", "name-differs", "bad-url", "unknown", "too-many", "negative"],
)
def test_bad_input_is_exit_2_and_changes_nothing(
    run: Run, args: tuple[str, ...], message: str
) -> None:
    status, _, err = run(*args)
    assert status == 2 and message in err
    assert run("list")[1] == "policy: 0 of 0 witnesses required\n"


def test_one_round_with_a_dead_witness(run: Run, tmp_path: Path) -> None:
    key = KEYS[0]
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    assert run("add", key.name, "http://127.0.0.1:9", key.verifier().to_vkey())[0] == 0
    # The log of size 0 has nothing to witness.
    assert run("run", "--once")[1] == "w0.example\tsize 0\theld\t\n"
    items = tmp_path / "items.jsonl"
    entry = {"type": "member.joined", "body": {"member": f"{1:032x}", "age_band": "18-39"}}
    items.write_text(json.dumps(entry) + "\n")
    assert main([*run.base, "append", str(items)]) == 0
    run.capsys.readouterr()
    status, out, _ = run("run", "--once", "--timeout", "2")
    assert status == 0
    name, size, outcome, detail = out.rstrip("\n").split("\t")
    assert (name, size, outcome) == ("w0.example", "size 1", "failed")
    assert "ConnectionRefusedError" in detail
    assert "error: witness w0.example at http://127.0.0.1:9" in run("list")[1]
