"""The embedded database: SQLite's write-ahead log is checkpointed beside the requests."""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from nyby.core import db as core_db
from nyby.core.db import make_engine
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's own log")


def _checkpointers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "nyby-sqlite-checkpoint"}


@pytest.mark.parametrize("migrated_first", [False, True])
def test_the_log_stays_small_without_a_commit_copying_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, migrated_first: bool
) -> None:
    """SQLite's own checkpoint waits for 10,000 pages (40 MB) and is paid by a commit;
    the process's checkpointer copies the log back between commits, so it stays small:
    for a database the app creates, and for one its migrations made first (in SQLite's
    default rollback-journal mode, until the app's connections turn it to WAL)."""
    monkeypatch.setattr(core_db, "CHECKPOINT_EVERY_S", 0.02)
    path = tmp_path / "nyby.sqlite3"
    if migrated_first:
        with closing(sqlite3.connect(path)) as migrations:
            migrations.execute("CREATE TABLE notes (body TEXT)")
            migrations.commit()
    before = _checkpointers()
    engine = make_engine(f"sqlite:///{path}")
    (checkpointer,) = _checkpointers() - before
    log = tmp_path / "nyby.sqlite3-wal"
    largest = 0
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS notes (body TEXT)"))
    for _burst in range(20):  # 4,000 pages in all, as 20 bursts of requests
        for _commit in range(20):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO notes VALUES (:body)"), {"body": "x" * 40_000})
        largest = max(largest, log.stat().st_size)
        time.sleep(0.1)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM notes")) == 400
    # Two bursts' worth at most (3.2 MB), not the whole 16 MB written.
    assert largest < 4_000_000, largest

    engine.dispose()
    del engine, conn
    gc.collect()
    checkpointer.join(timeout=2)
    assert not checkpointer.is_alive()  # gone with its engine
