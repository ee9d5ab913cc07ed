"""The private store (server.private) on both backends, and the
``create-operator`` command: accounts, passwords, the sign-in throttle,
members' details and the join hook, evidence, sealed votes, erasures and
the shared session key."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY
from click.testing import CliRunner
from sqlalchemy import Engine, select, text, update

from server.cli import main
from server.config import ConfigError
from server.db import current_revision, make_engine
from server.models import AccountRow, EvidenceRow, MemberDetailsRow, MemberIdentityRow
from server.private.accounts import Accounts, Role
from server.private.erasure import ErasureKind, erasures, set_erasure_seq
from server.private.errors import (
    AlreadyJoinedError,
    AlreadyVotedError,
    EvidenceError,
    InvalidInputError,
    LoginRefusedError,
    LoginThrottledError,
    UnknownAccountError,
    UnknownRecordError,
    UsernameTakenError,
)
from server.private.evidence import (
    DOMAIN,
    MAX_DOCUMENT_SIZE,
    Upload,
    discard_evidence,
    erase_evidence,
    evidence_commitment,
    evidence_content,
    list_evidence,
    store_evidence,
)
from server.private.members import (
    MemberDetails,
    erase_member_details,
    join_pool,
    member_details,
)
from server.private.passwords import DEFAULT_PARAMETERS, Passwords, StoredHashError
from server.private.sessionkey import SESSION_KEY, shared_secret
from server.private.throttle import Limit, RequestLimits
from server.private.votes import (
    PrivateVote,
    discard_sealed_vote,
    mark_revealed,
    private_vote,
    save_sealed_vote,
    set_sealed_seq,
    votes_to_reveal,
)
from verifiable.errors import MalformedError
from verifiable.log.bodies import Choice

if TYPE_CHECKING:
    from tests.clock import FixedClock

START = datetime(2026, 1, 1, tzinfo=UTC)  # the conftest clock's start
PASSWORD = "correct horse battery"
ADDRESS = "192.0.2.7"
PDF = b"%PDF-1.7\n" + b"x" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 50
CLAIM = "c1" * 16
JUROR = "a0" * 16


@pytest.fixture
def accounts(engine: Engine) -> Accounts:
    return Accounts(engine, Passwords(CHEAPEST), RequestLimits(engine))


def stored_hash(engine: Engine, account_id: int) -> str:
    with engine.connect() as conn:
        value = conn.scalar(select(AccountRow.password_hash).where(AccountRow.id == account_id))
    assert isinstance(value, str)
    return value


# --- accounts and passwords -----------------------------------------------------


def test_register_stores_an_argon2id_hash_never_the_password(
    accounts: Accounts, engine: Engine
) -> None:
    alice = accounts.register("Alice", PASSWORD, START)
    bob = accounts.register("bob", PASSWORD, START)
    assert (alice.username, alice.role, alice.member_id, alice.created) == (
        "alice",
        Role.MEMBER,
        None,
        START,
    )
    first, second = stored_hash(engine, alice.id), stored_hash(engine, bob.id)
    assert first.startswith("$argon2id$v=19$")
    assert first != second  # a fresh salt for each hash
    assert PASSWORD not in first
    with engine.connect() as conn:
        dump = repr(conn.execute(text("SELECT * FROM accounts")).all())
    assert PASSWORD not in dump
    assert accounts.get(alice.id) == alice
    assert accounts.by_username("ALICE") == alice
    assert accounts.get(10**6) is None


def test_usernames_are_unique_in_any_letter_case(accounts: Accounts) -> None:
    accounts.register("alice", PASSWORD, START)
    with pytest.raises(UsernameTakenError, match="'alice' is already taken"):
        accounts.register("ALICE", "another password", START)


@pytest.mark.parametrize(
    ("username", "password", "field", "message"),
    [
        ("ab", PASSWORD, "username", "3 to 32 characters, this one has 2"),
        ("a" * 33, PASSWORD, "username", "this one has 33"),
        ("<script>", PASSWORD, "username", "only letters a-z"),
        ("two words", PASSWORD, "username", "only letters a-z"),
        (".hidden", PASSWORD, "username", "start with a letter or digit"),
        ("名字名字", PASSWORD, "username", "only letters a-z"),
        ("alice", "short", "password", "at least 10 characters"),
        ("alice", "x" * 257, "password", "at most 256 characters"),
        ("alicealice", "AliceAlice", "password", "may not be the username"),
    ],
    ids=[
        "short-name",
        "long-name",
        "markup-name",
        "space-name",
        "dot-first",
        "non-ascii-name",
        "short-password",
        "long-password",
        "password-is-name",
    ],
)
def test_bad_usernames_and_passwords_are_refused(
    accounts: Accounts, username: str, password: str, field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)) as caught:
        accounts.register(username, password, START)
    assert caught.value.field == field
    assert accounts.by_username(username[:32]) is None


def test_authenticate(accounts: Accounts) -> None:
    alice = accounts.register("alice", PASSWORD, START)
    assert accounts.authenticate("Alice", PASSWORD, ADDRESS, START) == alice
    with pytest.raises(LoginRefusedError, match=r"^wrong username or password$"):
        accounts.authenticate("alice", PASSWORD + "!", ADDRESS, START)
    with pytest.raises(LoginRefusedError, match=r"^wrong username or password$"):
        accounts.authenticate("nobody", PASSWORD, ADDRESS, START)
    with pytest.raises(LoginRefusedError):
        accounts.authenticate("alice", "x" * 10_000, ADDRESS, START)


def test_a_hash_made_with_old_parameters_is_replaced_at_sign_in(engine: Engine) -> None:
    old = Accounts(engine, Passwords(CHEAPEST), RequestLimits(engine))
    alice = old.register("alice", PASSWORD, START)
    before = stored_hash(engine, alice.id)
    assert "m=8,t=1,p=1" in before
    stronger = replace(CHEAPEST, time_cost=2, memory_cost=16)
    new = Accounts(engine, Passwords(stronger), RequestLimits(engine))
    assert new.authenticate("alice", PASSWORD, ADDRESS, START) == alice
    after = stored_hash(engine, alice.id)
    assert "m=16,t=2,p=1" in after and after != before
    assert PasswordHasher.from_parameters(stronger).verify(after, PASSWORD)
    # Already current: left alone.
    new.authenticate("alice", PASSWORD, ADDRESS, START)
    assert stored_hash(engine, alice.id) == after


def test_default_parameters_are_rfc_9106_low_memory() -> None:
    assert DEFAULT_PARAMETERS == RFC_9106_LOW_MEMORY
    assert Passwords().parameters.memory_cost == 64 * 1024


def test_a_damaged_stored_hash_is_an_error_not_a_wrong_password(
    accounts: Accounts, engine: Engine
) -> None:
    alice = accounts.register("alice", PASSWORD, START)
    with engine.begin() as conn:
        conn.execute(
            update(AccountRow).where(AccountRow.id == alice.id).values(password_hash="plain")
        )
    with pytest.raises(StoredHashError, match="not an argon2 hash"):
        accounts.authenticate("alice", PASSWORD, ADDRESS, START)


def test_set_password(accounts: Accounts) -> None:
    alice = accounts.register("alice", PASSWORD, START)
    accounts.set_password(alice.id, "a new passphrase")
    assert accounts.authenticate("alice", "a new passphrase", ADDRESS, START) == alice
    with pytest.raises(InvalidInputError, match="at least 10"):
        accounts.set_password(alice.id, "short")
    with pytest.raises(UnknownAccountError, match="no account with id 999"):
        accounts.set_password(999, "a new passphrase")


# --- the sign-in throttle --------------------------------------------------------


def test_five_failures_lock_the_username_from_that_address(
    accounts: Accounts, clock: FixedClock
) -> None:
    accounts.register("alice", PASSWORD, clock())
    for n in range(5):
        clock.advance(seconds=60)
        with pytest.raises(LoginRefusedError):
            accounts.authenticate("alice", f"wrong {n:04d} guess", ADDRESS, clock())
    first_failure = START + timedelta(seconds=60)
    # Even the right password is refused now, and says how long to wait.
    with pytest.raises(LoginThrottledError, match="try again in 11 minutes") as caught:
        accounts.authenticate("alice", PASSWORD, ADDRESS, clock())
    assert caught.value.retry_after == (first_failure + timedelta(minutes=15) - clock()).seconds
    # Another address is not locked out, and case does not dodge the limit.
    assert accounts.authenticate("alice", PASSWORD, "198.51.100.1", clock()).username == "alice"
    with pytest.raises(LoginThrottledError):
        accounts.authenticate("ALICE", PASSWORD, ADDRESS, clock())
    # Once the first failure leaves the 15-minute window, one more try fits.
    clock.now = first_failure + timedelta(minutes=15)
    assert accounts.authenticate("alice", PASSWORD, ADDRESS, clock()).username == "alice"


def test_a_success_resets_the_count(accounts: Accounts, clock: FixedClock) -> None:
    accounts.register("alice", PASSWORD, clock())
    throttle = accounts.limits
    for _ in range(4):
        with pytest.raises(LoginRefusedError):
            accounts.authenticate("alice", "wrong password", ADDRESS, clock())
    assert throttle.failures("alice", ADDRESS, clock()) == 4
    accounts.authenticate("alice", PASSWORD, ADDRESS, clock())
    assert throttle.failures("alice", ADDRESS, clock()) == 0
    for _ in range(4):
        with pytest.raises(LoginRefusedError):
            accounts.authenticate("alice", "wrong password", ADDRESS, clock())


def test_unknown_usernames_are_throttled_too(accounts: Accounts, clock: FixedClock) -> None:
    hostile = "x" * 5000
    for _ in range(5):
        with pytest.raises(LoginRefusedError):
            accounts.authenticate(hostile, "guess guess", ADDRESS, clock())
    with pytest.raises(LoginThrottledError, match="15 minutes"):
        accounts.authenticate(hostile, "guess guess", ADDRESS, clock())


def test_the_count_is_shared_by_every_process(database_url: str, engine: Engine) -> None:
    # Two services on two engines stand for two workers on two machines.
    other = make_engine(database_url)
    try:
        one = Accounts(engine, Passwords(CHEAPEST), RequestLimits(engine))
        two = Accounts(other, Passwords(CHEAPEST), RequestLimits(other))
        one.register("alice", PASSWORD, START)
        for service in (one, two, one, two, one):
            with pytest.raises(LoginRefusedError):
                service.authenticate("alice", "wrong password", ADDRESS, START)
        with pytest.raises(LoginThrottledError):
            two.authenticate("alice", PASSWORD, ADDRESS, START)
    finally:
        other.dispose()


def test_old_attempts_are_pruned(accounts: Accounts, engine: Engine, clock: FixedClock) -> None:
    for n in range(3):
        with pytest.raises(LoginRefusedError):
            accounts.authenticate(f"user{n}", "guess guess", ADDRESS, clock())
    clock.advance(minutes=16)
    with pytest.raises(LoginRefusedError):
        accounts.authenticate("someone", "guess guess", ADDRESS, clock())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM request_attempts")).scalars().all() == [
            "someone"
        ]


@pytest.mark.parametrize(
    ("most", "window"),
    [(0, timedelta(minutes=1)), (5, timedelta(0))],
    ids=["no-attempts", "no-window"],
)
def test_a_limit_needs_attempts_and_a_window(most: int, window: timedelta) -> None:
    with pytest.raises(ConfigError, match="request limit"):
        Limit(most, window)


# --- members ------------------------------------------------------------------------


DETAILS = MemberDetails.parse(
    "  Li Hua 李华 ", "11010519730520101x", "+86 138-0013-8000", START.date()
)
OTHER = MemberDetails.parse("Wang Fang", "110105199001010029", "13900139000", START.date())
KEY = bytes(range(32))


def _join(
    engine: Engine, account: int, details: MemberDetails, append: Callable[[str], int]
) -> str:
    return join_pool(engine, account, details, append, START, KEY, lambda member_id: False)


def test_join_pool_stores_details_off_the_log_and_links_the_account(
    accounts: Accounts, engine: Engine
) -> None:
    alice = accounts.register("alice", PASSWORD, START)
    appended: list[str] = []

    def append_joined(member_id: str) -> int:
        appended.append(member_id)
        return 41

    member_id = _join(engine, alice.id, DETAILS, append_joined)
    assert re.fullmatch(r"[0-9a-f]{32}", member_id)
    assert appended == [member_id]
    assert DETAILS.name == "Li Hua 李华"
    assert (DETAILS.id_number, DETAILS.phone) == ("11010519730520101X", "13800138000")
    assert member_details(engine, member_id) == DETAILS
    linked = accounts.get(alice.id)
    assert linked is not None and linked.member_id == member_id
    assert accounts.by_member(member_id) == linked
    with engine.connect() as conn:
        assert conn.scalar(select(MemberDetailsRow.joined_seq)) == 41
    with pytest.raises(AlreadyJoinedError, match="already joined"):
        _join(engine, alice.id, OTHER, append_joined)
    assert len(appended) == 1
    # Every join draws a fresh, unrelated id.
    bob = accounts.register("bob", PASSWORD, START)
    assert _join(engine, bob.id, OTHER, append_joined) != member_id


def test_a_refused_append_leaves_nothing_and_the_join_can_be_retried(
    accounts: Accounts, engine: Engine
) -> None:
    alice = accounts.register("alice", PASSWORD, START)

    def refuse(member_id: str) -> int:
        raise MalformedError("the rulebook refuses")

    with pytest.raises(MalformedError, match="the rulebook refuses"):
        _join(engine, alice.id, DETAILS, refuse)
    with engine.connect() as conn:
        assert conn.execute(select(MemberDetailsRow.member_id)).all() == []
        assert conn.execute(select(MemberIdentityRow.member_id)).all() == []
    assert (accounts.get(alice.id) or alice).member_id is None
    assert _join(engine, alice.id, DETAILS, lambda member_id: 0)


def test_join_pool_needs_an_account(engine: Engine) -> None:
    with pytest.raises(UnknownAccountError, match="no account with id 77"):
        _join(engine, 77, DETAILS, lambda member_id: 0)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (("", "110105199001010029", "13900139000"), "name", "1 to 200"),
        (("x" * 201, "110105199001010029", "13900139000"), "name", "1 to 200"),
        (("Li\x00Hua", "110105199001010029", "13900139000"), "name", "control characters"),
        (("Li", "<b>12</b>", "13900139000"), "id_number", "18 characters"),
        (("Li", "110105199001010029", "call me"), "phone", "11 digits"),
    ],
    ids=["empty-name", "long-name", "control", "markup-id", "words-phone"],
)
def test_bad_member_details_are_refused(
    fields: tuple[str, str, str], field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)) as caught:
        MemberDetails.parse(*fields, START.date())
    assert caught.value.field == field


def test_erasing_a_members_details(accounts: Accounts, engine: Engine) -> None:
    alice = accounts.register("alice", PASSWORD, START)
    member_id = _join(engine, alice.id, DETAILS, lambda member_id: 3)
    with pytest.raises(InvalidInputError, match="needs a reason"):
        erase_member_details(engine, member_id, "  ", alice.id, START)
    erasure = erase_member_details(engine, member_id, "member asked", alice.id, START)
    assert (erasure.kind, erasure.subject, erasure.log_seq) == (ErasureKind.MEMBER, member_id, None)
    assert member_details(engine, member_id) is None
    with engine.connect() as conn:
        dump = repr(conn.execute(text("SELECT * FROM member_details")).all())
    assert "Li Hua" not in dump
    with engine.connect() as conn:
        assert conn.execute(select(MemberIdentityRow.member_id)).all() == []
    # The account keeps its member id: the log still knows the member.
    assert (accounts.get(alice.id) or alice).member_id == member_id
    set_erasure_seq(engine, erasure.id, 99)
    assert [e.log_seq for e in erasures(engine, member_id)] == [99]
    with pytest.raises(UnknownRecordError, match="no private details"):
        erase_member_details(engine, member_id, "again", None, START)
    with pytest.raises(UnknownRecordError, match="no erasure with id 12345"):
        set_erasure_seq(engine, 12345, 1)


# --- evidence -------------------------------------------------------------------------


def test_evidence_commitments_open_with_the_stored_salt(engine: Engine) -> None:
    commitments = store_evidence(
        engine,
        CLAIM,
        [Upload(PDF, "application/pdf", "scan.pdf"), Upload(PNG, "image/png; x=y")],
        START,
    )
    documents = list_evidence(engine, CLAIM)
    assert [d.position for d in documents] == [0, 1]
    assert [d.commitment for d in documents] == commitments
    assert [d.content_type for d in documents] == ["application/pdf", "image/png"]
    for position, content in enumerate((PDF, PNG)):
        stored = evidence_content(engine, CLAIM, position)
        assert stored is not None and stored.content == content
        expected = hashlib.sha256(DOMAIN + stored.salt + content).digest()
        assert commitments[position] == expected == evidence_commitment(stored.salt, content)
    # The bare hash of a document is not its commitment: it cannot be guessed.
    assert hashlib.sha256(PDF).digest() not in commitments
    assert evidence_content(engine, CLAIM, 7) is None
    more = store_evidence(engine, CLAIM, [Upload(PDF, "application/pdf")], START)
    assert [d.position for d in list_evidence(engine, CLAIM)] == [0, 1, 2]
    assert more[0] not in commitments  # same bytes, new salt


@pytest.mark.parametrize(
    ("uploads", "message"),
    [
        ([], "at least one"),
        ([Upload(PDF, "text/html")], "type 'text/html' is not accepted"),
        ([Upload(b"", "application/pdf")], "document 1: the file is empty"),
        ([Upload(PNG, "application/pdf")], "not a application/pdf file"),
        ([Upload(PDF, "application/pdf"), Upload(PDF, "image/jpeg")], "document 2"),
        ([Upload(b"%PDF-" + bytes(MAX_DOCUMENT_SIZE), "application/pdf")], "MiB allowed"),
        ([Upload(PDF, "application/pdf", "n" * 256)], "file name is longer"),
        ([Upload(PDF, "application/pdf")] * 33, "at most 32 documents"),
    ],
    ids=["none", "html", "empty", "wrong-magic", "second-bad", "too-large", "name", "too-many"],
)
def test_bad_evidence_is_refused_and_nothing_is_stored(
    engine: Engine, uploads: list[Upload], message: str
) -> None:
    with pytest.raises(EvidenceError, match=re.escape(message)) as caught:
        store_evidence(engine, CLAIM, uploads, START)
    assert caught.value.field == "evidence"
    assert list_evidence(engine, CLAIM) == []


def test_erasing_evidence_keeps_only_the_commitments(engine: Engine) -> None:
    commitments = store_evidence(engine, CLAIM, [Upload(PDF, "application/pdf", "x.pdf")], START)
    erasure = erase_evidence(engine, CLAIM, "claimant asked", None, START)
    assert (erasure.kind, erasure.detail) == (ErasureKind.EVIDENCE, "1 evidence document")
    assert evidence_content(engine, CLAIM, 0) is None
    [document] = list_evidence(engine, CLAIM)
    assert document.commitment == commitments[0]
    assert (document.erased, document.filename) == (START, None)
    with engine.connect() as conn:
        row = conn.execute(select(EvidenceRow.content, EvidenceRow.salt)).one()
    assert tuple(row) == (None, None)
    with pytest.raises(UnknownRecordError, match="no evidence left"):
        erase_evidence(engine, CLAIM, "again", None, START)


def test_discarding_the_evidence_of_a_claim_never_logged(engine: Engine) -> None:
    store_evidence(engine, CLAIM, [Upload(PDF, "application/pdf")], START)
    discard_evidence(engine, CLAIM)
    assert list_evidence(engine, CLAIM) == []
    assert erasures(engine) == []


def test_a_salt_must_be_32_bytes() -> None:
    with pytest.raises(EvidenceError, match="expected 32 bytes, got 3"):
        evidence_commitment(b"abc", PDF)


# --- sealed votes ---------------------------------------------------------------------


def test_sealed_votes_until_the_reveal(engine: Engine) -> None:
    vote = PrivateVote(CLAIM, 1, JUROR, Choice.APPROVE, "documents are in order", bytes(32))
    save_sealed_vote(engine, vote, START)
    with pytest.raises(AlreadyVotedError, match="already voted"):
        save_sealed_vote(engine, replace(vote, choice=Choice.REJECT), START)
    # Not yet in the log: nothing to reveal.
    assert votes_to_reveal(engine, CLAIM, 1) == []
    set_sealed_seq(engine, CLAIM, 1, JUROR, 10)
    [pending] = votes_to_reveal(engine, CLAIM, 1)
    assert (pending.choice, pending.salt, pending.sealed_seq) == (Choice.APPROVE, bytes(32), 10)
    # A sealed vote is not discarded by a late undo.
    discard_sealed_vote(engine, CLAIM, 1, JUROR)
    mark_revealed(engine, CLAIM, 1, {JUROR: 20})
    assert votes_to_reveal(engine, CLAIM, 1) == []
    stored = private_vote(engine, CLAIM, 1, JUROR)
    assert stored is not None and stored.revealed_seq == 20
    # Another round is another vote.
    save_sealed_vote(engine, replace(vote, round=2), START)
    with pytest.raises(UnknownRecordError, match="no sealed vote"):
        set_sealed_seq(engine, CLAIM, 3, JUROR, 1)
    with pytest.raises(MalformedError, match="expected 32 bytes"):
        save_sealed_vote(engine, replace(vote, salt=b"x"), START)


def test_an_unsealed_vote_can_be_discarded_and_cast_again(engine: Engine) -> None:
    vote = PrivateVote(CLAIM, 1, JUROR, Choice.REJECT, "", bytes(32))
    save_sealed_vote(engine, vote, START)
    discard_sealed_vote(engine, CLAIM, 1, JUROR)
    assert private_vote(engine, CLAIM, 1, JUROR) is None
    save_sealed_vote(engine, vote, START)


# --- shared secrets -------------------------------------------------------------------


def test_the_session_key_is_made_once_and_shared(database_url: str, engine: Engine) -> None:
    other = make_engine(database_url)
    try:
        key = shared_secret(engine, SESSION_KEY, START)
        assert len(key) == 32
        assert shared_secret(other, SESSION_KEY, START) == key
        assert shared_secret(engine, "another", START) != key
    finally:
        other.dispose()


# --- mutualog-server create-operator ---------------------------------------------------


class OperatorCli:
    """Runs ``main`` with standard input and prompts fed by click's runner."""

    def __init__(self, instance: Path, url: str) -> None:
        self.instance = instance
        self.url = url
        self.out = self.err = ""

    def __call__(self, *args: str, stdin: str = "") -> int:
        runner = CliRunner()
        with runner.isolation(input=stdin) as (out, err, _mixed):
            code = main(["--instance", str(self.instance), "--database-url", self.url, *args])
        self.out = out.getvalue().decode()
        self.err = err.getvalue().decode()
        assert "Traceback" not in self.out + self.err
        return code

    def accounts(self) -> Iterator[Accounts]:
        engine = make_engine(self.url)
        try:
            yield Accounts(engine, Passwords(CHEAPEST), RequestLimits(engine))
        finally:
            engine.dispose()


