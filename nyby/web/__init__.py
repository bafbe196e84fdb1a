"""The server-rendered web app: session cookie + CSRF, English and Norwegian."""

from __future__ import annotations

from flask import Flask, g, request, session
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect

from nyby.clients.needs import need_phrases

SUPPORTED_LOCALES = ("en", "nb")

csrf = CSRFProtect()


def select_locale() -> str:
    """The person's choice, else their tenant's language, else the browser's."""
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    account = g.get("account")
    if account is not None and account.locale in SUPPORTED_LOCALES:
        return str(account.locale)
    tenant = g.get("tenant")  # set on every tenant URL, public pages included
    if tenant is not None and tenant.locale in SUPPORTED_LOCALES:
        return str(tenant.locale)
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or "en"


def select_timezone() -> str | None:
    """Times are shown in the tenant's zone (its people live there)."""
    tenant = g.get("tenant")
    return str(tenant.timezone) if tenant is not None else None


def init_web(app: Flask) -> None:
    # Each domain adds its pages to the one web blueprint (its views.py).
    import nyby.audit.views
    import nyby.campaigns.views
    import nyby.chat.views
    import nyby.clients.views
    import nyby.configuration.views
    import nyby.dispatch.views
    import nyby.escalations.views
    import nyby.expenses.views
    import nyby.exports.views
    import nyby.feedback.views
    import nyby.members.duty_views
    import nyby.members.invitation_views
    import nyby.members.views
    import nyby.notifications.views
    import nyby.onboarding.passport_views
    import nyby.onboarding.signup_views
    import nyby.onboarding.views
    import nyby.provision.views
    import nyby.recognition.views
    import nyby.reporting.views
    import nyby.safeguarding.views
    import nyby.tasks.views  # noqa: F401
    from nyby.web.views import web

    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["need_phrases"] = need_phrases
    # Only the web pages use cookies, so only they are CSRF-checked (in their
    # blueprint); the API authenticates with bearer tokens.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.register_blueprint(web)
