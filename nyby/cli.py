"""The `nyby` command (also `flask --app wsgi ...`)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from nyby import create_app
from nyby.config import Settings
from nyby.core import migrations
from nyby.core.logs import configure_logging


def _settings() -> Settings:
    return current_app.extensions["nyby.settings"]  # type: ignore[no-any-return]


@click.group("db", help="The database schema (Alembic migrations).")
def db_cli() -> None:
    pass


@db_cli.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    migrations.upgrade(_settings().migration_database_url, revision)
    click.echo(f"database upgraded to {revision}")


@db_cli.command("downgrade")
@click.argument("revision", default="-1")
@with_appcontext
def db_downgrade(revision: str) -> None:
    migrations.downgrade(_settings().migration_database_url, revision)
    click.echo(f"database downgraded to {revision}")


@click.group("tenants", help="Tenant configuration as code (tenants/*.yaml).")
def tenants_cli() -> None:
    pass


@tenants_cli.command("apply")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and print the changes; write nothing.")
@with_appcontext
def tenants_apply(path: Path, dry_run: bool) -> None:
    from nyby.configuration import files

    try:
        changes = files.apply_file(path, dry_run=dry_run)
    except files.InvalidFile as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    for line in changes:
        click.echo(line)
    if not changes:
        click.echo("no changes")
    elif dry_run:
        click.echo("dry run: nothing written")


@tenants_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def tenants_export(slug: str, output: Path | None) -> None:
    from nyby.configuration import files
    from nyby.core.errors import NotFound

    try:
        text = files.export_file(slug)
    except NotFound:
        click.echo(f"no tenant {slug!r}", err=True)
        sys.exit(2)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@click.group("users", help="Accounts.")
def users_cli() -> None:
    pass


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--tenant", "tenant_slug", help="Also give a membership in this tenant.")
@click.option("--role", "roles", multiple=True, help="Role in that tenant (repeatable).")
@with_appcontext
def users_create(email: str, name: str, tenant_slug: str | None, roles: tuple[str, ...]) -> None:
    """Create an account; the password is read from standard input."""
    from nyby.core.errors import DomainError
    from nyby.demo import create_person

    password = sys.stdin.readline().rstrip("\n")
    try:
        account = create_person(email, name, password, tenant_slug, roles)
    except (DomainError, ValueError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(f"created {account.email} ({account.id})")


@click.command("demo", help="Create the schema and load both demo tenants with people.")
@with_appcontext
def demo() -> None:
    from nyby.demo import DEMO_PASSWORD, load_demo

    migrations.upgrade(_settings().migration_database_url)
    logins = load_demo()
    click.echo(f"Demo tenants loaded. Log in with any of these (password: {DEMO_PASSWORD}):")
    for tenant, email, roles in logins:
        click.echo(f"  {tenant:14} {email:38} {roles}")


@click.command("worker", help="Run jobs (RQ on Redis) and the periodic schedule.")
@with_appcontext
def worker() -> None:
    from nyby.jobs.worker import run_worker

    run_worker(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command("serve", help="Development server with the in-process worker.")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from nyby.core.logs import PathOnlyRequestHandler
    from nyby.jobs.worker import run_scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=run_scheduler, args=(app,), daemon=True, name="nyby-scheduler").start()
    click.echo(
        f"nyby is running at http://{host}:{port}/ (API docs: http://{host}:{port}/api/v1/docs)"
    )
    run_simple(
        host, port, app, threaded=True, use_reloader=False, request_handler=PathOnlyRequestHandler
    )


@click.command("simulate-dispatch")
@click.option(
    "--volunteers",
    default=1000,
    show_default=True,
    type=click.IntRange(min=50),
    help="On duty; tasks and the district's size scale with them (NHS proportions).",
)
@click.option(
    "--days",
    default=28,
    show_default=True,
    type=click.IntRange(min=7, max=92),
    help="Days of demand; each complete week is reported.",
)
@click.option(
    "--seed", default=2021, show_default=True, type=int, help="The same seed, the same report."
)
@click.option(
    "--wave-size",
    type=click.IntRange(min=1, max=100),
    help="People asked per wave, under both policies  [default: the tenant default, 15]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def simulate_dispatch(
    volunteers: int, days: int, seed: int, wave_size: int | None, as_json: bool
) -> None:
    """Replay a month of demand at NHS Volunteer Responders' proportions through the real
    dispatcher, on a scratch database, for our ranking and for nearest first: who is
    offered a task each week, time to acceptance, unmet tasks, and the verdict against
    issue 5's target. The default scale takes a minute or two on two cores."""
    import json

    from nyby.dispatch.simulation import simulate
    from nyby.dispatch.simulation_report import describe

    click.echo(
        f"Replaying {days} days for {volunteers} on-duty volunteers under two policies, on "
        "a scratch database: the default (1000 volunteers, 28 days) takes a minute or two "
        "on two cores, and the time grows with volunteers x days.",
        err=True,
    )
    report = simulate(volunteers, days, seed, wave_size, lambda line: click.echo(line, err=True))
    click.echo(json.dumps(report, indent=2) if as_json else describe(report))


COMMANDS = (db_cli, tenants_cli, users_cli, demo, worker, serve, simulate_dispatch)


def register_commands(app: object) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)  # type: ignore[attr-defined]


def main() -> None:
    configure_logging()
    FlaskGroup(create_app=create_app, add_default_commands=False)(prog_name="nyby")
