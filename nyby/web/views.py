from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action, Role
from nyby.auth.services import check_credentials, choose_language
from nyby.core.db import db
from nyby.core.errors import DomainError, NotFound, TooManyRequests
from nyby.tenancy.resolution import NotLoggedIn, memberships_of
from nyby.web import SUPPORTED_LOCALES, csrf

web = Blueprint("web", __name__, template_folder="../templates")


@web.before_request
def _protect() -> None:
    csrf.protect()


@web.url_defaults
def _this_tenant(endpoint: str, values: dict[str, Any]) -> None:
    """Links between a tenant's pages stay in that tenant without saying so each time."""
    tenant = g.get("tenant")  # every tenant URL, public pages included
    if (
        tenant is not None
        and "tenant" not in values
        and current_app.url_map.is_endpoint_expecting(endpoint, "tenant")
    ):
        values["tenant"] = tenant.slug


@web.context_processor
def _navigation() -> dict[str, Any]:
    """The tenant's menu, as the caller's roles allow."""
    actor = g.get("actor")
    if actor is None:  # logged out, or a public page of a tenant (sign-up, a campaign)
        return {"tenant": g.get("tenant"), "menu": []}
    menu = [("web.tenant_home", _("Home"))]
    if actor.can(Action.TAKE_TASKS):
        menu += [
            ("web.tasks_near", _("Tasks near me")),
            ("web.offers", _("Offers")),
            ("web.street_groups", _("Street groups")),
            ("web.my_tasks", _("My tasks")),
            ("web.my_roles", _("My roles and checks")),
            ("web.settings", _("My home area")),
            ("web.alert_settings", _("Alert settings")),
            ("web.my_badges", _("My badges")),
            ("web.my_record", _("My activity record")),
        ]
    if actor.can(Action.VIEW_CLIENTS):
        menu += [("web.clients", _("Clients"))]
    if actor.can(Action.VIEW_ALL_TASKS):
        menu += [("web.all_tasks", _("Tasks"))]
    if actor.can(Action.HANDLE_ESCALATIONS):
        menu += [("web.escalations", _("Escalations"))]
    if actor.can(Action.DECIDE_EXPENSES) or actor.can(Action.CLAIM_EXPENSES):
        menu += [("web.expenses", _("Expenses"))]
    if actor.membership.is_safeguarding_lead:
        menu += [("web.concerns", _("Safeguarding concerns"))]
    if actor.can(Action.VERIFY_VOLUNTEERS):
        menu += [("web.waiting", _("Waiting for approval"))]
    if actor.can(Action.VIEW_REPORTS):
        menu += [("web.dashboard", _("Dashboard"))]
    if actor.can(Action.VIEW_MEMBERS):
        menu += [("web.volunteers", _("Volunteers"))]
    if actor.can(Action.VIEW_MEMBERS) or actor.can(Action.VERIFY_VOLUNTEERS):
        menu += [("web.campaigns", _("Campaigns"))]
    if actor.can(Action.VIEW_NEED_PROVISION):
        menu += [("web.need_provision_page", _("Need and provision"))]
    if actor.can(Action.CHANGE_MEMBERS):
        menu += [("web.invitations_page", _("Invite staff"))]
    if actor.can(Action.CHANGE_CONFIGURATION):
        menu += [("web.dead_letters", _("Undelivered messages"))]
    if actor.can(Action.VIEW_AUDIT):
        menu += [("web.audit_trail", _("Audit trail"))]
    if actor.can(Action.EXPORT_DATA):
        menu += [("web.exports", _("Exports"))]
    from nyby.chat.views import unread_count

    unread = unread_count(actor)
    messages = _("Messages (%(count)s unread)", count=unread) if unread else _("Messages")
    menu += [
        ("web.unread_chats", messages),
        ("web.roles", _("Roles and checks")),
        ("web.help_page", _("Help")),
    ]
    return {"tenant": actor.tenant, "menu": menu, "actor": actor}


# What a refusal means, in the person's words; the service's detail follows it.
REFUSALS = {
    403: lazy_gettext("You cannot do this yet."),
    404: lazy_gettext("It is no longer there."),
    409: lazy_gettext("Someone got there first, or it has moved on."),
    422: lazy_gettext("That did not work."),
}


def refusal(error: DomainError) -> str:
    headline = REFUSALS.get(error.status, lazy_gettext("That did not work."))
    return f"{headline} {error.detail}"


def act(call: Callable[[], Any], done: str, then: str) -> Response:
    """A button's POST: one service call, then back to a page (post/redirect/get) with
    a message saying what happened; a refusal changes nothing."""
    try:
        call()
    except NotFound:
        raise  # no such thing here (or another tenant's): the same 404 page as anywhere
    except DomainError as error:
        db.session.rollback()
        flash(refusal(error), "error")
    else:
        flash(done, "success")
    return redirect(then, 303)


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
            chosen = session.get("locale")  # a language picked before logging in stays
            session.clear()
            session["account_id"] = str(account.id)
            if chosen:
                session["locale"] = chosen
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
    if g.get("account") is not None:
        choose_language(g.account, chosen)
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


@web.get("/t/<tenant>/help")
def help_page() -> str:
    """What each part of the app is for, for the caller's roles."""
    return render_template("web/help.html")


@web.get("/manifest.webmanifest")
@web.get("/t/<tenant>/manifest.webmanifest")
def manifest() -> Response:
    """Installable as an app (PWA); on a tenant's pages, named and coloured as the
    tenant, and opening at its home page."""
    actor = g.get("actor")
    name = actor.tenant.name if actor is not None else "nyby"
    colour = (actor.tenant.branding.get("primary_colour") if actor else None) or "#1d5c96"
    body = {
        "name": name,
        "short_name": name[:12],
        "start_url": url_for("web.tenant_home") if actor is not None else url_for("web.home"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": colour,
        "icons": [
            {"src": url_for("static", filename="icon.svg"), "sizes": "any", "type": "image/svg+xml"}
        ],
    }
    return current_app.response_class(json.dumps(body), mimetype="application/manifest+json")


@web.get("/sw.js")
def service_worker() -> Response:
    """Served from the root so that it may look after every page of the app."""
    response = send_from_directory(current_app.static_folder or "", "sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    return response


# Front-end packages come from the npm registry (package.json) and are served from here.
VENDOR = Path(__file__).resolve().parents[2] / "node_modules"
VENDORED = {"leaflet": VENDOR / "leaflet" / "dist"}


@web.get("/vendor/<package>/<path:name>")
def vendor(package: str, name: str) -> Response:
    if package not in VENDORED:
        abort(404)
    return send_from_directory(VENDORED[package], name, max_age=86400)


@web.get("/t/<tenant>/")
def tenant_home() -> str:
    return render_template("web/tenant.html", role_names=ROLE_LABELS)
