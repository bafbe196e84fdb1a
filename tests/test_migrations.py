"""The schema comes only from migrations: they match the models and go down cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine

from nyby.core import migrations
from nyby.models import metadata
from tests.conftest import Databases


def test_models_and_migrations_do_not_drift(owner_engine: Engine) -> None:
    with owner_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_every_migration_downgrades_and_upgrades_again(
    databases: Databases, owner_engine: Engine, tmp_path: Path
) -> None:
    if databases.is_postgresql:
        url = databases.owner_url
    else:
        url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
        migrations.upgrade(url)
    engine = create_engine(url)
    try:
        migrations.downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrations.upgrade(url)
        assert {"tenants", "accounts", "memberships"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
