"""verifiable.pool.receipt: the juror's vote receipt format."""

from __future__ import annotations

import json

import pytest

from verifiable.errors import MalformedError
from verifiable.log.bodies import Choice
from verifiable.pool.receipt import RECEIPT_TYPE, VoteReceipt, parse_receipt

RECEIPT = VoteReceipt(
    claim="c" * 32,
    round=1,
    juror="a" * 32,
    choice=Choice.APPROVE,
    reason="the records agree",
    salt=bytes(range(32)),
    commitment=bytes(32),
    leaf_index=7,
    entry=b'{"v":1}',
    tree_size=9,
    inclusion_proof=(bytes(32), b"\x01" * 32),
    checkpoint=b"example.org/log\n9\nAAAA\n\n",
)


def _bytes(**changes: object) -> bytes:
    obj = {**RECEIPT.to_json(), **changes}
    return json.dumps(obj).encode()


def test_round_trip() -> None:
    assert RECEIPT.to_json()["type"] == RECEIPT_TYPE
    assert parse_receipt(_bytes()) == RECEIPT


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"not json", r"not JSON"),
        (b"[]", r"not a JSON object"),
        (_bytes(type="other"), r"type: expected"),
        (_bytes(choice="maybe"), r"choice: expected approve or reject"),
        (_bytes(round=True), r"round: expected an integer, got a boolean"),
        (_bytes(salt="zz"), r"salt: not hexadecimal"),
        (_bytes(inclusion_proof=["00"]), r"inclusion_proof\[0\]: expected 32 bytes, got 1"),
        (_bytes(inclusion_proof=["00" * 32] * 65), r"more than 64"),
        (_bytes(leaf_index=-1), r"must not be negative"),
    ],
    ids=["json", "array", "type", "choice", "bool", "hex", "proof-hash", "proof-long", "neg"],
)
def test_malformed(data: bytes, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        parse_receipt(data)


def test_missing_field() -> None:
    obj = RECEIPT.to_json()
    del obj["salt"]
    with pytest.raises(MalformedError, match=r"missing field 'salt'"):
        parse_receipt(json.dumps(obj).encode())