@pytest.fixture
def operator_cli(tmp_path: Path, database_url: str) -> OperatorCli:
    # Unmigrated on purpose: the command migrates a database it is given.
    return OperatorCli(tmp_path / "instance", database_url)


def test_create_operator_prompts_twice(operator_cli: OperatorCli) -> None:
    assert operator_cli("create-operator", "Root", stdin=f"{PASSWORD}\n{PASSWORD}\n") == 0
    assert "created operator account 'root'" in operator_cli.out
    assert PASSWORD not in operator_cli.out + operator_cli.err
    for accounts in operator_cli.accounts():
        account = accounts.authenticate("root", PASSWORD, ADDRESS, START)
        assert account.role is Role.OPERATOR and account.member_id is None


def test_create_operator_reads_a_password_from_stdin(operator_cli: OperatorCli) -> None:
    assert operator_cli("create-operator", "ops", "--password-stdin", stdin=PASSWORD + "\r\n") == 0
    for accounts in operator_cli.accounts():
        assert accounts.authenticate("ops", PASSWORD, ADDRESS, START).role is Role.OPERATOR


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("root",), f"{PASSWORD}\n{PASSWORD}x\n", "the two passwords differ"),
        (("root",), "\n\n", "the password is empty"),
        (("root", "--password-stdin"), "", "the password is empty"),
        (("root", "--password-stdin"), "short\n", "at least 10 characters"),
        (("<b>", "--password-stdin"), PASSWORD, "may use only letters"),
        (("",), f"{PASSWORD}\n{PASSWORD}\n", "3 to 32 characters"),
    ],
    ids=["mismatch", "empty-prompt", "empty-stdin", "short", "markup-name", "empty-name"],
)
def test_create_operator_refuses_bad_input(
    operator_cli: OperatorCli, args: tuple[str, ...], stdin: str, message: str
) -> None:
    assert operator_cli("create-operator", *args, stdin=stdin) == 2
    assert message in operator_cli.err
    assert PASSWORD not in operator_cli.out + operator_cli.err
    # Refused before anything was touched: no instance folder, no schema.
    assert not operator_cli.instance.exists()
    engine = make_engine(operator_cli.url)
    try:
        assert current_revision(engine) is None
    finally:
        engine.dispose()


def test_create_operator_refuses_a_duplicate(operator_cli: OperatorCli) -> None:
    assert operator_cli("create-operator", "root", "--password-stdin", stdin=PASSWORD) == 0
    assert operator_cli("create-operator", "ROOT", "--password-stdin", stdin="other password") == 2
    assert "'root' is already taken" in operator_cli.err
    for accounts in operator_cli.accounts():
        assert accounts.authenticate("root", PASSWORD, ADDRESS, START).role is Role.OPERATOR


def test_create_operator_without_a_username_is_a_usage_error(operator_cli: OperatorCli) -> None:
    assert operator_cli("create-operator", stdin="") == 2
    assert "Missing argument 'USERNAME'" in operator_cli.err
