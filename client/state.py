"""The client's trust state: what the user pinned and what they verified.

One folder, by default ``$XDG_STATE_HOME/mutualog`` (``~/.local/state/mutualog``
when that is unset), overridden by ``MUTUALOG_STATE`` or ``mutualog --state DIR``.
Inside, one folder per pinned log, named after its origin::

    logs/<origin, %-escaped>/
        trust.json          the log's verifier key, witness policy, and
                            whether it is a pool's log
        checkpoint          the last checkpoint ``sync`` verified, as served
        audit-state.sqlite  the pool's state an ``audit`` replayed and where it
                            stands, so an interrupted one resumes
        witness/<key>.checkpoint
                            where an earlier version kept the last checkpoint
                            a witness key cosigned (now in witness.sqlite,
                            :mod:`client.witness_store`, which reads it once)
        evidence/<time>-<kind>/
                            both checkpoints and a description of a failed check

Every write goes to a temporary file that is then renamed over the old one,
so an interrupted write leaves the old state, never half a file.  A state
file that does not parse is an error naming the file (:class:`StateError`),
never silently replaced: it holds what the user chose to trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from verifiable.errors import MutualogError
from verifiable.log.cosignature import CosignatureVerifier
from verifiable.log.note import Ed25519Verifier
from verifiable.log.witness_policy import WitnessPolicy

__all__ = [
    "AuditProgress",
    "PinnedLog",
    "PinnedWitness",
    "StateDir",
    "StateError",
    "default_state_dir",
    "safe_name",
]

TRUST_FORMAT = "mutualog-trust/1"

# A checkpoint note with the most signatures a note may carry is a few KiB;
# anything much larger in the state folder is not ours.
_MAX_STATE_FILE = 1 << 20
_MAX_NAME = 120


class StateError(MutualogError):
    """The state folder or one of its files cannot be read, parsed or written."""


def default_state_dir(env: Mapping[str, str]) -> Path:
    """``MUTUALOG_STATE``, else ``$XDG_STATE_HOME/mutualog``, else
    ``~/.local/state/mutualog``."""
    explicit = env.get("MUTUALOG_STATE")
    if explicit:
        return Path(explicit)
    xdg = env.get("XDG_STATE_HOME")
    # The XDG spec says a relative value is invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "mutualog"
    home = env.get("HOME")
    if not home:
        raise StateError("no state folder: HOME is not set; give --state DIR or set MUTUALOG_STATE")
    return Path(home) / ".local" / "state" / "mutualog"


def safe_name(text: str) -> str:
    """A file name standing for ``text``: %-escaped so that no origin or key
    name can climb out of its folder; long names are cut and end in a hash so
    that they stay distinct."""
    name = quote(text, safe="")
    if name.startswith("."):
        name = "%2E" + name[1:]
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        name = f"{name[: _MAX_NAME - 17]}-{digest}"
    return name


def _atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError as e:
        raise StateError(f"{path}: cannot write: {e.strerror or e}") from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as e:
        Path(temp).unlink(missing_ok=True)
        raise StateError(f"{path}: cannot write: {e.strerror or e}") from e
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    # The rename is durable only once the folder is synced; not every
    # platform lets a folder be opened for that, and the data is safe anyway.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _read(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_STATE_FILE + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StateError(f"{path}: cannot read: {e.strerror or e}") from e
    if len(data) > _MAX_STATE_FILE:
        raise StateError(f"{path}: corrupt state file: over {_MAX_STATE_FILE} bytes")
    return data


def _read_json(path: Path) -> dict[str, Any] | None:
    data = _read(path)
    if data is None:
        return None
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise StateError(f"{path}: corrupt state file: not JSON ({e})") from e
    if not isinstance(obj, dict):
        raise StateError(f"{path}: corrupt state file: not a JSON object")
    return obj


def _json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _field(obj: Mapping[str, Any], key: str, kind: type, path: Path) -> Any:
    value = obj.get(key)
    # bool is an int to Python, never to us.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StateError(
            f"{path}: corrupt state file: {key!r} should be {kind.__name__}, got {value!r:.60}"
        )
    return value


def _exact_keys(obj: Mapping[str, Any], keys: set[str], path: Path) -> None:
    if set(obj) != keys:
        extra, missing = sorted(set(obj) - keys), sorted(keys - set(obj))
        raise StateError(
            f"{path}: corrupt state file: unexpected keys {extra}, missing keys {missing}"
        )


@dataclass(frozen=True)
class PinnedWitness:
    """A witness the user trusts: its name and cosignature verifier key."""

    name: str
    vkey: str

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier.from_vkey(self.vkey)


@dataclass(frozen=True)
class PinnedLog:
    """A log the user pinned with ``mutualog trust``."""

    origin: str
    verifier_key: str
    witnesses: tuple[PinnedWitness, ...] = ()
    witnesses_required: int = 0
    pool: bool = False
    """The log is a pool's: it must begin with its rulebook (``trust --pool``,
    or learnt when an audit proves its entry 0 a ``pool.rules`` entry)."""

    def __post_init__(self) -> None:
        # Parse everything now, so that a pin is either usable or refused.
        # The key's name may differ from the origin (Go's checksum database
        # signs "go.sum database tree" as sum.golang.org): the pin binds them.
        Ed25519Verifier.from_vkey(self.verifier_key)
        names = [w.name for w in self.witnesses]
        for w in self.witnesses:
            if w.verifier().name != w.name:
                raise StateError(f"witness {w.name!r}: its key is named {w.verifier().name!r}")
        if len(set(names)) != len(names):
            raise StateError(f"witnesses: a name appears twice in {names}")
        if not 0 <= self.witnesses_required <= len(self.witnesses):
            raise StateError(
                f"witnesses required: {self.witnesses_required}, but "
                f"{len(self.witnesses)} witness(es) are trusted"
            )

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier.from_vkey(self.verifier_key)

    @property
    def key_name_is_origin(self) -> bool:
        """Whether the log's key is named after its origin, as tlog-checkpoint
        recommends (``open_checkpoint`` checks it then)."""
        return self.verifier().name == self.origin

    def witness_verifiers(self) -> list[CosignatureVerifier]:
        return [w.verifier() for w in self.witnesses]

    def witness_policy(self) -> WitnessPolicy | None:
        """The K-of-N witness policy pinned with the log, or ``None`` when no
        witness is required (then ``sync`` and ``audit`` report no
        ``witnesses`` check, though every line by a pinned witness must
        still verify)."""
        return WitnessPolicy.of(self.witness_verifiers(), self.witnesses_required)

    def to_json(self) -> dict[str, object]:
        return {
            "format": TRUST_FORMAT,
            "origin": self.origin,
            "verifier_key": self.verifier_key,
            "witnesses": [{"name": w.name, "key": w.vkey} for w in self.witnesses],
            "witnesses_required": self.witnesses_required,
            "pool": self.pool,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], path: Path) -> PinnedLog:
        keys = {"format", "origin", "verifier_key", "witnesses", "witnesses_required"}
        # "pool" came later: a trust.json written before it reads as not a pool's.
        _exact_keys(obj, keys | ({"pool"} & set(obj)), path)
        if obj["format"] != TRUST_FORMAT:
            raise StateError(f"{path}: format {obj['format']!r}, expected {TRUST_FORMAT!r}")
        witnesses = []
        for item in _field(obj, "witnesses", list, path):
            if not isinstance(item, dict):
                raise StateError(f"{path}: corrupt state file: a witness is not an object")
            _exact_keys(item, {"name", "key"}, path)
            witnesses.append(
                PinnedWitness(_field(item, "name", str, path), _field(item, "key", str, path))
            )
        try:
            return cls(
                origin=_field(obj, "origin", str, path),
                verifier_key=_field(obj, "verifier_key", str, path),
                witnesses=tuple(witnesses),
                witnesses_required=_field(obj, "witnesses_required", int, path),
                pool=_field(obj, "pool", bool, path) if "pool" in obj else False,
            )
        except MutualogError as e:
            raise StateError(f"{path}: corrupt state file: {e}") from e


@dataclass(frozen=True)
class AuditProgress:
    """How far an interrupted audit got: the checkpoint it was checking, and
    the first ``position`` entries proven in that checkpoint's tree.

    ``position`` is a multiple of 256 (a level-0 tile boundary), so the
    ``compact_range`` (the hashes of the complete subtrees that make up the
    first ``position`` leaves, largest first) is made of hashes the audit read
    from authenticated tiles; ``chain_head`` is the leaf hash of entry
    ``position - 1``, which the next entry's ``prev`` must equal.  ``rules``
    says whether the log has a rulebook to replay.  It is kept with the
    pool's state (:mod:`client.audit_store`).
    """

    checkpoint: bytes
    position: int
    chain_head: bytes
    compact_range: tuple[bytes, ...]
    rules: bool


class StateDir:
    """The state folder.  Nothing is created until something is written."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def log_dir(self, origin: str) -> Path:
        return self.root / "logs" / safe_name(origin)

    # -- pins ----------------------------------------------------------------

    def load_pin(self, origin: str) -> PinnedLog | None:
        path = self.log_dir(origin) / "trust.json"
        obj = _read_json(path)
        if obj is None:
            return None
        pin = PinnedLog.from_json(obj, path)
        if pin.origin != origin:
            raise StateError(f"{path}: corrupt state file: it pins {pin.origin!r}, not {origin!r}")
        return pin

    def save_pin(self, pin: PinnedLog) -> None:
        _atomic_write(self.log_dir(pin.origin) / "trust.json", _json_bytes(pin.to_json()), 0o644)

    def pinned_origins(self) -> list[str]:
        """The origins of every pinned log, sorted."""
        folder = self.root / "logs"
        try:
            children = sorted(p for p in folder.iterdir() if (p / "trust.json").is_file())
        except FileNotFoundError:
            return []
        except OSError as e:
            raise StateError(f"{folder}: cannot list: {e.strerror or e}") from e
        origins = []
        for child in children:
            path = child / "trust.json"
            obj = _read_json(path)
            if obj is not None:
                origins.append(PinnedLog.from_json(obj, path).origin)
        return sorted(origins)

    # -- the last verified checkpoint ------------------------------------------

    def load_checkpoint(self, origin: str) -> bytes | None:
        return _read(self.log_dir(origin) / "checkpoint")

    def checkpoint_path(self, origin: str) -> Path:
        return self.log_dir(origin) / "checkpoint"

    def save_checkpoint(self, origin: str, note: bytes) -> None:
        _atomic_write(self.checkpoint_path(origin), note, 0o644)

    def forget_log(self, origin: str) -> None:
        """Drop what was verified under an old key: the checkpoint and any
        audit progress (evidence is kept)."""
        try:
            (self.log_dir(origin) / "checkpoint").unlink(missing_ok=True)
        except OSError as e:
            raise StateError(f"{self.log_dir(origin) / 'checkpoint'}: cannot remove: {e}") from e
        self.clear_progress(origin)

    # -- witness mode -------------------------------------------------------------

    def _witness_path(self, origin: str, key_name: str, key_id: int) -> Path:
        return self.log_dir(origin) / "witness" / f"{safe_name(key_name)}-{key_id:08x}.checkpoint"

    def load_cosigned(self, origin: str, key_name: str, key_id: int) -> bytes | None:
        """The last checkpoint of ``origin`` this witness key cosigned."""
        return _read(self._witness_path(origin, key_name, key_id))

    def save_cosigned(self, origin: str, key_name: str, key_id: int, note: bytes) -> None:
        _atomic_write(self._witness_path(origin, key_name, key_id), note, 0o644)

    def cosigned_path(self, origin: str, key_name: str, key_id: int) -> Path:
        return self._witness_path(origin, key_name, key_id)

    # -- audit progress -------------------------------------------------------------

    def audit_state_path(self, origin: str) -> Path:
        """Where an audit keeps the pool's state and where it stands, so an
        interrupted one resumes (:mod:`client.audit_store`)."""
        return self.log_dir(origin) / "audit-state.sqlite"

    def clear_progress(self, origin: str) -> None:
        """Forget an interrupted audit (and the files of earlier versions)."""
        folder = self.log_dir(origin)
        names = [f"audit-state.sqlite{s}" for s in ("", "-wal", "-shm", "-journal")]
        for name in (*names, "audit.json", "audit-entries.bin"):
            try:
                (folder / name).unlink(missing_ok=True)
            except OSError as e:
                raise StateError(f"{folder / name}: cannot remove: {e.strerror or e}") from e

    # -- evidence ---------------------------------------------------------------------

    def save_evidence(
        self,
        origin: str,
        kind: str,
        now: datetime,
        files: Mapping[str, bytes],
        description: Mapping[str, object],
    ) -> Path:
        """Keep ``files`` (the checkpoints involved) and ``description`` in a
        new folder ``evidence/<UTC time>-<kind>``; return the folder."""
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        base = self.log_dir(origin) / "evidence"
        folder = base / f"{stamp}-{safe_name(kind)}"
        n = 1
        while folder.exists():
            n += 1
            folder = base / f"{stamp}-{safe_name(kind)}-{n}"
        for name, data in files.items():
            _atomic_write(folder / safe_name(name), data, 0o644)
        _atomic_write(folder / "evidence.json", _json_bytes(dict(description)), 0o644)
        return folder
