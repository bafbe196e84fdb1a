"""Helpers for the real-browser tests: log in, check accessibility, take screenshots,
and move focus with the keyboard the way a person without a mouse does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

# WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def log_in(page: Page, email: str, password: str) -> None:
    """Log in through /login (in English) and wait for the page it leads to. Stays on
    the login page the browser is on, so a ?next= there is followed."""
    if urlsplit(page.url).path != "/login":
        page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()
    if urlsplit(page.url).path == "/login":
        alerts = page.get_by_role("alert").all_inner_texts()
        pytest.fail(f"logging in as {email} failed: {alerts or 'no error shown'}")


def assert_accessible(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0/2.1/2.2 A and AA) on the page as it is now.

    Fails the test on any serious or critical violation; returns every violation so a
    test can look at the minor and moderate ones too.
    """
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `python3 dev.py install` (it runs `npm ci`)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        if not page.evaluate("() => typeof window.axe === 'object'"):
            pytest.fail(f"axe-core did not load on {page.url} (a Content-Security-Policy?)")
    results = page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            resultTypes: ['violations'],
        })""",
        WCAG_TAGS,
    )
    violations: list[dict[str, Any]] = results["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        pytest.fail(
            f"accessibility violations on {page.url}:\n" + describe_violations(blocking),
            pytrace=False,
        )
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " >> ".join(
                part if isinstance(part, str) else " ".join(part) for part in node["target"]
            )
            summary = "; ".join(
                line.strip() for line in node.get("failureSummary", "").splitlines() if line.strip()
            ).replace(":;", ":")
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as artifacts/screenshots/<name>.png; return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass(frozen=True)
class Focused:
    """What has the keyboard focus: its accessible name (approximately as a screen
    reader says it), visible text, tag, and role attribute or input type."""

    name: str
    text: str
    tag: str
    kind: str

    def __str__(self) -> str:
        return f"{self.tag}{f'[{self.kind}]' if self.kind else ''} {self.name!r}"


# The accessible name, as the browser computes it for the elements our pages use:
# aria-labelledby, aria-label, <label>s, a button input's value, then text and title.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const squash = s => (s || '').replace(/\\s+/g, ' ').trim();
  const labelledBy = (el.getAttribute('aria-labelledby') || '').split(/\\s+/)
    .map(id => document.getElementById(id)).filter(Boolean).map(e => e.textContent).join(' ');
  const labels = el.labels ? Array.from(el.labels).map(l => l.textContent).join(' ') : '';
  const value = el.matches('input[type=submit], input[type=button], input[type=reset]')
    ? el.value : '';
  const name = squash(labelledBy) || squash(el.getAttribute('aria-label')) || squash(labels)
    || squash(value) || squash(el.innerText) || squash(el.getAttribute('title'));
  return {
    name, text: squash(el.innerText), tag: el.tagName.toLowerCase(),
    kind: el.getAttribute('role') || el.getAttribute('type') || '',
  };
}"""


def focused(page: Page) -> Focused | None:
    found = page.evaluate(_FOCUSED)
    return Focused(**found) if found else None


def press_tab_until(
    page: Page, target: str | Callable[[Focused], bool], limit: int = 60
) -> Focused:
    """Press Tab until the focused element is the target: an accessible name or visible
    text (exact, whitespace squashed), or a predicate on Focused. Fails, listing where
    the focus went, if it is not reached in `limit` presses."""

    def matches(element: Focused) -> bool:
        if callable(target):
            return target(element)
        return target in (element.name, element.text)

    visited: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if element is not None and matches(element):
            return element
        visited.append(str(element) if element else "(no element: focus left the page)")
    pytest.fail(
        f"pressed Tab {limit} times on {page.url} without reaching {target!r}; the focus "
        "went through:\n  " + "\n  ".join(visited),
        pytrace=False,
    )
