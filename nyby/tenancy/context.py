"""The current tenant, and the session hooks that enforce it.

Three layers, because each one alone has holes (measured while writing DESIGN.md):

1. every ORM SELECT/UPDATE/DELETE on a tenant-owned model gets
   ``tenant_id = <current tenant>`` added (no tenant: nothing matches);
2. a before-flush guard stamps new rows and refuses to write rows of another
   tenant, which also covers objects already sitting in the identity map;
3. on PostgreSQL, each transaction carries ``app.tenant_id`` so row-level
   security stops raw SQL and anything else that slipped past 1 and 2.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import g, has_app_context
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from nyby.core.db import db
from nyby.tenancy.models import TenantScoped

_tenant: ContextVar[uuid.UUID | None] = ContextVar("nyby_tenant", default=None)
_account: ContextVar[uuid.UUID | None] = ContextVar("nyby_account", default=None)

# Execution option for the few reads that span tenants on purpose (an account's
# own memberships). Row-level security still limits them on PostgreSQL.
ALL_TENANTS = "nyby_all_tenants"


class CrossTenantWrite(RuntimeError):
    """A flush tried to write a row outside the current tenant."""


def current_tenant_id() -> uuid.UUID | None:
    return _tenant.get()


@contextmanager
def tenant_scope(tenant_id: uuid.UUID | None, session: Session | None = None) -> Iterator[None]:
    """Run a block as one tenant (a job, a CLI step, a test)."""
    token = _tenant.set(tenant_id)
    _republish(session)
    try:
        yield
    except BaseException:
        # The transaction is failing and will roll back, taking its setting along.
        _tenant.reset(token)
        raise
    _tenant.reset(token)
    _republish(session)


@contextmanager
def acting_account(account_id: uuid.UUID | None) -> Iterator[None]:
    token = _account.set(account_id)
    _republish()
    try:
        yield
    except BaseException:
        _account.reset(token)
        raise
    _account.reset(token)
    _republish()


@contextmanager
def writing_for(tenant_id: uuid.UUID, connection: Connection) -> Iterator[None]:
    """Core statements on ``connection`` inside the block are checked by row-level
    security against ``tenant_id``, and the current scope is published again after.

    For the audit trail alone: a change to a tenant's own row (global, so not scoped)
    may be made outside that tenant's scope (``nyby tenants apply`` creating it), and
    its audit row still belongs to that tenant.
    """
    token = _tenant.set(tenant_id)
    _publish(connection)
    try:
        yield
    finally:
        _tenant.reset(token)
        _publish(connection)


def add_rows(model: type[TenantScoped], rows: list[dict[str, Any]]) -> None:
    """New rows of a tenant-owned model, in one statement, for the current tenant.

    For what is written by the dozen in one go (a wave's offers, notices and outbox
    rows), where the ORM's unit of work costs more than the database: plain rows, given
    the same keys, stamped as the flush guard stamps objects (layer 2). What listens to
    flushes never sees these rows: the audit trail (so an audited model is refused) and
    the dispatch pool's upkeep (so what the pool is derived from, ``pool.SOURCES``, is
    never written here; every test's ``pool_is_derived`` check would catch it).
    """
    if getattr(model, "__audited__", False):
        raise TypeError(f"{model.__name__} is audited: add its objects to the session")
    tenant = _tenant.get()
    if tenant is None:
        raise CrossTenantWrite(f"{model.__name__} created outside a tenant scope")
    if any(row.get("tenant_id", tenant) != tenant for row in rows):
        raise CrossTenantWrite(f"{model.__name__} created for another tenant")
    if rows:
        db.session.execute(insert(model), [{**row, "tenant_id": tenant} for row in rows])


def set_request_scope(tenant_id: uuid.UUID | None, account_id: uuid.UUID | None) -> None:
    """For a request: the scope lasts until the request is torn down."""
    tokens = g.setdefault("_nyby_scope_tokens", [])
    tokens.append((_tenant.set(tenant_id), _account.set(account_id)))
    _republish()


def clear_request_scope() -> None:
    """Restore whatever scope was in force before the request (none, in a server)."""
    for tenant_token, account_token in reversed(g.pop("_nyby_scope_tokens", [])):
        _account.reset(account_token)
        _tenant.reset(tenant_token)


def _republish(session: Session | None = None) -> None:
    # A transaction already open on this context's session must see the new scope too.
    if session is None:
        if not has_app_context() or not db.session.registry.has():
            return
        session = db.session()
    if session.in_transaction():
        _publish(session.connection())


def _publish(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant, account = _tenant.get(), _account.get()
    # Transaction-local: a plain SET would leak to the next user of the pooled
    # connection, and SET LOCAL cannot take a bound parameter under psycopg 3.
    connection.execute(
        text(
            "SELECT set_config('app.tenant_id', :t, true), set_config('app.account_id', :a, true)"
        ),
        {"t": str(tenant) if tenant else "", "a": str(account) if account else ""},
    )


@event.listens_for(Session, "after_begin")
def _after_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    _publish(connection)


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get(ALL_TENANTS):
        return
    tenant = _tenant.get()
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _guard_flush(session: Session, flush_context: Any, instances: Any) -> None:
    tenant = _tenant.get()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if tenant is None:
            raise CrossTenantWrite(f"{type(obj).__name__} created outside a tenant scope")
        if obj.tenant_id is None:
            obj.tenant_id = tenant
        elif obj.tenant_id != tenant:
            raise CrossTenantWrite(f"{type(obj).__name__} created for another tenant")
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, TenantScoped) and obj.tenant_id != tenant:
            raise CrossTenantWrite(f"{type(obj).__name__} of another tenant changed")
