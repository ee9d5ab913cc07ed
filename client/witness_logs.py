"""The logs a witness follows: those pinned with ``mutualog trust`` in its
state folder, and those of a log list in the witness network's ``logs/v0``
format (https://witness-network.org/log-list-format, as its ``validate``
tool reads it).

A ``logs/v0`` list is lines; blank lines and lines starting with ``#`` are
ignored, and surrounding spaces are dropped.  The first line is ``logs/v0``;
then each log is, in this order::

    vkey <the log's verifier key>
    origin <the origin line>        (optional; absent or "none": the key's name)
    qpd <add-checkpoint requests a day, a positive integer>
    contact <how to reach the operator, free text>

A line that does not fit is a :class:`LogListError` naming its line number:
a witness serving half a list it misread would refuse logs it promised to
witness, so it does not start at all.

A log is known by its origin line.  Its key's name need not be the origin:
Go's checksum database signs ``go.sum database tree`` with the key
``sum.golang.org``; the configuration (a pin, a list entry) is what binds a
key to an origin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from client.state import StateDir
from verifiable.errors import MalformedError, MutualogError
from verifiable.log.note import Ed25519Verifier

__all__ = ["LogListError", "WitnessedLog", "logs_from_pins", "merge_logs", "parse_log_list"]

_HEADER = "logs/v0"
_QPD = re.compile(r"[1-9][0-9]{0,17}")


class LogListError(MutualogError):
    """A ``logs/v0`` log list the witness cannot read; the message names the line."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}: line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class WitnessedLog:
    """One log the witness cosigns for: its origin line and its keys."""

    origin: str
    verifiers: tuple[Ed25519Verifier, ...]
    source: str
    """Where it was configured: ``trust`` or ``<list file> line N``."""
    qpd: int | None = None
    contact: str = ""

    @property
    def key_names(self) -> str:
        return ", ".join(v.to_vkey() for v in self.verifiers)


def logs_from_pins(state: StateDir) -> list[WitnessedLog]:
    """Every log pinned in ``state``; a damaged pin raises
    :class:`~client.state.StateError`."""
    logs = []
    for origin in state.pinned_origins():
        pin = state.load_pin(origin)
        if pin is not None:
            logs.append(WitnessedLog(origin, (pin.verifier(),), "trust"))
    return logs


def _split(line: str) -> tuple[str, str]:
    keyword, _, value = line.partition(" ")
    return keyword, value.strip()


def _lines(text: str) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


class _Entry:
    """A log being read, one keyword line at a time."""

    def __init__(self, number: int, vkey: Ed25519Verifier) -> None:
        self.number = number
        self.verifier = vkey
        self.origin: str | None = None
        self.qpd: int | None = None


def parse_log_list(text: str, source: str) -> list[WitnessedLog]:
    """The logs of a ``logs/v0`` list read from ``source`` (named in errors)."""
    logs: list[WitnessedLog] = []
    entry: _Entry | None = None
    header = False
    # What is missing at the end is missing on the line after the last.
    end = len(text.splitlines()) + 1
    for number, line in _lines(text):
        if not header:
            if line != _HEADER:
                raise LogListError(source, number, f"expected the header {_HEADER!r}")
            header = True
            continue
        keyword, value = _split(line)
        if entry is None:
            entry = _vkey_line(source, number, keyword, value)
        elif entry.qpd is None and keyword == "origin" and entry.origin is None:
            if not value:
                raise LogListError(source, number, "origin: no origin line given")
            entry.origin = entry.verifier.name if value == "none" else value
        elif entry.qpd is None:
            entry.qpd = _qpd_line(source, number, keyword, value)
        else:
            if keyword != "contact" or not value:
                raise LogListError(source, number, f"expected 'contact <text>', found {keyword!r}")
            where = f"{source} line {entry.number}"
            origin = entry.origin or entry.verifier.name
            logs.append(WitnessedLog(origin, (entry.verifier,), where, entry.qpd, value))
            entry = None
    if not header:
        raise LogListError(source, end, f"no {_HEADER!r} header")
    if entry is not None:
        raise LogListError(source, end, f"the log of line {entry.number} is incomplete")
    return logs


def _vkey_line(source: str, number: int, keyword: str, value: str) -> _Entry:
    if keyword != "vkey":
        raise LogListError(source, number, f"expected 'vkey <key>', found {keyword!r}")
    if not value or " " in value:
        raise LogListError(source, number, "vkey: expected one verifier key")
    try:
        return _Entry(number, Ed25519Verifier.from_vkey(value))
    except MalformedError as e:
        raise LogListError(source, number, f"vkey: {e}") from e


def _qpd_line(source: str, number: int, keyword: str, value: str) -> int:
    if keyword != "qpd":
        raise LogListError(
            source, number, f"expected 'origin <line>' or 'qpd <n>', found {keyword!r}"
        )
    if not _QPD.fullmatch(value):
        raise LogListError(source, number, f"qpd: {value!r} is not a positive integer")
    return int(value)


def merge_logs(groups: Iterable[Iterable[WitnessedLog]]) -> dict[str, WitnessedLog]:
    """One entry per origin; an origin configured twice is witnessed with
    every key it was given (a log rotating its key is listed with both)."""
    merged: dict[str, WitnessedLog] = {}
    for group in groups:
        for log in group:
            known = merged.get(log.origin)
            if known is None:
                merged[log.origin] = log
                continue
            keys = known.verifiers + tuple(v for v in log.verifiers if v not in known.verifiers)
            merged[log.origin] = WitnessedLog(
                log.origin, keys, f"{known.source}, {log.source}", known.qpd, known.contact
            )
    return merged
