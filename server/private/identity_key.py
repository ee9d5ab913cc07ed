"""The key of the identity hash, kept in the instance folder, and the hash.

One membership per person is enforced by the database: each active
member's ID number is stored a second time as a keyed hash
(HMAC-SHA256 of the ID number's normal form) under a unique constraint
(table ``member_identities``, migration 0008).  The hash is keyed so that
a copy of the database alone cannot be searched for a given ID number by
hashing the few hundred million possible ones; the key lives in a file of
the instance folder (``identity-hash.key``), apart from the database, so
a database dump or backup does not carry it.

The file is created on first use, mode 0600, by whichever process asks
first: written to a temporary name and linked into place, so that two
workers starting together both end up reading the one key that won.  It
holds the 32-byte key in hex on one line.  It is never replaced: a new key
would make every stored hash unmatchable, and a second membership of the
same person possible; losing it is repaired by computing the hashes again
from the stored ID numbers under a new key (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from server.private.key_files import instance_keys
from verifiable.errors import MutualogError

__all__ = [
    "IDENTITY_KEY_FILE",
    "IdentityKeyError",
    "identity_hash",
    "identity_key",
]

IDENTITY_KEY_FILE = "identity-hash.key"


class IdentityKeyError(MutualogError):
    """The identity hash's key file cannot be created, read or parsed."""


def identity_hash(key: bytes, id_number: str) -> bytes:
    """HMAC-SHA256 under ``key`` of an ID number in its normal form
    (:func:`server.private.identity.parse_id_number`)."""
    return hmac.new(key, id_number.encode("ascii"), hashlib.sha256).digest()


def identity_key(instance: Path) -> bytes:
    """The key in ``instance``/``identity-hash.key``, made if there is none."""
    keys = instance_keys(instance, IDENTITY_KEY_FILE, IdentityKeyError, "identity key")
    if len(keys) != 1:
        raise IdentityKeyError(
            f"identity key {instance / IDENTITY_KEY_FILE} holds more than one key"
        )
    return keys[0]
