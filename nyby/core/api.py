"""The API conventions, applied once: problem details, pagination, ETags.

Resources import ``Blueprint`` from here, never from flask-smorest directly.
"""

from __future__ import annotations

import http
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

import flask_smorest
import marshmallow as ma
import swagger_ui_bundle
from flask import Flask, Response, g, request, send_from_directory
from flask_smorest.pagination import PaginationParameters
from flask_smorest.utils import unpack_tuple_response
from sqlalchemy import Select, func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException

from nyby.core import idempotency
from nyby.core.db import db
from nyby.core.errors import DomainError
from nyby.tenancy.context import CrossTenantWrite

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
MAX_PAGE = 100_000
# RFC 9110: "*" or a list of (weak) entity tags.
ETAG_LIST = re.compile(r'\*|(W/)?"[!#-~]*"(, ?(W/)?"[!#-~]*")*')


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details: the one error shape of the API."""

    type = ma.fields.String(metadata={"example": "about:blank"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.Dict(metadata={"description": "Field messages for invalid input"})


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    # With type "about:blank" the title is the HTTP status phrase (RFC 9457 4.2.1);
    # what happened, in words a person can act on, goes in "detail".
    title = http.HTTPStatus(status).phrase
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail or title
    body["instance"] = request.path
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: BaseException) -> Response:
    """Map any exception to its problem response; unknown ones leak nothing."""
    if isinstance(error, DomainError):
        if getattr(error, "keeps_changes", False):
            g.keep_changes = True
        headers = {}
        if getattr(error, "retry_after", None):
            headers["Retry-After"] = str(error.retry_after)  # type: ignore[attr-defined]
        return problem(error.status, error.detail, errors=error.errors, headers=headers)
    if isinstance(error, StaleDataError):
        return problem(412, "Someone else changed this record first; reload it and try again.")
    if isinstance(error, IntegrityError):
        return problem(409, "This conflicts with data that already exists.")
    if isinstance(error, DataError):
        # A safety net: validation should have caught it, but it is still bad input.
        # The driver's message may quote the value itself (a client's details): the
        # SQLSTATE and the error's kind say enough to find the bug.
        log.warning(
            "database refused a value: %s (SQLSTATE %s)",
            type(error.orig).__name__,
            getattr(error.orig, "sqlstate", None) or "-",
        )
        return problem(422, "A value could not be stored as given.")
    if isinstance(error, CrossTenantWrite):
        log.error("cross-tenant write refused: %s", error)
        return problem(404)
    if isinstance(error, HTTPException):
        return _http_problem(error)
    log.exception("unhandled error", exc_info=error)
    return problem(500, "Something went wrong on our side. It has been logged.")


def _http_problem(error: HTTPException) -> Response:
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    headers = dict(data.get("headers") or {})
    detail: str | None
    if code >= 500:
        detail = "Something went wrong on our side. It has been logged."
    elif errors:
        # webargs nests field messages by location ("json", "query"): kept in "errors".
        detail = "The request has invalid fields."
    else:
        detail = data.get("message") or error.description
    if code == 405 and error.get_headers():
        headers.update(dict(error.get_headers()))
        headers.pop("Content-Type", None)
    return problem(code, detail, errors=errors, headers=headers)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        return _http_problem(error)

    def _register_error_handlers(self) -> None:
        super()._register_error_handlers()
        for kind in (DomainError, StaleDataError, IntegrityError, DataError, CrossTenantWrite):
            self._app.register_error_handler(kind, error_response)

    def _register_etag_headers(self) -> None:
        super()._register_etag_headers()
        # An empty If-Match is no precondition at all (428), so document it non-empty.
        self.spec.components.parameter(
            "IF_MATCH",
            "header",
            {
                "name": "If-Match",
                "required": True,
                "description": "The ETag of the record as last read",
                "schema": {"type": "string", "pattern": f"^({ETAG_LIST.pattern})$"},
            },
            lazy=True,
        )

    def _register_pagination_header(self) -> None:
        # The header carries JSON text; OpenAPI's "simple" header style cannot say
        # "an object serialised as JSON", so it is documented as a string.
        self.spec.components.header(
            "PAGINATION",
            {
                "description": "Pagination metadata as JSON: total, total_pages, first_page, "
                "last_page, page, previous_page, next_page",
                "schema": {"type": "string"},
            },
            lazy=True,
        )

    def _register_responses(self) -> None:
        # Same lazily registered error responses as the library, in problem+json.
        default: str = self.DEFAULT_RESPONSE_CONTENT_TYPE  # type: ignore[has-type]
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = default


@dataclass(frozen=True)
class Rows:
    """A query whose rows need more than the entity to show (a task with its
    distance, say): paged in SQL like any ``select()``, then the page is rendered
    at once (so a renderer can load what the page needs in one query)."""

    statement: Select[Any]
    render: Callable[[Sequence[Any]], list[Any]]
    # Optional: ``read(offset, limit)`` gives the page's rows (as ``statement`` gives
    # them, for ``render``) and the total, for a listing that can find them more cheaply
    # than a window count over every row of ``statement`` (browsing near me).
    read: Callable[[int, int], tuple[Sequence[Any], int]] | None = None


def read_page(
    result: Select[Any] | Rows | list[Any], offset: int, limit: int
) -> tuple[list[Any], int]:
    """A page of a listing and the total it is a page of, in one query: the total is a
    window count over the same rows the page is cut from, so the matching rows are read
    once, not once for COUNT and again for the page. Past the last page there is no row
    to carry the total, so it is counted apart."""
    if isinstance(result, list):
        return result[offset : offset + limit], len(result)
    if isinstance(result, Rows) and result.read is not None:
        page, total = result.read(offset, limit)
        return result.render(page), total
    statement = result.statement if isinstance(result, Rows) else result
    counted = statement.add_columns(func.count().over().label("total_rows"))
    rows = db.session.execute(counted.limit(limit).offset(offset)).all()
    if rows:
        total = rows[0].total_rows
    elif offset:
        counting = select(func.count()).select_from(statement.order_by(None).subquery())
        total = db.session.scalar(counting) or 0
    else:
        total = 0
    if isinstance(result, Rows):
        return result.render(rows), total
    return [row[0] for row in rows], total


class PaginationSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    page_size = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))

    @ma.post_load
    def make_paginator(self, data: dict[str, int], **kwargs: Any) -> PaginationParameters:
        return PaginationParameters(**data)


class _ArgumentsParser(FlaskParser):
    """webargs' parser, plus ``upload``: a multipart form's fields and files in one schema
    (a file with a note beside it), or a JSON body when only fields are sent."""

    __location_map__ = {**FlaskParser.__location_map__, "upload": "load_upload"}

    def load_upload(self, req: Any, schema: ma.Schema) -> Any:
        if req.is_json:
            return self.load_json(req, schema)
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _ArgumentsParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "upload": "multipart/form-data",
    }

    def _check_precondition(self) -> None:
        # A malformed If-Match is a bad request, not "no precondition given".
        header = request.headers.get("If-Match")
        if request.method in self.METHODS_NEEDING_CHECK_ETAG and header is not None:
            if not ETAG_LIST.fullmatch(header.strip()):
                flask_smorest.abort(400, message="If-Match must be an ETag from a response.")
        super()._check_precondition()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_idempotency_doc)

    def _prepare_idempotency_doc(
        self, doc: dict[str, Any], doc_info: dict[str, Any], *, method: str, **kwargs: Any
    ) -> dict[str, Any]:
        if method == "post" and "<tenant>" in (self.url_prefix or ""):
            doc.setdefault("parameters", []).append(idempotency.describe_header())
        return doc

    def paginate(self, pager: Any = None, **kwargs: Any) -> Callable[..., Any]:  # type: ignore[override]
        """Page the ``select()``, ``Rows`` or list the view returns (``read_page``).

        Page numbers are bounded, so ``page=2**63`` is a clear 422, not an
        integer overflow in the database driver.
        """
        schema = PaginationSchema

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(view)
            def wrapper(*args: Any, **kw: Any) -> Any:
                params = self.PAGINATION_ARGUMENTS_PARSER.parse(schema, request, location="query")
                result, status, headers = unpack_tuple_response(view(*args, **kw))
                offset = (params.page - 1) * params.page_size
                rows, params.item_count = read_page(result, offset, params.page_size)
                rows, headers = self._set_pagination_metadata(params, rows, headers)
                return rows, status, headers

            wrapper._apidoc = dict(getattr(wrapper, "_apidoc", {}))  # type: ignore[attr-defined]
            wrapper._apidoc["pagination"] = {  # type: ignore[attr-defined]
                "parameters": {"in": "query", "schema": schema},
                "response": {422: http.HTTPStatus(422).name},
            }
            return wrapper

        return decorator


def init_api(app: Flask) -> Api:
    app.config.update(
        API_TITLE="nyby",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Served from the installed package: the docs page works offline.
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/",
    )
    api = Api(
        app,
        spec_kwargs={
            "info": {
                "description": "Health and social care task sharing. Errors are RFC 9457 "
                "problem details; lists are paginated (X-Pagination header); updates need "
                "If-Match; creating POSTs accept an Idempotency-Key header."
            },
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}]
    assets = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/api/v1/docs/assets/<path:filename>")
    def swagger_assets(filename: str) -> Response:
        return send_from_directory(assets, filename, max_age=86400)

    return api
