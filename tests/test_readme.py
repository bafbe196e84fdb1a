"""The README's promises, run as written: the demo comes up and the curl walkthrough works."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`nyby demo` then `nyby serve` on the embedded defaults, as `python3 dev.py demo` does."""
    data = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(NYBY_DATA_DIR=str(data), PASSWORD_HASH_MEMORY_KIB="8192")
    loaded = subprocess.run(
        [str(BIN / "nyby"), "demo"], env=env, capture_output=True, text=True, check=False
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "admin@demo-borough.example" in loaded.stdout and "demo-password" in loaded.stdout
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "nyby"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 (our own server)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def _walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The API in five commands", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README lost its curl walkthrough"
    return match.group(1)


def test_readme_curl_walkthrough_works_as_written(demo_server: str, tmp_path: Path) -> None:
    script = _walkthrough().replace("http://127.0.0.1:5000", demo_server)
    script = script.replace("/tmp/nyby-token.json", str(tmp_path / "token.json"))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert '"email": "admin@demo-borough.example"' in out.replace('":"', '": "')
    assert "X-Pagination:" in out
    assert '"key": "shopping"' in out.replace('":"', '": "')
    assert out.count('"refresh_token"') == 1, "the refresh step returned a new pair"
    assert json.loads(out.strip().splitlines()[-1])["token_type"] == "Bearer"


def test_the_demo_has_clients_for_the_care_team_only(demo_server: str) -> None:
    def call(path: str, token: str | None = None, body: dict[str, str] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 (our own local server)
            demo_server + path,
            data=json.dumps(body).encode() if body else None,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, None

    def token(email: str) -> str:
        status, body = call(
            "/api/v1/auth/token", body={"email": email, "password": "demo-password"}
        )
        assert status == 200
        return str(body["access_token"])

    status, clients = call(
        "/api/v1/tenants/demo-borough/clients", token("nurse@demo-borough.example")
    )
    assert status == 200 and len(clients) == 3
    amy = token("volunteer@demo-borough.example")
    status, _ = call("/api/v1/tenants/demo-borough/clients", amy)
    assert status == 403
    near = "/api/v1/tenants/demo-borough/tasks/open?latitude=51.5074&longitude=-0.1278&radius_km=10"
    status, tasks = call(near, amy)
    assert status == 200 and len(tasks) == 4 and all(t["address"] is None for t in tasks)
    # One is next week's visit of a weekly series.
    assert len([t for t in tasks if t["series_id"]]) == 1
    # Sam's DBS check expired last month: nothing he may take.
    assert call(near, token("sam@demo-borough.example")) == (200, [])


def test_the_demo_volunteer_finds_tasks_near_home_in_the_web_app(demo_server: str) -> None:
    """README: Amy logs in and "Tasks near me" lists what she may take around her home."""
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login = browser.open(demo_server + "/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert token is not None
    form = {"email": "volunteer@demo-borough.example", "password": "demo-password"}
    body = urllib.parse.urlencode({**form, "csrf_token": token[1]}).encode()
    browser.open(demo_server + "/login", data=body, timeout=10)
    page = browser.open(demo_server + "/t/demo-borough/tasks/near", timeout=10).read().decode()
    assert "Measured from your home area." in page
    assert "4 tasks you can take" in page and "Weekly shop" in page
