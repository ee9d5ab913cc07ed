"""The log's tables (SQLAlchemy 2.0 declarative models).

The schema itself is created and changed only by the Alembic migrations in
``server/migrations``; these models are what the code queries, and a test
checks that they and the migrations agree.  docs/storage.md explains the
shape:

* ``entries``: one row per log entry, ``seq`` its index, ``data`` its exact
  bytes, ``leaf_hash`` its RFC 9162 leaf hash (also the level-0 subtree
  hash, so it is stored once, here).
* ``subtree_hashes``: the hash of every complete subtree at level 1 and above,
  keyed by ``(level, idx)`` as :class:`verifiable.log.merkle.Subtree` names it.
* ``checkpoints``: every signed checkpoint note the sequencer produced, by
  tree size; the largest is the log's current state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AccountRow",
    "Base",
    "CheckpointRow",
    "DemoClockRow",
    "EntryRow",
    "ErasureRow",
    "EvidenceRow",
    "HashLeaseRow",
    "MemberDetailsRow",
    "MemberIdentityRow",
    "MemberNoticesRow",
    "PasswordResetRow",
    "RedactedCopyRow",
    "RequestAttemptRow",
    "SealedVoteRow",
    "ServerSecretRow",
    "StateCountRow",
    "StateHeadRow",
    "StateRecordRow",
    "SubmissionRow",
    "SubtreeHashRow",
    "UTCDateTime",
    "WebSessionRow",
]

# SQLite makes a single INTEGER primary key the table's rowid: no second
# index, rows stored in key order.  Spelled BIGINT it would not be.
_BIG_KEY = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class EntryRow(Base):
    __tablename__ = "entries"

    seq: Mapped[int] = mapped_column(_BIG_KEY, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, index=True)

    __table_args__ = (CheckConstraint("seq >= 0", name="entries_seq_nonnegative"),)


class SubtreeHashRow(Base):
    __tablename__ = "subtree_hashes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)

    __table_args__ = (
        CheckConstraint("level >= 1 AND level <= 63", name="subtree_hashes_level_range"),
        CheckConstraint("idx >= 0", name="subtree_hashes_idx_nonnegative"),
        # Clustered on (level, idx): a tile is one contiguous range, a proof a
        # few point lookups, and no rowid index to maintain beside the key.
        {"sqlite_with_rowid": False},
    )


class CheckpointRow(Base):
    __tablename__ = "checkpoints"

    size: Mapped[int] = mapped_column(_BIG_KEY, primary_key=True, autoincrement=False)
    note: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    __table_args__ = (CheckConstraint("size >= 0", name="checkpoints_size_nonnegative"),)


# =============================================================================
# The private store: what must never enter the log.
#
# Added with migration 0002.  Everything public about the pool is in the log;
# these tables hold the accounts that sign in to the web pages, members'
# identities, claim evidence, sealed votes before their reveal, login
# attempts (for rate limiting shared by every process) and the record of
# each erasure.  docs/security.md says what is private and why.
# =============================================================================


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC ``datetime`` in, the same out, on both backends.

    SQLite has no time zone type and would hand back naive values; storing
    naive UTC everywhere keeps comparisons (the login window) identical on
    SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given for a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class AccountRow(Base):
    """A web sign-in: a member's or an operator's.  ``member_id`` is the
    member's pseudonymous log id, set once the ``member.joined`` entry is in
    the log; an operator has none."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    member_id: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint("role IN ('member', 'operator')", name="accounts_role_known"),
    )


