"""Database engines, write transactions and schema migrations.

Two backends run the same SQLAlchemy code:

* **SQLite** (the embedded default): WAL journal so readers never block the
  writer, ``synchronous=FULL`` so a commit the sequencer acknowledged survives
  a power cut, a busy timeout so writers queue instead of failing, and foreign
  keys on.  Python's ``sqlite3`` opens transactions lazily and only before
  DML, which breaks SQLite's own locking; the driver is put in autocommit mode
  and SQLAlchemy's ``begin`` event emits ``BEGIN`` itself — ``BEGIN IMMEDIATE``
  for writes, so a writer takes the database's write lock before it reads the
  head it will extend.
* **PostgreSQL** (production), through psycopg 3 (``postgresql+psycopg://``).
  Writers serialize on a transaction-scoped advisory lock.

:func:`write_transaction` is the one way to write; :func:`upgrade` brings the
schema to the newest Alembic revision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from verifiable.errors import MutualogError

__all__ = [
    "MIGRATION_LOCK",
    "SEALER_OPTION",
    "SEQUENCER_LOCK",
    "DatabaseURLError",
    "current_revision",
    "is_sqlite",
    "make_engine",
    "raw_read_connection",
    "read_connection",
    "upgrade",
    "write_transaction",
]

#: pg_advisory_xact_lock keys: arbitrary 64-bit constants, distinct so that
#: a migration and an append never wait on each other's key by accident.
SEQUENCER_LOCK = 0x6D75_7475_616C_6F67  # "mutualog"
MIGRATION_LOCK = 0x6D75_7475_616D_6967  # "mutuamig"

#: How long a writer waits for another writer's lock before SQLite gives up.
SQLITE_BUSY_TIMEOUT_S = 60.0
#: Page cache per SQLite connection (negative: KiB, SQLite's convention).
SQLITE_CACHE_KIB = -32768
#: WAL pages (4 KiB each) written before SQLite copies them into the database.
SQLITE_CHECKPOINT_PAGES = 10_000

#: The engine's execution option that carries the private store's sealer.
SEALER_OPTION = "mutualog_sealer"

_BEGIN_OPTION = "mutualog_sqlite_begin"
_NO_BEGIN = "none"
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseURLError(MutualogError):
    """A database URL that is not SQLite or PostgreSQL, or cannot be parsed."""


def _normalize_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        # The URL may hold a password: say what is wrong, not what it was.
        raise DatabaseURLError("database URL cannot be parsed") from e
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        # psycopg 3 is the driver we install; a bare postgresql:// would make
        # SQLAlchemy look for psycopg2.
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise DatabaseURLError(
        f"database URL: backend {parsed.drivername!r} is not supported, "
        "expected sqlite:/// or postgresql+psycopg://"
    )


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, sealer: object | None = None) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``;
    ``postgresql://`` is taken to mean psycopg 3), set up as the module
    docstring describes.

    ``sealer`` (a :class:`server.private.sealing.Sealer`) is the private
    store's data key: it travels in the engine's execution options, where
    :func:`server.private.sealing.sealer_of` finds it, so each engine (an
    application's, a command's, a test's) has its own and no global does.
    """
    url = _normalize_url(url)
    options = {SEALER_OPTION: sealer} if sealer is not None else {}
    if not url.startswith("sqlite"):
        # No pool_pre_ping: its extra round trip per checkout halves the
        # proof rate.  After a server restart the first statement on each
        # dead pooled connection fails (one failed request, or an append
        # refused with nothing written); SQLAlchemy then discards the pool.
        return create_engine(url, execution_options=options)
    database = make_url(url).database
    kwargs: dict[str, Any] = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S},
        "execution_options": options,
    }
    if not database or database == ":memory:":
        # Each connection to :memory: is a new empty database: share one.
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    engine = create_engine(url, **kwargs)
    _install_sqlite_hooks(engine, in_memory=not database or database == ":memory:")
    return engine


