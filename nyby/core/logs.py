"""What the application's logs may hold: ids, never a person's details.

- Every record carries ``request_id`` (``core.origin``), so a line can be followed to
  the audit trail instead of naming anyone.
- SQL errors never show their bound values: engines are made with
  ``hide_parameters=True`` (``core.db.make_engine``), so a failed INSERT of a client
  logs its statement, not the client's name.
- Access logs name the path, never the query string (a client's name searched for, a
  link's token): ``PathOnlyRequestHandler`` for ``nyby serve``, and
  ``access_log_format`` in ``infra/gunicorn.conf.py`` for production.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler

FORMAT = "%(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format=FORMAT)


class PathOnlyRequestHandler(WSGIRequestHandler):
    """The development server's access log without query strings."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        full: Any = getattr(self, "path", None)
        if full is None:  # a request line too broken to have a path: log nothing of it
            self.log("info", '"-" %s %s', code, size)
            return
        self.path = urlsplit(full).path
        try:
            super().log_request(code, size)
        finally:
            self.path = full
