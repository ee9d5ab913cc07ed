"""verifiable.findings: the one check-result type and its stable JSON shapes."""

from __future__ import annotations

import json

import pytest

from verifiable.findings import Finding, Findings, Status


def test_the_three_json_shapes_are_the_stable_ones() -> None:
    failed = Finding.failure("roster", "not on the roster", "ab", 3, "entry 5")
    assert json.dumps(failed.to_json("verdict")) == (
        '{"name": "roster", "ok": false, "detail": "not on the roster"}'
    )
    assert json.dumps(failed.to_json("evidence")) == (
        '{"name": "roster", "ok": false, "detail": "not on the roster", '
        '"expected": "ab", "found": "3", "where": "entry 5"}'
    )
    assert json.dumps(failed.to_json("status")) == (
        '{"name": "roster", "status": "FAIL", "detail": "not on the roster"}'
    )
    passed = Finding.passed("inclusion", "proven")
    assert passed.to_json("evidence") == {
        "name": "inclusion",
        "ok": True,
        "detail": "proven",
        "expected": "",
        "found": "",
        "where": "",
    }


@pytest.mark.parametrize(
    ("status", "value", "mark", "ok", "failed"),
    [
        (Status.OK, "ok", "ok  ", True, False),
        (Status.FAIL, "FAIL", "FAIL", False, True),
        (Status.PENDING, "pending", "wait", False, False),
        (Status.SKIP, "skip", "skip", False, False),
    ],
)
def test_a_status_has_its_json_value_and_text_mark(
    status: Status, value: str, mark: str, ok: bool, failed: bool
) -> None:
    finding = Finding("tally", status, "detail")
    assert finding.to_json("status")["status"] == value
    assert status.mark == mark
    assert (finding.ok, finding.failed) == (ok, failed)


def test_verdict_is_ok_or_fail() -> None:
    assert Finding.verdict("a", True, "d") == Finding.passed("a", "d")
    assert Finding.verdict("a", False, "d") == Finding.failure("a", "d")


def test_findings_keep_the_first_failure_of_a_name_else_its_last_success() -> None:
    f = Findings()
    f.ok("votes", "first")
    f.ok("seed", "proven")
    f.fail("votes", "sealed twice", "once", "twice", "entry 9")
    f.fail("votes", "a later failure")
    f.ok("votes", "a later success")
    f.ok("seed", "proven again")
    assert f.failed("votes") and not f.failed("seed")
    assert f.result() == [
        Finding.failure("votes", "sealed twice", "once", "twice", "entry 9"),
        Finding.passed("seed", "proven again"),
    ]


def test_extend_merges_findings_by_name() -> None:
    f = Findings()
    f.ok("inclusion", "one")
    f.extend([Finding.passed("checkpoint", "signed"), Finding.failure("inclusion", "bad", 1, 2)])
    assert f.result() == [
        Finding.failure("inclusion", "bad", "1", "2"),
        Finding.passed("checkpoint", "signed"),
    ]
