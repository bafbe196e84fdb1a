"""Real-browser tests: the session's app served over HTTP, driven by headless Chromium.

The browser is Debian's /usr/bin/chromium (`python3 dev.py test` installs it as root),
not one Playwright downloads. Without it these tests fail; they never skip, so a run
without a browser cannot pass. Helpers for the tests are in tests/browser/helpers.py.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from tests.browser.helpers import SCREENSHOTS, screenshot

CHROMIUM = Path("/usr/bin/chromium")
# The machine's network is closed: without the background-networking flags Chromium
# waits on refused connections of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 10_000
PHONE: dict[str, Any] = dict(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
DESKTOP: dict[str, Any] = dict(viewport={"width": 1280, "height": 800})


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The session's app over real HTTP on 127.0.0.1 and a free port; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: the browser tests cannot run. Install it as "
            "root (`apt-get update && apt-get install -y chromium`) or run "
            "`python3 dev.py test`, which does.",
            pytrace=False,
        )
    expect.set_options(timeout=TIMEOUT_MS)
    for stale in SCREENSHOTS.glob("FAILED-*.png"):
        stale.unlink()  # what failed in an earlier run
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _page(
    browser: Browser, base_url: str, request: pytest.FixtureRequest, **options: Any
) -> Iterator[Page]:
    # English unless a test says otherwise: the app follows Accept-Language.
    context = browser.new_context(base_url=base_url, locale="en-GB", **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
        report = getattr(request.node, "browser_call_report", None)
        if report is not None and report.failed and not page.is_closed():
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            screenshot(page, f"FAILED-{name}")
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh 360x740 touch phone (its own cookies) on the live server."""
    yield from _page(browser, live_server, request, **PHONE)


@pytest.fixture
def desktop(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh 1280x800 desktop browser (its own cookies) on the live server."""
    yield from _page(browser, live_server, request, **DESKTOP)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # A failed test leaves a screenshot of where it stopped: artifacts/screenshots/FAILED-*.
    report = yield
    if report.when == "call":
        item.browser_call_report = report  # type: ignore[attr-defined]
    return report
