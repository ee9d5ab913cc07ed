"""Refusing to start where a key file is gone but the database still needs it.

Both key files of the private store are made on first use
(:mod:`server.private.key_files`), which is right for a new instance and
wrong for an old one whose file was lost: a fresh data key would seal new
values under a key that cannot open the old ones (and restoring the backup
later would then strand the new ones), and a fresh identity key would hash
ID numbers that no stored hash matches, so one person could join twice.
So before a server or a command uses an instance, :func:`refuse_lost_keys`
looks for what each key protects — one sealed value, one keyed hash — and
refuses with a named error if the key file is missing.  It reads at most one
row per column: the check does not grow with the pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from sqlalchemy import Engine, LargeBinary, Table, func, inspect, literal, select
from sqlalchemy.exc import SQLAlchemyError

from server.models import MemberIdentityRow
from server.private.at_rest import SEALED_TABLES
from server.private.identity_key import IDENTITY_KEY_FILE, IdentityKeyError
from server.private.sealing import PRIVATE_KEY_FILE, SealingKeyError, sealed_header

__all__ = ["refuse_lost_data_key", "refuse_lost_keys"]

_identities = cast(Table, MemberIdentityRow.__table__)


def _holds_sealed(engine: Engine) -> bool:
    inspector = inspect(engine)
    present = set(inspector.get_table_names())
    with engine.connect() as conn:
        for spec in SEALED_TABLES:
            if spec.table.name not in present:
                continue
            # Only binary columns hold sealed values: before migration 0010
            # they were text, and PostgreSQL compares no text with bytes.
            binary = {
                c["name"]
                for c in inspector.get_columns(spec.table.name)
                if isinstance(c["type"], LargeBinary)
            }
            for name in spec.columns:
                if name not in binary:
                    continue
                column = spec.table.c[name]
                head = func.substr(column, 1, len(sealed_header()))
                found = conn.scalar(
                    select(literal(1)).where(head == literal(sealed_header())).limit(1)
                )
                if found is not None:
                    return True
    return False


def _holds_hashes(engine: Engine) -> bool:
    if _identities.name not in inspect(engine).get_table_names():
        return False
    with engine.connect() as conn:
        return conn.scalar(select(literal(1)).select_from(_identities).limit(1)) is not None


def refuse_lost_data_key(engine: Engine, instance: Path) -> None:
    """Raise :class:`SealingKeyError` if ``private-data.key`` is missing from
    ``instance`` while ``engine``'s private store holds a sealed value."""
    data_key = instance / PRIVATE_KEY_FILE
    if not data_key.exists() and _holds_sealed(engine):
        raise SealingKeyError(
            f"the data key {data_key} is missing, but the private store holds values "
            "sealed under it: restore the file from the backup of the instance's keys "
            "(docs/operations.md); a new key could not open them"
        )


def refuse_lost_keys(engine: Engine, instance: Path) -> None:
    """Raise if a key file of ``instance`` is missing while ``engine``'s
    database holds values only that key can read or match.

    :raises SealingKeyError: ``private-data.key`` is missing and a sealed
        value is stored.
    :raises IdentityKeyError: ``identity-hash.key`` is missing and a keyed
        hash is stored.

    A database that cannot be reached (not set up yet, or down) is not
    looked at: the server then answers 503 until it can be, and a command
    fails on it with its own error.
    """
    try:
        inspect(engine).get_table_names()
    except SQLAlchemyError:
        return
    refuse_lost_data_key(engine, instance)
    id_key = instance / IDENTITY_KEY_FILE
    if not id_key.exists() and _holds_hashes(engine):
        raise IdentityKeyError(
            f"the identity key {id_key} is missing, but the private store holds keyed "
            "hashes made with it: restore the file from the backup of the instance's keys, "
            "or hash the ID numbers again under a new key with 'mutualog-server private "
            "rehash-identities' (docs/operations.md); a new key alone would let a member "
            "join twice"
        )