class MemberDetailsRow(Base):
    """A member's identity, kept off the log.  ``joined_seq`` is the seq of
    the ``member.joined`` entry once appended; a row without it is a join in
    progress (or one whose append failed and is being undone)."""

    __tablename__ = "member_details"

    member_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("accounts.id"), nullable=True, unique=True
    )
    # Sealed (server.private.sealing, migration 0010): AES-GCM under the
    # instance's data key, bound to this row's member_id.
    name: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    id_number: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    phone: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    joined_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class MemberIdentityRow(Base):
    """One row per active member (or join in progress): the keyed hash of
    the member's ID number (:mod:`server.private.identity_key`), whose
    primary key lets one person hold one membership at a time.  Deleted
    when the member leaves or is erased, so a person who left may join
    again; never logged."""

    __tablename__ = "member_identities"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("member_details.member_id"), nullable=False, unique=True
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class EvidenceRow(Base):
    """One evidence document of a claim.  The log holds ``commitment``; the
    bytes and the salt that open it stay here until erased (then both are
    NULL and ``erased`` says when)."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(32), nullable=False)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    commitment: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    # content and filename sealed (server.private.sealing, migration 0010),
    # bound to this row's commitment.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    filename: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    erased: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("claim_id", "position", name="evidence_claim_position"),
        CheckConstraint("position >= 0", name="evidence_position_nonnegative"),
        CheckConstraint("size >= 0", name="evidence_size_nonnegative"),
    )


class RedactedCopyRow(Base):
    """The redacted copy of evidence document ``position`` of a claim: the
    page images its panel is shown, framed as ``verifiable.pool.redacted``
    frames them, and the salt of the commitment ``claim.noticed`` carries.
    Erased with the claim's evidence (both NULL, ``erased`` says when)."""

    __tablename__ = "redacted_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(32), nullable=False)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    commitment: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    pages: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    page_count: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    erased: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("claim_id", "position", name="redacted_claim_position"),
        CheckConstraint("position >= 0", name="redacted_position_nonnegative"),
        CheckConstraint("page_count >= 1", name="redacted_page_count_positive"),
    )


class SealedVoteRow(Base):
    """A juror's vote between its ``vote.sealed`` entry and its reveal: the
    choice, reason and salt that open the commitment.  The primary key is
    what makes a second vote by the same juror in the same round impossible."""

    __tablename__ = "sealed_votes"

    claim_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    juror: Mapped[str] = mapped_column(String(32), primary_key=True)
    choice: Mapped[str] = mapped_column(String(8), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    sealed_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revealed_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint("choice IN ('approve', 'reject')", name="sealed_votes_choice_known"),
        CheckConstraint("round >= 1", name="sealed_votes_round_positive"),
    )


class ErasureRow(Base):
    """That private data was erased: what, why, by whom, when, and the seq
    of the log entry that made it public (NULL until that is appended)."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    subject: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    requested_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("accounts.id"), nullable=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    log_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        CheckConstraint("kind IN ('member', 'evidence')", name="erasures_kind_known"),
    )


class ServerSecretRow(Base):
    """Secrets every process of one deployment must share (the session
    signing key when none is configured)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class DemoClockRow(Base):
    """A demo instance's clock (migration 0003): how many seconds the pool's
    time is ahead of (or behind) the machine's.  One row (id 1) in a demo,
    none anywhere else; :mod:`server.demo_clock` reads and moves it."""

    __tablename__ = "demo_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    offset_seconds: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (CheckConstraint("id = 1", name="demo_clock_one_row"),)


class MemberNoticesRow(Base):
    """A member's notices (migration 0004, :mod:`server.notifications`):
    the optional e-mail address they are sent to, in which language, and
    how far the member has read them and the server has mailed them — both
    the seq of the newest log entry covered, -1 for none.  Private: never
    on the log."""

    __tablename__ = "member_notices"

    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("accounts.id"), primary_key=True, autoincrement=False
    )
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    locale: Mapped[str] = mapped_column(String(8), nullable=False)
    read_through: Mapped[int] = mapped_column(BigInteger, nullable=False)
    mailed_through: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


# --- migration 0005: accounts hardening (sessions, resets, request limits) ---


class RequestAttemptRow(Base):
    """An attempt at a limited action (``signin``, ``register``, ``reset``)
    by an address, for a username ('' when none): the rows every limit of
    :mod:`server.private.throttle` counts, shared by every process.  A
    sign-in's row is deleted when its password was right, so for sign-ins
    they count failures (and attempts still being checked)."""

    __tablename__ = "request_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint(
            "action IN ('signin', 'register', 'reset')", name="request_attempts_action_known"
        ),
        Index("ix_request_attempts_address", "action", "address", "at"),
        Index("ix_request_attempts_username", "action", "username", "at"),
        Index("ix_request_attempts_at", "action", "at"),
    )


