"""Rules that keep the code base simple and tenant-safe as it grows."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import ForeignKeyConstraint

from nyby.core.db import Base
from nyby.models import GLOBAL_MODELS
from nyby.tenancy.models import TenantScoped

PACKAGE = Path(__file__).resolve().parents[1] / "nyby"


def test_every_model_is_tenant_scoped_or_on_the_global_list() -> None:
    for mapper in Base.registry.mappers:
        model = mapper.class_
        assert issubclass(model, TenantScoped) or model in GLOBAL_MODELS, (
            f"{model.__name__} is neither tenant-scoped nor on nyby.models.GLOBAL_MODELS"
        )


def test_tenant_tables_keep_the_key_rule() -> None:
    """tenant_id leads every tenant-owned primary key and is in every FK between them.

    This is the rule Citus needs to distribute by tenant without a schema change.
    """
    tenant_tables = {t.name for t in Base.metadata.tables.values() if "tenant_id" in t.columns}
    assert tenant_tables, "no tenant-owned tables found"
    for name in tenant_tables:
        table = Base.metadata.tables[name]
        pk = [c.name for c in table.primary_key.columns]
        assert pk[0] == "tenant_id", f"{name}: primary key {pk} must start with tenant_id"
        assert not table.c.tenant_id.nullable
        for fk in table.foreign_key_constraints:
            referred = fk.referred_table.name
            if referred not in tenant_tables:
                continue
            assert isinstance(fk, ForeignKeyConstraint)
            pairs = {(e.parent.name, e.column.name) for e in fk.elements}
            assert ("tenant_id", "tenant_id") in pairs, (
                f"{name} -> {referred}: a foreign key between tenant tables must include tenant_id"
            )
        for index in table.indexes:
            if index.unique:
                assert "tenant_id" in index.columns, f"{name}: unique index without tenant_id"
        for constraint in table.constraints:
            if constraint.__class__.__name__ == "UniqueConstraint":
                assert "tenant_id" in constraint.columns, (
                    f"{name}: unique constraint without tenant_id"
                )


def _imports_and_calls(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text())
    names, calls = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                calls.add(func.attr)
            elif isinstance(func, ast.Name):
                calls.add(func.id)
    return names, calls


def test_resources_and_pages_hold_no_queries() -> None:
    """Resources and web pages are decorators plus service calls; queries live in
    services and access."""
    forbidden = {
        "select",
        "insert",
        "update",
        "delete",
        "text",
        "execute",
        "scalar",
        "scalars",
        "query",
    }
    for path in [*PACKAGE.glob("*/resources.py"), *PACKAGE.glob("*/views.py")]:
        names, calls = _imports_and_calls(path)
        assert not (names & forbidden), f"{path}: imports {names & forbidden}"
        assert not (calls & forbidden), f"{path}: calls {calls & forbidden}"


def test_no_legacy_model_query_and_no_commit_in_services() -> None:
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        assert ".query(" not in source, f"{path}: use select() + session.execute()"
        if path.name in {"services.py", "access.py", "resources.py", "views.py"}:
            assert ".commit()" not in source, f"{path}: services flush; the request commits once"
