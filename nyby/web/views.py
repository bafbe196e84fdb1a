from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from nyby.auth.permissions import Role
from nyby.auth.services import check_credentials
from nyby.core.errors import DomainError, TooManyRequests
from nyby.tenancy.resolution import NotLoggedIn, current_actor, memberships_of
from nyby.web import SUPPORTED_LOCALES, csrf

web = Blueprint("web", __name__, template_folder="../templates")


@web.before_request
def _protect() -> None:
    csrf.protect()


@web.errorhandler(NotLoggedIn)
def _to_login(error: NotLoggedIn) -> Response:
    return redirect(url_for("web.login", next=request.full_path.rstrip("?")))


@web.errorhandler(DomainError)
def _domain_error(error: DomainError) -> tuple[str, int]:
    return render_template("web/error.html", title=error.title, detail=error.detail), error.status


@web.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    if code >= 500:
        detail = _("Something went wrong on our side. It has been logged.")
    elif isinstance(error, CSRFError):
        detail = _("This form has expired. Go back, reload the page and try again.")
    else:
        detail = error.description or ""
    return render_template("web/error.html", title=error.name, detail=detail), code


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never an open redirect to another host.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("web.home")


@web.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error, status = None, 200
    if request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        try:
            account = check_credentials(email, password, request.remote_addr)
        except TooManyRequests:
            error, status = _("Too many failed attempts. Wait a minute and try again."), 429
        except DomainError:
            error, status = _("Wrong email or password."), 401
        else:
            session.clear()
            session["account_id"] = str(account.id)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    return render_template("web/login.html", error=error), status


@web.post("/logout")
def logout() -> Response:
    session.pop("account_id", None)
    return redirect(url_for("web.login"))


@web.post("/language")
def language() -> Response:
    chosen = request.form.get("locale")
    if chosen not in SUPPORTED_LOCALES:
        abort(400)
    session["locale"] = chosen
    return redirect(_safe_next(request.form.get("next")))


@web.get("/")
def home() -> Any:
    if g.get("account") is None:
        return redirect(url_for("web.login"))
    return render_template("web/home.html", memberships=memberships_of(g.account))


ROLE_LABELS = {
    Role.ADMIN: lazy_gettext("Administrator"),
    Role.COORDINATOR: lazy_gettext("Coordinator"),
    Role.PROFESSIONAL: lazy_gettext("Care professional"),
    Role.STAFF: lazy_gettext("Staff"),
    Role.VOLUNTEER: lazy_gettext("Volunteer"),
}


@web.get("/t/<tenant>/")
def tenant_home() -> str:
    actor = current_actor()
    return render_template(
        "web/tenant.html", actor=actor, tenant=actor.tenant, role_names=ROLE_LABELS
    )
