#!/usr/bin/env python3
"""The two commands a newcomer needs, on a fresh machine with only Python 3.11+.

    python3 dev.py demo    install, create the database, load the demo tenants, serve
    python3 dev.py test    install (with test tools) and run the whole test suite

`python3 dev.py install` only installs, then prints the virtual environment's path (CI
uses it). All three install into ./.venv from requirements.lock (pinned) and reuse it
while the lock file is unchanged. Extra arguments after `test` go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("NYBY_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def _install() -> None:
    lock = ROOT / "requirements.lock"
    stamp = VENV / ".nyby-installed"
    wanted = hashlib.sha256(lock.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print("installing pinned dependencies (first run takes a minute)", flush=True)
    subprocess.run([*pip, "-r", str(lock)], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    stamp.write_text(wanted)


def _run(*args: str) -> int:
    return subprocess.call([str(BIN / args[0]), *args[1:]], cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "install"}:
        print(__doc__)
        return 2
    _install()
    if argv[0] == "install":
        print(VENV)
        return 0
    if argv[0] == "test":
        return _run("python", "-m", "pytest", *argv[1:])
    code = _run("nyby", "demo")
    if code:
        return code
    host = os.environ.get("NYBY_HOST", "127.0.0.1")
    port = os.environ.get("NYBY_PORT", "5000")
    return _run("nyby", "serve", "--host", host, "--port", port)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
