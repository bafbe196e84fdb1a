#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory
# (docker-entrypoint-initdb.d). Creates the two roles nyby needs and its database:
#
#   nyby_owner  owns the database and every table; `nyby db upgrade` connects as it
#               (MIGRATION_DATABASE_URL). Not a superuser.
#   nyby_app    what the web and worker processes connect as (DATABASE_URL): data rights
#               only, granted by the migrations; not the owner and not BYPASSRLS, so the
#               row-level security policies bind it.
#
# The migrations create nyby_app themselves when it is missing, but without a password;
# creating it here first gives it one.
set -eu

: "${NYBY_OWNER_PASSWORD:?set NYBY_OWNER_PASSWORD}"
: "${NYBY_APP_PASSWORD:?set NYBY_APP_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$NYBY_OWNER_PASSWORD" -v app_password="$NYBY_APP_PASSWORD" <<'SQL'
CREATE ROLE nyby_owner LOGIN PASSWORD :'owner_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE ROLE nyby_app LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE DATABASE nyby OWNER nyby_owner;
\connect nyby
-- PostgreSQL 15: public belongs to pg_database_owner (nyby_owner); nobody else creates in it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
