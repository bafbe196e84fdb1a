"""Fuzz the API from its own OpenAPI document, once per role, with schemathesis.

Loads the demo (on a fresh PostgreSQL database when DATABASE_URL is set, so the
server runs as the non-owner role under row-level security; else on SQLite),
starts `nyby serve` on a free port, logs in one demo person per role and runs
`schemathesis run` with its default checks for each token. Exits non-zero if any
run finds a failure: a 5xx, or a response that does not match the documentation.

    .venv/bin/python tests/fuzz/run_schemathesis.py [--max-examples N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
# Least power first: the admin's run changes members and roles (it may deactivate
# the others' memberships), so it goes last.
ROLES = {
    "volunteer": "volunteer@demo-borough.example",
    "staff": "staff@demo-borough.example",
    "professional": "nurse@demo-borough.example",
    "coordinator": "coordinator@demo-borough.example",
    "admin": "admin@demo-borough.example",
}
PASSWORD = "demo-password"
# A role's run takes 1.5-2 minutes; far longer means a request is hanging.
ROLE_SECONDS = 480
REQUEST_SECONDS = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post_json(url: str, body: dict[str, str]) -> dict[str, str]:
    request = urllib.request.Request(  # noqa: S310 (our own local server)
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)  # type: ignore[no-any-return]


def _postgres_env(server_url: str) -> tuple[dict[str, str], str]:
    """A fresh database: migrated as the server's user, served as the app role."""
    from sqlalchemy import create_engine, make_url, text

    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"nyby_fuzz_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    owner = url.set(database=name)
    app = owner.set(username=os.environ.get("NYBY_DB_APP_ROLE", "nyby_app"), password=None)
    return {
        "MIGRATION_DATABASE_URL": owner.render_as_string(hide_password=False),
        "DATABASE_URL": app.render_as_string(hide_password=False),
    }, name


def _drop_database(server_url: str, name: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _print_server_errors(log: Path, shown: int = 80) -> None:
    """The server's tracebacks and 5xx lines, so a CI log says what went wrong."""
    lines = log.read_text(errors="replace").splitlines()
    errors = [
        line
        for line in lines
        if not line.startswith("INFO werkzeug") or '" 5' in line  # 5xx status
    ]
    print(f"server log ({log}), {min(len(errors), shown)} of its non-2xx-4xx lines:")
    print("\n".join(errors[-shown:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--seed", default="20261123", help="fixed, so CI runs are repeatable")
    parser.add_argument("--role", action="append", choices=ROLES, help="only these roles")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="nyby-fuzz-"))
    # Tokens must outlive the whole run: an expired one would only get 401s, which the
    # checks accept, and the rest of that role's run would test nothing.
    env = dict(os.environ, NYBY_DATA_DIR=str(data_dir), ACCESS_TOKEN_MINUTES="120")
    server_url = os.environ.get("DATABASE_URL", "")
    database = None
    server: subprocess.Popen[bytes] | None = None
    failed: list[str] = []
    try:
        if server_url.startswith("postgres"):
            extra, database = _postgres_env(server_url)
            env.update(extra)
        subprocess.run([str(BIN / "nyby"), "demo"], env=env, check=True, stdout=subprocess.DEVNULL)

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(BIN / "nyby"), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(data_dir / "server.log", "w"),
        )
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        else:
            print("the server did not start; see", data_dir / "server.log")
            return 1
        # Log everyone in first: fuzzing /auth/token soon trips the login rate limit.
        tokens = {
            role: _post_json(base + "/api/v1/auth/token", {"email": email, "password": PASSWORD})
            for role, email in ROLES.items()
        }
        for role in args.role or ROLES:
            email, token = ROLES[role], tokens[role]
            print(f"\n=== schemathesis as {role} ({email}) ===", flush=True)
            command = [
                str(BIN / "schemathesis"),
                "--config-file",
                str(HERE / "schemathesis.toml"),
                "run",
                f"{base}/api/v1/openapi.json",
                "--header",
                f"Authorization: Bearer {token['access_token']}",
                "--max-examples",
                str(args.max_examples),
                "--seed",
                args.seed,
                "--workers",
                "1",
                "--request-timeout",
                str(REQUEST_SECONDS),
                # Shrinking replays a failure in ever smaller variants: with a slow
                # request that is hours of timeouts. The report keeps the request as sent.
                "--no-shrink",
            ]
            try:
                result = subprocess.run(command, check=False, timeout=ROLE_SECONDS)
                if result.returncode != 0:
                    failed.append(role)
            except subprocess.TimeoutExpired:
                print(f"schemathesis as {role} took over {ROLE_SECONDS} s", flush=True)
                failed.append(f"{role} (timed out)")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if database:
            _drop_database(server_url, database)
    if failed:
        print(f"\nschemathesis found failures for: {', '.join(failed)}")
        _print_server_errors(data_dir / "server.log")
        return 1
    print(f"\nschemathesis: no failures for {', '.join(args.role or ROLES)}")
    shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
