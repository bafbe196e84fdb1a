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
    assert f"files: local folder {tmp_path / 'files'} (embedded default" in result.stderr


def test_healthz_reports_the_backends(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"


TENANTS = Path(__file__).resolve().parents[1] / "tenants"


def test_tenants_apply_is_idempotent_and_export_round_trips(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    for name in ("demo-borough.yaml", "demo-kommune.yaml"):
        dry = runner.invoke(args=["tenants", "apply", str(TENANTS / name), "--dry-run"])
        assert dry.exit_code == 0 and "+ role" in dry.output and "dry run" in dry.output
        first = runner.invoke(args=["tenants", "apply", str(TENANTS / name)])
        assert first.exit_code == 0 and "+ role" in first.output
        second = runner.invoke(args=["tenants", "apply", str(TENANTS / name)])
        assert second.exit_code == 0 and second.output.strip() == "no changes"
    out = tmp_path / "kommune.yaml"
    exported = runner.invoke(args=["tenants", "export", "demo-kommune", "-o", str(out)])
    assert exported.exit_code == 0
    assert "Besøksvenn" in out.read_text(encoding="utf-8")
    again = runner.invoke(args=["tenants", "apply", str(out)])
    assert again.output.strip() == "no changes"


def test_tenants_apply_refuses_a_bad_file_and_writes_nothing(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.yaml"
    text = (TENANTS / "demo-borough.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("primary_colour:", "primary_color:"), encoding="utf-8")
    result = runner.invoke(args=["tenants", "apply", str(bad)])
    assert result.exit_code == 2 and "primary_color" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("slug: [unclosed", encoding="utf-8")
    assert runner.invoke(args=["tenants", "apply", str(broken)]).exit_code == 2
    missing = runner.invoke(args=["tenants", "export", "demo-borough"])
    assert missing.exit_code == 2, "nothing was applied, so there is nothing to export"


def test_flask_cli_reaches_the_same_commands() -> None:
    flask = Path(sys.executable).parent / "flask"
    result = subprocess.run(
        [str(flask), "--app", "wsgi", "tenants", "--help"],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "apply" in result.stdout


def test_workers_starting_together_share_one_signing_key(tmp_path: Path) -> None:
    """Several gunicorn workers on the embedded defaults must verify each other's tokens."""
    from concurrent.futures import ThreadPoolExecutor

    from nyby.config import create_once

    made: list[int] = []

    def make() -> bytes:
        made.append(1)
        return f"key-{len(made)}".encode()

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: create_once(tmp_path / "key.pem", make), range(32)))
    assert len(keys) == 1
    assert oct((tmp_path / "key.pem").stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["key.pem"], "no temporary files left"
