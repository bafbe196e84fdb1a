"""What the benchmarks share: a tenant seeded once per module, measured, then wiped."""

from __future__ import annotations

import gc
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
    """PostgreSQL is vacuumed and analysed after seeding, as autovacuum would within a
    minute; SQLite is left as the application leaves it (no ANALYZE)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


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
