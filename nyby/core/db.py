"""The declarative Base, the engine and the one session per app context.

Services use ``db.session`` and only flush; the request (or job, or CLI command)
that opened the unit of work commits once at its end.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import DateTime, MetaData, create_engine, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    SessionTransaction,
    mapped_column,
    scoped_session,
)
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, in UTC: what every service and column default reads as the time."""
    clock = _clock.get()
    return datetime.now(UTC) if clock is None else clock()


# Set only by ``simulated_clock``: a context variable, so it never reaches another
# thread (a web request, the in-process job queue) running at the same time.
_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("nyby_clock", default=None)


@contextmanager
def simulated_clock(now: Callable[[], datetime]) -> Iterator[None]:
    """Run the services at simulated times (``nyby simulate-dispatch`` replays a month in
    a minute or two): ``utcnow()`` returns ``now()`` inside the block and in this thread,
    the real time everywhere else."""
    token = _clock.set(now)
    try:
        yield
    finally:
        _clock.reset(token)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps on SQLite and PostgreSQL alike (stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Database:
    """Owns the engine and a session scoped to the Flask app context."""

    def __init__(self) -> None:
        self.session: scoped_session[Session] = scoped_session(
            lambda: make_session(self.engine),  # type: ignore[arg-type]
            scopefunc=_app_context_key,
        )

    def init_app(self, app: Flask, url: str) -> None:
        app.extensions["nyby.db.engine"] = make_engine(url)
        app.teardown_appcontext(lambda exc: self.session.remove())

    @property
    def engine(self) -> Engine:
        return current_app.extensions["nyby.db.engine"]  # type: ignore[no-any-return]

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current transaction has committed (and never if it
        rolls back): for side effects outside the database, such as deleting a file
        whose row this transaction deletes."""
        self.session().info.setdefault(_ON_COMMIT, []).append(callback)

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` if the current transaction ends without committing: to undo a
        side effect outside the database, such as a file stored for a row that is gone."""
        self.session().info.setdefault(_ON_ROLLBACK, []).append(callback)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Commit on success, roll back on any error (CLI commands and jobs)."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


_ON_COMMIT = "nyby.on_commit"
_ON_ROLLBACK = "nyby.on_rollback"


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released; the outer transaction may still roll back
    session.info.pop(_ON_ROLLBACK, None)
    _run(session.info.pop(_ON_COMMIT, []))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    # The outermost transaction ended; a commit has already taken its callbacks.
    session.info.pop(_ON_COMMIT, None)
    _run(session.info.pop(_ON_ROLLBACK, []))


def _run(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            # The transaction's outcome stands; a leftover is logged, not raised.
            log.exception("after-transaction callback failed")


def _app_context_key() -> int:
    from flask import g

    return id(g._get_current_object())


def make_engine(url: str) -> Engine:
    # hide_parameters: an SQL error (logged with its traceback) shows the statement, never
    # the values bound to it, which may be a client's name or address.
    if url.startswith("sqlite"):
        # Connections are pooled as for PostgreSQL: a new SQLite connection costs a
        # millisecond (opening the file, reading the schema, the pragmas below) and
        # starts with an empty page cache.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        _configure_sqlite(engine)
        _start_checkpointer(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    # RQ forks a work horse per job: the child must open its own connections rather
    # than share the parent's pooled connections (SQLAlchemy's documented recipe).
    # A weak reference, so an engine nobody uses any more can go (and its checkpointer).
    held = weakref.ref(engine)
    os.register_at_fork(after_in_child=lambda: _dispose_in_child(held()))
    return engine


def _dispose_in_child(engine: Engine | None) -> None:
    if engine is not None:
        engine.dispose(close=False)


def make_session(engine: Engine) -> Session:
    return Session(bind=engine, expire_on_commit=False)


# The write-ahead log is copied back into the database file by a thread of each process
# (``_start_checkpointer``) every CHECKPOINT_EVERY_S, not by whichever commit fills it:
# SQLite's own checkpoint of a thousand pages at the end of a commit took 15 to 20 ms, one
# commit in ten, the whole tail of posting a task and sending its first wave. Often and
# small: a checkpoint's flush to disk holds up the commits that flush beside it, the
# longer the more it copies (tests/perf/test_dispatch.py, city centre: a p99 of 37 ms
# with a checkpoint every 0.05 s, 44 every 0.1 s, 83 every 2 s, and 42 with none at all).
# An idle database's checkpoint is a read of the log's header. SQLite's own is left as the
# backstop, for a log the thread lets grow past WAL_BACKSTOP_PAGES.
CHECKPOINT_EVERY_S = 0.05
WAL_BACKSTOP_PAGES = 10_000


# Held while a checkpointer is inside SQLite, and across a fork (RQ forks a work horse per
# job): a child must not inherit a lock SQLite's thread held at that instant.
_CHECKPOINTING = threading.Lock()
os.register_at_fork(
    before=_CHECKPOINTING.acquire,
    after_in_parent=_CHECKPOINTING.release,
    after_in_child=_CHECKPOINTING.release,
)


def _start_checkpointer(engine: Engine) -> None:
    """A daemon thread that checkpoints the engine's SQLite file (PASSIVE: it never
    waits for, nor blocks, a reader or a writer) until the engine is gone."""
    path = make_url(str(engine.url)).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    stop = threading.Event()
    weakref.finalize(engine, stop.set)
    threading.Thread(
        target=_checkpoint, args=(path, stop), name="nyby-sqlite-checkpoint", daemon=True
    ).start()


def _checkpoint(path: str, stop: threading.Event) -> None:
    # A short busy timeout: the thread never holds the fork lock waiting for a writer.
    connection = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        while not stop.wait(CHECKPOINT_EVERY_S):
            try:
                with _CHECKPOINTING:
                    _, frames, _ = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames == -1:
                        # Opened before the file was in WAL mode (a new database, as its
                        # migrations leave it), this connection would never checkpoint:
                        # it joins WAL mode, as the app's own connections do.
                        connection.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as error:
                log.debug("SQLite checkpoint skipped (%s); the next one will do", error)
    finally:
        connection.close()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # SQLite has one writer. Taking the write lock when the transaction starts
        # makes concurrent writers queue instead of failing half way with
        # "database is locked" after they read a now-stale snapshot.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


db = Database()


def set_keys(statement: Any) -> list[str]:
    """The attributes an UPDATE sets (its SET clause), by key."""
    keys = []
    for target in getattr(statement, "_values", None) or {}:
        keys.append(target if isinstance(target, str) else getattr(target, "key", str(target)))
    return keys
