#!/usr/bin/env python3
"""The two commands a newcomer needs, on a fresh machine with Python 3.11+ and npm.

    python3 dev.py demo    install, create the database, load the demo tenants, serve
    python3 dev.py test    install (with test tools) and run the whole test suite

`python3 dev.py install` only installs, then prints the virtual environment's path (CI
uses it). All three install into ./.venv from requirements.lock (pinned) and into
./node_modules from package-lock.json (`npm ci`), and reuse each while its lock file is
unchanged. `test` also needs Chromium at /usr/bin/chromium for the browser tests
(tests/browser). Run as root on Debian, a missing npm or Chromium is installed with
apt-get. Extra arguments after `test` go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("NYBY_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
CHROMIUM = Path("/usr/bin/chromium")


def _digest(*names: str) -> str:
    return hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in names)).hexdigest()


def _install() -> None:
    stamp = VENV / ".nyby-installed"
    wanted = _digest("requirements.lock", "pyproject.toml")
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print("installing pinned dependencies (first run takes a minute)", flush=True)
    subprocess.run([*pip, "-r", str(ROOT / "requirements.lock")], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    stamp.write_text(wanted)


def _install_npm() -> None:
    # The stamp lives inside node_modules: deleting that folder reinstalls.
    stamp = ROOT / "node_modules" / ".nyby-installed"
    wanted = _digest("package-lock.json", "package.json")
    if stamp.exists() and stamp.read_text() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None and _apt_install("npm"):
        npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed (for ./node_modules): install Node.js and npm, then run again")
    print("installing npm packages from package-lock.json (npm ci)", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    stamp.write_text(wanted)


def _apt_install(package: str) -> bool:
    """Install a Debian package when we are root with apt-get; say what happens."""
    apt = shutil.which("apt-get")
    if apt is None or os.name != "posix" or os.geteuid() != 0:
        return False
    print(f"installing {package}: apt-get update && apt-get install -y {package}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["update"], ["install", "-y", package]):
        if subprocess.call([apt, "-q", *args], env=env, stdout=sys.stderr) != 0:
            return False
    return True


def _ensure_chromium() -> None:
    if not CHROMIUM.exists() and not (_apt_install("chromium") and CHROMIUM.exists()):
        print(
            f"Chromium is not at {CHROMIUM}, so the browser tests (tests/browser) will fail."
            "\nInstall it as root: apt-get update && apt-get install -y chromium",
            flush=True,
        )


def _run(*args: str) -> int:
    return subprocess.call([str(BIN / args[0]), *args[1:]], cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "install"}:
        print(__doc__)
        return 2
    _install()
    _install_npm()
    if argv[0] == "install":
        print(VENV)
        return 0
    if argv[0] == "test":
        _ensure_chromium()
        return _run("python", "-m", "pytest", *argv[1:])
    code = _run("nyby", "demo")
    if code:
        return code
    host = os.environ.get("NYBY_HOST", "127.0.0.1")
    port = os.environ.get("NYBY_PORT", "5000")
    return _run("nyby", "serve", "--host", host, "--port", port)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
