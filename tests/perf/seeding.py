"""What the benchmarks share: a tenant seeded once per module, measured, then wiped."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.conftest import World, wipe

Seeded = TypeVar("Seeded")


def vacuum(engine: Engine) -> None:
    """After seeding, what the database would have done on its own within a minute of a
    bulk load: PostgreSQL vacuumed and analysed, as autovacuum would; SQLite's log copied
    back into the database file, as the checkpointer would (``core.db``), and no
    ANALYZE, as the application runs none. Then the seed's gigabytes are flushed to disk,
    so the rounds measure the app, not the kernel writing the bulk load back."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    os.sync()


@contextmanager
def seeded_once(
    app: Flask,
    owner_engine: Engine,
    seed: Callable[[Flask, World], Seeded],
    report: Callable[[Seeded], Any],
) -> Iterator[Seeded]:
    """Seed (timed into ``seconds_to_seed``), hand the seed to the module's tests, then
    report and wipe.

    The module's own record of what it seeded (the right answers) is millions of Python
    objects a server never holds: frozen, the collections a round triggers skip it.
    """
    started = time.perf_counter()
    seeded = seed(app, World(app))
    vacuum(owner_engine)
    seeded.seconds_to_seed = time.perf_counter() - started  # type: ignore[attr-defined]
    gc.collect()
    gc.freeze()
    try:
        yield seeded
    finally:
        gc.unfreeze()
        report(seeded)
        wipe(app, owner_engine)
