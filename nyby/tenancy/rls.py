"""Row-level security DDL, used by migrations (PostgreSQL only).

Policies compare ``tenant_id`` with the transaction-local ``app.tenant_id`` that
``nyby.tenancy.context`` publishes. FORCE makes them bind the table owner too;
only a superuser or a BYPASSRLS role escapes them, which is why the app (and the
tests) connect as a separate, ordinary role.
"""

from __future__ import annotations

from alembic import op

CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"
CURRENT_ACCOUNT = "nullif(current_setting('app.account_id', true), '')::uuid"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def enable_tenant_rls(table: str) -> None:
    if not _is_postgresql():
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )


def allow_own_rows(table: str, account_column: str = "account_id") -> None:
    """Let a person read their own rows in every tenant (their memberships)."""
    if not _is_postgresql():
        return
    op.execute(
        f"CREATE POLICY own_rows ON {table} FOR SELECT USING ({account_column} = {CURRENT_ACCOUNT})"
    )


def drop_tenant_rls(table: str) -> None:
    if not _is_postgresql():
        return
    op.execute(f"DROP POLICY IF EXISTS own_rows ON {table}")
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def grant_app_role(role: str) -> None:
    """Create the application's login role if missing and let it use the tables.

    It gets data rights only: no ownership, no DDL, no BYPASSRLS.
    """
    if not _is_postgresql():
        return
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            END IF;
        END
        $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}"
    )


def append_only(table: str, role: str) -> None:
    """The app's role may add and read rows of ``table``, never change or remove them
    (the audit trail). The owner keeps every right, for a retention job run by a person."""
    if not _is_postgresql():
        return
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}")
    op.execute(f"GRANT SELECT, INSERT ON {table} TO {role}")
