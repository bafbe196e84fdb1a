"""Test harness: the real schema from migrations, and the app's own database role.

With no DATABASE_URL the suite runs on a SQLite file (the embedded default). With
DATABASE_URL (a PostgreSQL server the tests may create databases on, as a
superuser or owner) it creates a fresh database, migrates it as the owner and
connects the app as the non-owner role, so row-level security is really in force.
REDIS_URL switches the rate limiter and queue to Redis, as in production.
"""

from __future__ import annotations

import email
import email.policy
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.engine import Engine

from nyby import create_app
from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.auth.services import create_account, login
from nyby.config import Settings
from nyby.core import migrations
from nyby.core.db import db
from nyby.dispatch import pool
from nyby.members.models import Membership
from nyby.members.services import add_member
from nyby.models import metadata
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant

# The care-task fixtures (a borough, a nurse) live with their helpers.
pytest_plugins = ["tests.tasking", "tests.logscan"]

PASSWORD = "correct horse battery"
T = TypeVar("T")
POSTGRES_URL = os.environ.get("DATABASE_URL", "")


@dataclass
class Databases:
    owner_url: str
    app_url: str

    @property
    def is_postgresql(self) -> bool:
        return self.app_url.startswith("postgresql")


def _postgres_databases(server_url: str) -> Iterator[Databases]:
    url = make_url(_psycopg(server_url))
    name = f"nyby_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    owner_url = url.set(database=name)
    role = os.environ.get("NYBY_DB_APP_ROLE", "nyby_app")
    app_url = owner_url.set(username=role, password=os.environ.get("NYBY_DB_APP_PASSWORD"))
    try:
        yield Databases(
            owner_url.render_as_string(hide_password=False),
            app_url.render_as_string(hide_password=False),
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _psycopg(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    if POSTGRES_URL:
        yield from _postgres_databases(POSTGRES_URL)
    else:
        path = tmp_path_factory.mktemp("db") / "nyby.sqlite3"
        yield Databases(f"sqlite:///{path}", f"sqlite:///{path}")


@pytest.fixture(scope="session")
def owner_engine(databases: Databases) -> Iterator[Engine]:
    migrations.upgrade(databases.owner_url)
    engine = create_engine(databases.owner_url)
    yield engine
    engine.dispose()


def make_settings(tmp: Path, databases: Databases, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        data_dir=tmp,
        database_url=databases.app_url,
        migration_database_url=databases.owner_url,
        secret_key="test-secret",
        storage_dir=tmp / "files",
        outbox_dir=tmp / "outbox",
        # Still Argon2id, with a small memory cost so the suite stays quick.
        password_hash_memory_kib=1024,
        password_hash_time_cost=1,
    )
    values.update(overrides)
    return Settings.from_env(**values)


@pytest.fixture(scope="session")
def app(
    owner_engine: Engine, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Flask:
    settings = make_settings(tmp_path_factory.mktemp("data"), databases)
    application = create_app(settings)
    application.config["TESTING"] = True
    return application


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    engine = request.getfixturevalue("owner_engine")
    try:
        pool_is_derived(engine)
    finally:
        wipe(request.getfixturevalue("app"), engine)


def pool_is_derived(engine: Engine) -> None:
    """Whatever a test did, through the API or the ORM, each tenant's dispatch pool is
    what the truth derives (``nyby.dispatch.pool``): nobody missing, nobody extra."""
    with engine.connect() as conn:
        kept = set(conn.execute(select(pool.POOL)).all())
        for tenant_id in conn.scalars(select(Tenant.id)).all():
            pool.rebuild(conn, tenant_id)
        derived = set(conn.execute(select(pool.POOL)).all())
        conn.rollback()
    assert kept == derived, (
        f"pool kept but not derived: {kept - derived}; missing: {derived - kept}"
    )


def wipe(application: Flask, engine: Engine) -> None:
    """Empty every table and the rate limiter: what each test leaves behind is gone."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
    counter = application.extensions["nyby.login_failures"]
    client = application.extensions["nyby.redis"]
    if client is not None:
        for pattern in ("nyby:*", "rq:*"):
            for key in client.scan_iter(pattern):
                client.delete(key)
    else:
        counter._events.clear()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Person:
    account: Account
    membership: Membership | None
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class World:
    """Builds tenants and people through the real services."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def tenant(self, slug: str | None = None, **fields: Any) -> Tenant:
        slug = slug or f"t-{uuid.uuid4().hex[:8]}"
        with self.app.app_context():
            tenant = Tenant(
                slug=slug, name=fields.pop("name", slug.title()), kind="charity", **fields
            )
            db.session.add(tenant)
            db.session.commit()
            return tenant

    def person(self, tenant: Tenant | None, *roles: Role, email: str | None = None) -> Person:
        email = email or f"{uuid.uuid4().hex[:10]}@example.org"
        with self.app.test_request_context():
            account = create_account(email, "Test Person", PASSWORD)
            membership = None
            if tenant is not None:
                with tenant_scope(tenant.id):
                    membership = add_member(account, set(roles) or {Role.VOLUNTEER})
                    db.session.commit()
            db.session.commit()
            pair = login(email, PASSWORD, "127.0.0.1")
            db.session.commit()
            return Person(account, membership, pair.access_token, pair.refresh_token)

    def join(self, person: Person, tenant: Tenant, *roles: Role) -> Membership:
        with self.app.app_context(), tenant_scope(tenant.id):
            membership = add_member(db.session.merge(person.account), set(roles))
            db.session.commit()
            return membership


@pytest.fixture
def world(app: Flask) -> World:
    return World(app)


def all_at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released together; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@dataclass
class S3Endpoint:
    url: str
    bucket: str
    region: str = "eu-west-2"

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name=self.region)


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Endpoint]:
    """A real S3-compatible server (moto's) on a free localhost port, with one bucket.

    Fake credentials in the environment, as boto3 reads real ones in production.
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = S3Endpoint(url=f"http://{host}:{port}", bucket="nyby-test-files")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.delenv("AWS_SESSION_TOKEN", raising=False)
        endpoint.client().create_bucket(
            Bucket=endpoint.bucket,
            CreateBucketConfiguration={"LocationConstraint": endpoint.region},
        )
        try:
            yield endpoint
        finally:
            server.stop()


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """``with count_queries() as counted: ...`` then ``len(counted)``: SQL statements sent."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting() -> Iterator[list[str]]:
        with app.app_context():
            engine = db.engine
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SELECT SET_CONFIG", "BEGIN")):
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


class HeldQueue:
    """In place of the app's queue: keeps what is enqueued, as ``(job, args)``, and runs
    nothing, so a test runs a job by hand or sees what was sent."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def enqueue_many(self, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
        self.jobs += calls

    def join(self) -> None:
        """Nothing runs, so there is nothing to wait for."""


class DownQueue(HeldQueue):
    """In place of the app's queue while Redis is down: every enqueue fails."""

    def enqueue_many(self, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
        raise ConnectionError("Redis is down")


def hold_jobs(app: Flask, monkeypatch: pytest.MonkeyPatch, queue: Any = None) -> Any:
    """From now on in this test, jobs are held in a ``HeldQueue`` (returned), or go to
    ``queue``: a ``DownQueue`` loses them, the app's own queue runs them again."""
    queue = queue if queue is not None else HeldQueue()
    monkeypatch.setitem(app.extensions, "nyby.queue", queue)
    return queue


def run_jobs(app: Flask) -> None:
    """Run every queued job to the end: RQ's (as a worker would) or the in-process queue's."""
    queue = app.extensions["nyby.queue"]
    if not hasattr(queue, "rq"):
        queue.join()
        return
    while jobs := queue.rq.jobs:
        with app.app_context():
            for job in jobs:
                job.perform()
                job.delete()


def mails_to(app: Flask, address: str) -> list[email.message.EmailMessage]:
    """Messages the outbox backend delivered to ``address``, oldest first (after run_jobs)."""
    folder = app.extensions["nyby.settings"].outbox_dir
    found = []
    paths = (
        sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if folder.exists() else []
    )
    for path in paths:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(message)
    return found  # type: ignore[return-value]
