"""The `nyby` command: schema, people, and the console script itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flask import Flask

from nyby.auth.permissions import Role
from tests.conftest import PASSWORD, World


def test_users_create_reads_the_password_from_stdin(app: Flask, world: World) -> None:
    world.tenant("borough")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Nia@Example.org",
            "--name",
            "Nia Jones",
            "--tenant",
            "borough",
            "--role",
            "coordinator",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "nia@example.org", "password": "a long enough password"},
    ).json["access_token"]
    tenant = client.get("/api/v1/tenants/borough", headers={"Authorization": f"Bearer {token}"})
    assert tenant.json["my_roles"] == ["coordinator"]


def test_users_create_refuses_bad_input_clearly(app: Flask, world: World) -> None:
    person = world.person(None)
    runner = app.test_cli_runner()
    duplicate = runner.invoke(
        args=["users", "create", "--email", person.account.email, "--name", "X"],
        input=f"{PASSWORD}\n",
    )
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    short = runner.invoke(
        args=["users", "create", "--email", "s@example.org", "--name", "S"], input="short\n"
    )
    assert short.exit_code == 2 and "too short" in short.output.lower()
    unknown = runner.invoke(
        args=["users", "create", "--email", "u@example.org", "--name", "U", "--tenant", "nowhere"],
        input=f"{PASSWORD}\n",
    )
    assert unknown.exit_code == 2 and "nowhere" in unknown.output
    bad_role = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "r@example.org",
            "--name",
            "R",
            "--tenant",
            "x",
            "--role",
            "king",
        ],
        input=f"{PASSWORD}\n",
    )
    assert bad_role.exit_code == 2
    assert Role.ADMIN.value == "admin"


def test_console_script_upgrades_a_fresh_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["NYBY_DATA_DIR"] = str(tmp_path)
    nyby = Path(sys.executable).parent / "nyby"
    result = subprocess.run(
        [str(nyby), "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "nyby.sqlite3").exists()
    assert "database: SQLite file (embedded default)" in result.stderr
    assert "queue: in-process" in result.stderr


def test_healthz_reports_the_backends(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"
