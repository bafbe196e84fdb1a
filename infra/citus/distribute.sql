-- Move nyby's schema onto a Citus cluster: shard every tenant-owned table by tenant_id.
--
-- Run once, on the coordinator's nyby database, as a superuser (creating the extension
-- and ALTER ROLE need one), right after `nyby db upgrade` has created the schema there
-- and before the data is loaded (create_distributed_table copies existing rows too, but
-- locks each table while it does):
--
--     psql "postgresql://postgres@coordinator:5432/nyby" -f infra/citus/distribute.sql
--
-- Why this works without a schema change (DESIGN.md decision 2): every tenant-owned table
-- has tenant_id in its primary key, in each of its unique constraints and in every
-- foreign key to another tenant-owned table. Citus needs exactly that: all rows of one
-- tenant land on one shard group, so a request (which always runs inside one tenant)
-- is routed to a single worker, and constraints are checked there.
--
-- Migrations written later: a new tenant-owned table must be distributed the same way
-- (add it below, or call create_distributed_table in that migration when the citus
-- extension is present); DDL on already distributed tables is propagated by Citus.

\set ON_ERROR_STOP on

CREATE EXTENSION IF NOT EXISTS citus;

BEGIN;
-- All or nothing. Sequential mode: tables with foreign keys to reference tables that
-- were created in the same transaction cannot use parallel shard connections.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

-- 1. Reference tables: small or global, copied in full to every worker, so any shard can
--    join them and foreign keys from distributed tables to them are allowed.
--
--    tenants: keyed by its own id, not by a tenant_id column. Distributing it by id
--    would colocate each tenant's row with its data too, but every request first finds
--    its tenant by slug (the URL), and slug is not the distribution column: that lookup
--    would fan out to every shard on every request. There are few tenants (hundreds, not
--    millions) and they change rarely, which is what reference tables are for.
--
--    accounts, refresh_tokens: global by design (one account per person, across tenants;
--    login happens before any tenant is known). As reference tables every write goes to
--    every node in one distributed transaction. That is fine for accounts; refresh
--    tokens are written at each login and refresh, so at the largest scale consider
--    keeping refresh_tokens (and, if sign-up bursts demand it, accounts) as Citus local
--    tables on the coordinator (citus_add_local_table_to_metadata) instead.
SELECT create_reference_table('tenants');
SELECT create_reference_table('accounts');
SELECT create_reference_table('refresh_tokens');

-- 2. Distributed tables, all sharded by tenant_id and colocated with one another, parents
--    before the tables whose foreign keys point at them. The first one fixes the
--    colocation group (tenant_id is a uuid everywhere); the rest join it explicitly.
SELECT create_distributed_table('memberships', 'tenant_id', colocate_with => 'none');
SELECT create_distributed_table('idempotency_records', 'tenant_id', colocate_with => 'memberships');
SELECT create_distributed_table('check_types', 'tenant_id', colocate_with => 'memberships');
SELECT create_distributed_table('task_categories', 'tenant_id', colocate_with => 'memberships');
SELECT create_distributed_table('volunteer_roles', 'tenant_id', colocate_with => 'memberships');
-- (tenant_id, role_id) -> volunteer_roles, (tenant_id, check_type_id) -> check_types,
-- (tenant_id, category_id) -> task_categories: foreign keys that include the
-- distribution column, between colocated tables, are enforced on each worker.
SELECT create_distributed_table('role_check_types', 'tenant_id', colocate_with => 'memberships');
SELECT create_distributed_table('role_categories', 'tenant_id', colocate_with => 'memberships');

COMMIT;

-- 3. Row-level security. The policies created by the migrations (tenant_isolation on
--    every tenant-owned table, own_rows on memberships) compare tenant_id with the
--    transaction-local setting app.tenant_id. Recent Citus releases propagate ENABLE /
--    FORCE ROW LEVEL SECURITY and CREATE POLICY to the shards when a table is
--    distributed; check that they did (every row should say t):
SELECT run_command_on_shards('memberships',
    $cmd$SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = '%s'::regclass$cmd$);
--    The setting has to reach the workers, where the shards are read. Citus forwards
--    transaction-local settings to the workers a transaction uses when
--    citus.propagate_set_commands = 'local', but that covers SET LOCAL statements; the
--    app currently sets the tenant with set_config('app.tenant_id', :tid, true), a
--    function call. Before moving a tenant, verify on a staging cluster, connected as
--    the application role, that a request sees its tenant's rows on every worker. If
--    the setting does not arrive the policy compares with NULL and the shard returns no
--    rows: the failure is closed (nothing leaks) and shows at once. The remedy is then
--    for nyby.tenancy to issue SET LOCAL app.tenant_id = '<uuid>' on Citus (a literal,
--    quoted from a validated UUID: SET takes no bind parameters).
ALTER ROLE nyby_app SET citus.propagate_set_commands = 'local';

-- 4. The application role (NYBY_DB_APP_ROLE, nyby_app) must exist on every node with the
--    same data rights. Citus propagates CREATE ROLE and GRANT from the coordinator when
--    they are run there; roles created before the citus extension are synchronised when a
--    node is added (citus_add_node). Check:
SELECT run_command_on_workers($cmd$SELECT count(*) FROM pg_roles WHERE rolname = 'nyby_app'$cmd$);

-- Later, the largest tenants can get shards of their own (Citus "tenant isolation"):
--     SELECT isolate_tenant_to_new_shard('memberships', '<tenant uuid>', 'CASCADE');
-- CASCADE moves the tenant's rows in every colocated table together.