class HashLeaseRow(Base):
    """A password hash in progress somewhere in the deployment: one row per
    hash, at most ``MUTUALOG_HASH_SLOTS`` of them, each until it is given
    back or ``expires`` (a worker killed mid-hash frees its slot then)."""

    __tablename__ = "hash_leases"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class WebSessionRow(Base):
    """A signed-in session, known to the server: the SHA-256 of the random
    id its cookie carries (never the id itself), whose it is, and whether
    it was revoked (at sign-out, or by a password change or reset)."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PasswordResetRow(Base):
    """A one-time password reset the operator issued for an account: the
    SHA-256 of its code (never the code), when it expires, and when it was
    used (once at most)."""

    __tablename__ = "password_resets"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# --- migration 0006: one-time submission tokens ---


class SubmissionRow(Base):
    """A form's one-time submission token, used (migration 0006,
    :mod:`server.private.submissions`): written in the transaction that
    appends what the form asked for, so a form sent twice appends once and
    the second answer is the first's — ``kind`` (claim, objection, vote),
    the member who sent it, the claim it concerns and the seq of the entry
    appended.  Private: never on the log."""

    __tablename__ = "submissions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    submitter: Mapped[str] = mapped_column(String(32), nullable=False)
    claim_id: Mapped[str] = mapped_column(String(32), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint("kind IN ('claim', 'objection', 'vote')", name="submissions_kind_known"),
    )


# --- migration 0007: witnesses and their cosignatures ---


class WitnessRow(Base):
    """A witness the log submits its checkpoints to (:mod:`server.witnessing`):
    its name (the name of its key), its C2SP tlog-witness submission URL
    and verifier key, the tree size it last said it holds (from a 200 or
    a 409; ``None`` before the first answer) and how the last attempt went."""

    __tablename__ = "witnesses"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    vkey: Mapped[str] = mapped_column(Text, nullable=False)
    added: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    known_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_attempt: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class CosignatureRow(Base):
    """One verified C2SP tlog-cosignature line for the checkpoint of ``size``.
    Kept when its witness is removed: a cosignature once gathered is never lost."""

    __tablename__ = "cosignatures"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(255), primary_key=True)
    key_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    timestamp: Mapped[int] = mapped_column(BigInteger, nullable=False)
    line: Mapped[str] = mapped_column(Text, nullable=False)
    gathered: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint("size >= 1", name="cosignatures_size_positive"),
        Index("cosignatures_witness_size", "witness", "size"),
    )


class WitnessPolicyRow(Base):
    """How many of the configured witnesses must cosign a checkpoint before
    ``/checkpoint`` serves it.  One row (id 1), or none: 0 required."""

    __tablename__ = "witness_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    required: Mapped[int] = mapped_column(Integer, nullable=False)
    updated: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint("id = 1", name="witness_policy_one_row"),
        CheckConstraint("required >= 0", name="witness_policy_required_nonnegative"),
    )


class WitnessLeaseRow(Base):
    """The submitter's lease: which process talks to the witnesses until when."""

    __tablename__ = "witness_lease"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str] = mapped_column(String(128), nullable=False)
    expires: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (CheckConstraint("id = 1", name="witness_lease_one_row"),)


# --- migration 0011: consents ---


class ConsentRow(Base):
    """A consent an account gave, as PIPL asks it recorded
    (:mod:`server.private.consents`): the separate consent to process
    medical information before a claim is filed (Art. 29), a guardian's
    consent before a child under 14 joins (Art. 31).  ``wording`` is the
    exact sentence the person ticked, in ``lang``; ``claim_id`` the claim
    filed under it, once filed.  Private: never on the log."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    wording: Mapped[str] = mapped_column(String(1000), nullable=False)
    lang: Mapped[str] = mapped_column(String(16), nullable=False)
    given: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    claim_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (
        CheckConstraint("kind IN ('medical', 'guardian')", name="consents_kind_known"),
    )


class StateRecordRow(Base):
    """One record of the pool's state (:mod:`server.pool.state_store`): its
    kind, its key (UTF-8 bytes, so that every database orders keys as
    Python does) and its bytes (:mod:`verifiable.pool.store_codecs`)."""

    __tablename__ = "state_records"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class StateCountRow(Base):
    """How many records of a kind the state holds."""

    __tablename__ = "state_counts"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)


class StateHeadRow(Base):
    """The log the stored state reflects — its size, last leaf hash and
    compact range — and the state's small part
    (:func:`verifiable.pool.state_head.head_bytes`).  One row (id 1), or none:
    no state stored yet."""

    __tablename__ = "state_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    compact_range: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    head: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    __table_args__ = (CheckConstraint("id = 1", name="state_head_one_row"),)
