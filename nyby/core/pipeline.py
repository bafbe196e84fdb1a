"""Every request, in one place: resolve -> authorise -> act -> commit once.

0. give the request its id (``core.origin``: logs and the audit trail carry it);
1. authenticate: bearer token (API) or session cookie (web pages);
2. resolve the tenant from the URL and the caller's membership in it;
3. a route that takes files may receive MAX_UPLOAD_BYTES (others MAX_REQUEST_BYTES);
   refuse text holding NUL characters, then claim the Idempotency-Key of a POST
   (or replay its first response);
4. the view: decorators plus one service call; services only flush;
5. commit when the response is a success, roll back otherwise.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, request

from nyby.auth.services import authenticate_request
from nyby.core import idempotency
from nyby.core.api import error_response
from nyby.core.db import db
from nyby.core.errors import PayloadTooLarge, Unauthorized, Unprocessable
from nyby.core.origin import init_origin
from nyby.tenancy.context import clear_request_scope
from nyby.tenancy.resolution import is_public, public, resolve_tenant, take_tenant_slug

__all__ = ["accepts_files", "init_pipeline", "public"]


def accepts_files(view_class: type) -> type:
    """Mark a MethodView whose POST takes a file: its body may be MAX_UPLOAD_BYTES."""
    view_class.nyby_accepts_files = True  # type: ignore[attr-defined]
    return view_class


# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def _allow_file_uploads() -> None:
    """Every other route keeps MAX_REQUEST_BYTES. Runs before anything reads the body."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(getattr(view, "view_class", view), "nyby_accepts_files", False):
        return
    limit = current_app.extensions["nyby.settings"].max_upload_bytes
    request.max_content_length = limit + MULTIPART_OVERHEAD
    if (request.content_length or 0) > request.max_content_length:
        # Said before a byte of it is read, in words rather than Werkzeug's.
        megabytes = limit / (1024 * 1024)
        raise PayloadTooLarge(f"Files may be at most {megabytes:g} MB.")


def _require_login_for_api() -> None:
    if g.get("account") is not None or not request.path.startswith("/api/"):
        return
    endpoint = request.endpoint or ""
    view = current_app.view_functions.get(endpoint)
    if view is None or endpoint.startswith("api-docs.") or endpoint == "swagger_assets":
        return
    if is_public(view):
        return
    raise Unauthorized(g.get("auth_problem"))


def _refuse_nul_characters() -> None:
    """No text may hold a NUL character: PostgreSQL cannot store one, and no person types it."""
    found = [f"query.{name}" for name, value in request.args.items() if "\x00" in value]
    found += [f"form.{name}" for name, value in request.form.items() if "\x00" in value]
    if request.is_json:
        found += _nul_paths(request.get_json(silent=True), "json")
    if found:
        raise Unprocessable(
            "Text may not contain NUL characters.",
            errors={path: ["Contains a NUL character."] for path in found},
        )


def _nul_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nul_paths(v, f"{path}.{k}")] + (
            [path] if any("\x00" in str(k) for k in value) else []
        )
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{path}.{i}")]
    return []


def _finish(response: Response) -> Response:
    keep = response.status_code < 400 or g.pop("keep_changes", False)
    if not keep:
        db.session.rollback()
        return response
    try:
        if response.status_code < 400:
            idempotency.remember(response)
        db.session.commit()
    except Exception as error:  # a conflict found only at commit time still gets a 4xx
        db.session.rollback()
        return error_response(error)
    return response


def init_pipeline(app: Flask) -> None:
    init_origin(app)
    app.url_value_preprocessor(take_tenant_slug)
    app.before_request(authenticate_request)
    app.before_request(_require_login_for_api)
    app.before_request(resolve_tenant)
    app.before_request(_allow_file_uploads)
    app.before_request(_refuse_nul_characters)
    app.before_request(idempotency.claim)
    app.after_request(_finish)
    app.teardown_request(lambda exc: clear_request_scope())