def _install_sqlite_hooks(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: the begin hook below owns BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten content is zeroed in the file, not left
            # in free space: an erasure must not leave a sealed document's
            # bytes behind for a copy of the file to carry (docs/privacy.md).
            cursor.execute("PRAGMA secure_delete=ON")
            # The leaf-hash index takes inserts at random places: with the
            # default 2 MiB cache and 4 MiB checkpoints, every commit of a
            # big log rereads and rewrites most of it.  32 MiB of cache and
            # checkpoints every ~40 MiB of WAL let many appends share a page;
            # storage-side append throughput at 1,000,000 entries went from
            # about 18,000 to 27,000 entries/s (docs/storage.md).
            cursor.execute(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        if mode != _NO_BEGIN:
            conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: Engine, lock: int = SEQUENCER_LOCK) -> Iterator[Connection]:
    """A transaction that holds the log's write lock from its first statement
    to its commit (on leaving the block) or rollback (on an exception).

    SQLite: ``BEGIN IMMEDIATE`` takes the database's single write lock, which
    is also what serializes writers across processes.  PostgreSQL:
    ``pg_advisory_xact_lock(lock)`` as the first statement; under READ
    COMMITTED every later statement sees whatever the previous holder
    committed, and the lock is released by commit, rollback or the death of
    the session, so a killed writer never leaves it held.
    """
    with engine.connect() as conn:
        if is_sqlite(conn):
            conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            if not is_sqlite(conn):
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
            yield conn


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reads outside any explicit transaction: each
    statement sees its own consistent snapshot and nothing else is sent.

    The log only grows and every append is one transaction, so one statement
    always sees a whole log; a reader running several statements may see the
    log grow between them, never shrink or change.  Skipping BEGIN and
    ROLLBACK saves two round trips per read on the proof-serving hot path.
    """
    with engine.connect() as conn:
        if is_sqlite(conn):
            conn.execution_options(**{_BEGIN_OPTION: _NO_BEGIN})
        else:
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


@contextmanager
def raw_read_connection(engine: Engine) -> Iterator[Any]:
    """The driver's own connection (``sqlite3`` or psycopg), from the pool,
    for hot read paths that run one statement: the same no-transaction reads
    as :func:`read_connection` without SQLAlchemy's per-connection
    bookkeeping, which cost about as much as the proof query itself.

    SQLite connections are already in driver autocommit (no ``BEGIN`` is
    sent).  A PostgreSQL connection is switched to autocommit for the block
    and back before it returns to the pool, so a writer that checks it out
    next still gets a real transaction.  Driver errors are raised as
    SQLAlchemy's (``OperationalError`` and so on), and a connection found
    dead is discarded, as on the ordinary path.
    """
    dialect = engine.dialect
    proxied = engine.raw_connection()
    driver: Any = proxied.driver_connection
    postgresql = not is_sqlite(engine)
    try:
        try:
            if postgresql:
                driver.autocommit = True
            yield driver
        finally:
            if postgresql:
                driver.autocommit = False
    except dialect.loaded_dbapi.Error as e:
        disconnect = dialect.is_disconnect(e, proxied.dbapi_connection, None)
        if disconnect:
            proxied.invalidate(e)
        raise DBAPIError.instance(
            None,
            None,
            e,
            dialect.loaded_dbapi.Error,
            connection_invalidated=disconnect,
            dialect=dialect,
        ) from e
    finally:
        proxied.close()


def _alembic_config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    # env.py runs on this connection, inside the caller's locked transaction.
    config.attributes["connection"] = conn
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; a no-op when it is there.

    Runs under the migration lock in one transaction, so processes starting
    together on a fresh database migrate it once and none sees a half-built
    schema (SQLite and PostgreSQL both have transactional DDL).
    """
    with write_transaction(engine, MIGRATION_LOCK) as conn:
        command.upgrade(_alembic_config(conn), "head")


def current_revision(engine: Engine) -> str | None:
    """The schema's Alembic revision, or ``None`` for a database never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
