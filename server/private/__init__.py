"""The private store: what the pool must keep and must never log.

The log (:mod:`server.storage`) holds everything public.  This package holds
the rest, in the tables of migration 0002 (docs/security.md):

* :mod:`~server.private.accounts` — web sign-ins (username, argon2 hash, role,
  the member's pseudonymous id) and the login flow;
* :mod:`~server.private.passwords` — argon2id hashing, rehash on parameter change;
* :mod:`~server.private.throttle` — failed sign-ins counted in the database,
  so the limit holds across every worker and machine;
* :mod:`~server.private.members` — members' identities and the join hook;
* :mod:`~server.private.identity` — ID numbers, mobile numbers and the age band;
* :mod:`~server.private.identity_key` — the keyed hash of ID numbers and its key file;
* :mod:`~server.private.sealing` — names, ID numbers, phones and documents
  sealed at rest (AES-GCM) under the data key, a file of the instance folder;
  :mod:`~server.private.key_files` makes and reads both key files, and
  :mod:`~server.private.at_rest` seals old rows and seals again on rotation;
* :mod:`~server.private.evidence` — claim documents, their salts and commitments;
* :mod:`~server.private.votes` — sealed votes' openings until the reveal;
* :mod:`~server.private.erasure` — the record of what was erased and why;
* :mod:`~server.private.sessionkey` — secrets all processes share.

Every function takes the engine and, where time matters, ``now`` (an aware
``datetime``): no clock is read here.  Writes go through
:func:`private_transaction`.

**Private rows next to log entries.**  A log append is the sequencer's own
transaction, so a private row and the entry it belongs to cannot commit
together.  The order is always: write the private row first (its unique
keys refuse a duplicate join or a second vote), append, then record the
entry's seq on the row; if the append fails, delete the row again.  A crash
between the append and the last step leaves a row whose ``..._seq`` is NULL
although its entry is in the log; the log, being the truth, is what a
repair reads.
"""

from server.private._tx import PRIVATE_LOCK, private_transaction
from server.private.errors import PrivateStoreError

__all__ = ["PRIVATE_LOCK", "PrivateStoreError", "private_transaction"]
