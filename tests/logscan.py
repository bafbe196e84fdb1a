"""A scan of everything the application logged during a test, for people's details.

Registered as a plugin in conftest.py, so any test can ask for ``log_scan``:

    def test_something(client, log_scan):
        edith = ...  # create a client, run the flow
        log_scan.assert_free_of(*client_details(edith))

The fixture captures every record of every logger from the start of the test (INFO and
up, with tracebacks; SQLAlchemy's statements too, whose bound values the engine hides),
the in-process job thread's included, formatted as a log file would hold them.
``client_details`` gives what must never appear: a client's name (and each longer part
of it), address, postcode, email and phone number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from nyby.core.logs import FORMAT

# Loggers set to INFO for the capture (their parents may be quieter): the app's own,
# the SQL statements, the development server's access log, the job queue's.
LOUDER = ("nyby", "sqlalchemy.engine", "werkzeug", "rq")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(logging.Formatter(FORMAT))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted is still scanned, raw
            self.lines.append(f"{record.msg!r} {record.args!r}")


class LogScan:
    """What was logged so far, and the check that no given detail is in it."""

    def __init__(self, capture: _Capture) -> None:
        self._capture = capture

    @property
    def lines(self) -> list[str]:
        return list(self._capture.lines)

    def found(self, *details: str) -> list[tuple[str, str]]:
        """(detail, line) for every detail that occurs in a line (case-insensitive)."""
        wanted = [d for d in details if d and d.strip()]
        return [
            (detail, line)
            for line in self._capture.lines
            for detail in wanted
            if detail.lower() in line.lower()
        ]

    def assert_free_of(self, *details: str) -> None:
        hits = self.found(*details)
        assert not hits, "personal details in the logs:\n" + "\n".join(
            f"  {detail!r} in: {line[:300]}" for detail, line in hits
        )


def client_details(client: Mapping[str, Any] | Any) -> list[str]:
    """What identifies a client, from the API's representation or a ``Client`` row."""

    def get(name: str) -> Any:
        return client.get(name) if isinstance(client, Mapping) else getattr(client, name, None)

    name = get("name") or ""
    # The whole name, and each part long enough not to be an everyday word.
    parts = [part for part in name.replace(",", " ").split() if len(part) >= 4]
    return [
        value
        for value in (name, *parts, get("address"), get("postcode"), get("email"), get("phone"))
        if isinstance(value, str) and value.strip()
    ]


@pytest.fixture
def log_scan() -> Iterator[LogScan]:
    capture = _Capture()
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in LOUDER)]
    levels = [logger.level for logger in loggers]
    root.addHandler(capture)
    for logger in loggers:
        logger.setLevel(logging.INFO)
    try:
        yield LogScan(capture)
    finally:
        root.removeHandler(capture)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
