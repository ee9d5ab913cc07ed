"""The one result type of every check: a named :class:`Finding` with a :class:`Status`.

Verification functions raise (see :mod:`verifiable.errors`); a command that
reports every check it ran, passed or not, collects findings instead: log
checks (``sync``, ``audit``, witness mode), bundle checks (``verify-deduction``,
``verify-claim``) and receipt checks (``verify-receipt``) alike.

A finding's name is its stable check id.  Its JSON comes in the three shapes
the commands' ``--json`` output has always had (docs/client.md, "Stable
output"), so each report says which one it prints:

``"verdict"``
    ``{"name", "ok", "detail"}``: log checks.
``"evidence"``
    ``{"name", "ok", "detail", "expected", "found", "where"}``: bundle checks,
    whose failures say field by field what was expected and what was found.
``"status"``
    ``{"name", "status", "detail"}``: receipt checks, which may also be
    ``pending`` or ``skip``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = ["Finding", "Findings", "JsonShape", "Status"]


class Status(StrEnum):
    """A check's verdict; the values are the ``status`` strings of the JSON."""

    OK = "ok"
    FAIL = "FAIL"
    """Evidence: the input decodes but is not what it claims."""
    PENDING = "pending"
    """Not decidable yet (e.g. the votes are not revealed)."""
    SKIP = "skip"
    """Not run, because a check it depends on did not pass."""

    @property
    def mark(self) -> str:
        """The four-character mark of the text output: ``ok  ``, ``FAIL``, ``wait``, ``skip``."""
        return _MARKS[self]


_MARKS = {Status.OK: "ok  ", Status.FAIL: "FAIL", Status.PENDING: "wait", Status.SKIP: "skip"}

JsonShape = Literal["verdict", "evidence", "status"]


@dataclass(frozen=True)
class Finding:
    """One named check: ``detail`` says what was proven or what went wrong;
    a failure may say field by field what was ``expected``, what was
    ``found`` and ``where``."""

    name: str
    status: Status
    detail: str
    expected: str = ""
    found: str = ""
    where: str = ""

    @classmethod
    def passed(cls, name: str, detail: str) -> Finding:
        return cls(name, Status.OK, detail)

    @classmethod
    def failure(
        cls, name: str, detail: str, expected: object = "", found: object = "", where: str = ""
    ) -> Finding:
        return cls(name, Status.FAIL, detail, str(expected), str(found), where)

    @classmethod
    def verdict(cls, name: str, ok: bool, detail: str) -> Finding:
        """A finding that either passed or failed."""
        return cls(name, Status.OK if ok else Status.FAIL, detail)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_json(self, shape: JsonShape) -> dict[str, object]:
        """The finding in one of the stable JSON shapes (see the module docstring)."""
        if shape == "status":
            return {"name": self.name, "status": self.status.value, "detail": self.detail}
        out: dict[str, object] = {"name": self.name, "ok": self.ok, "detail": self.detail}
        if shape == "evidence":
            out.update(expected=self.expected, found=self.found, where=self.where)
        return out


class Findings:
    """Collects findings by name: the first failure of a name wins, else its
    last passing detail; names keep the order they were first seen in."""

    __slots__ = ("_failed", "_order", "_passed")

    def __init__(self) -> None:
        self._order: list[str] = []
        self._failed: dict[str, Finding] = {}
        self._passed: dict[str, str] = {}

    def _see(self, name: str) -> None:
        if name not in self._failed and name not in self._passed:
            self._order.append(name)

    def ok(self, name: str, detail: str) -> None:
        self._see(name)
        self._passed[name] = detail

    def fail(
        self, name: str, detail: str, expected: object = "", found: object = "", where: str = ""
    ) -> None:
        self._see(name)
        if name not in self._failed:
            self._failed[name] = Finding.failure(name, detail, expected, found, where)

    def failed(self, name: str) -> bool:
        return name in self._failed

    def extend(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            if f.ok:
                self.ok(f.name, f.detail)
            else:
                self.fail(f.name, f.detail, f.expected, f.found, f.where)

    def result(self) -> list[Finding]:
        out = []
        for name in self._order:
            failed = self._failed.get(name)
            out.append(failed if failed else Finding.passed(name, self._passed[name]))
        return out
