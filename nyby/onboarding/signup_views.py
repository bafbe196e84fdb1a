"""The web app's sign-up pages: join (public, or short when logged in), what happens
next, the email link and a guardian's consent. The same services as the API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from babel import Locale
from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from nyby.core.db import db
from nyby.core.errors import DomainError
from nyby.onboarding import signup
from nyby.onboarding.schemas import DAY_PARTS, DAYS, SignUpSchema
from nyby.tenancy.resolution import current_actor, public, public_tenant
from nyby.web.forms import Form, translate
from nyby.web.views import act, web

DAY_NAMES = {
    "mon": lazy_gettext("Monday"),
    "tue": lazy_gettext("Tuesday"),
    "wed": lazy_gettext("Wednesday"),
    "thu": lazy_gettext("Thursday"),
    "fri": lazy_gettext("Friday"),
    "sat": lazy_gettext("Saturday"),
    "sun": lazy_gettext("Sunday"),
}
PART_NAMES = {
    "morning": lazy_gettext("Morning"),
    "afternoon": lazy_gettext("Afternoon"),
    "evening": lazy_gettext("Evening"),
}
# Languages offered as checkboxes (others can be typed as codes): those most asked for
# by the demo tenants' residents.
COMMON_LANGUAGES = ("en", "nb", "pl", "ur", "pa", "bn", "ar", "so", "ti", "uk", "lt", "ro", "es")
# The schema's own words for the sign-up's fields, in the person's language.
MESSAGES = {
    "Not a valid date.": lazy_gettext("Enter a date."),
    "Not a valid email address.": lazy_gettext("Enter an email address such as name@example.org."),
    "Shorter than minimum length 10.": lazy_gettext("At least 10 characters."),
    "Choose at least one role.": lazy_gettext("Choose at least one role."),
    "You must accept the volunteer agreement.": lazy_gettext(
        "Tick the box to accept the volunteer agreement."
    ),
    "Enter a phone number.": lazy_gettext("Enter a phone number."),
    "Use a two-letter ISO 639-1 language code, such as 'pl'.": lazy_gettext(
        "Use a two-letter language code, such as pl for Polish."
    ),
}
# Nested fields shown as flat inputs on the page.
FLAT = {"home_area": "", "guardian": "guardian_"}


def _language_names() -> dict[str, str]:
    names = Locale.parse(str(get_locale())).languages
    return {code: names.get(code, code) for code in COMMON_LANGUAGES}


def _words(message: str) -> str:
    return str(MESSAGES[message]) if message in MESSAGES else translate(message)


def _show_errors(form: Form, messages: Any, field: str = "form") -> None:
    """Marshmallow's or a service's nested messages next to the page's flat fields."""
    if isinstance(messages, dict):
        for name, inner in messages.items():
            if field in FLAT and isinstance(name, str):
                target = FLAT[field] + name
            elif field == "form":
                target = str(name)
            else:
                target = field  # a list item's message belongs to the list
            _show_errors(form, inner, target)
        return
    for message in messages if isinstance(messages, list) else [messages]:
        if isinstance(message, dict | list):
            _show_errors(form, message, field)
        else:
            form.errors.setdefault(field, []).append(_words(str(message)))


def _body(data: MultiDict[str, str], known: bool) -> dict[str, Any]:
    """The page's fields as the API's body (the schema then checks it)."""
    body: dict[str, Any] = {
        "roles": data.getlist("roles"),
        "agree_to_agreement": "agree_to_agreement" in data,
    }
    texts = ("date_of_birth",) if known else ("name", "email", "phone", "date_of_birth")
    for name in texts:
        if value := data.get(name, "").strip():
            body[name] = value
    if not known:
        if password := data.get("password", ""):
            body["password"] = password
        body["availability"] = [
            {"day": day, "part": part}
            for value in data.getlist("availability")
            for day, _sep, part in [value.partition("-")]
        ]
        typed = [s.strip() for s in data.get("skills", "").split(",")]
        body["skills"] = [s for s in typed if s]
        other = [c.strip().lower() for c in data.get("other_languages", "").split(",")]
        body["languages"] = list(dict.fromkeys(data.getlist("languages") + [c for c in other if c]))
        area = {
            name: data.get(name, "").strip().replace(",", ".")
            for name in ("latitude", "longitude", "travel_radius_km")
        }
        if area["latitude"] or area["longitude"]:
            body["home_area"] = {k: v for k, v in area.items() if v}
        guardian = {name: data.get(f"guardian_{name}", "").strip() for name in ("name", "email")}
        if any(guardian.values()):
            body["guardian"] = guardian
    if campaign := data.get("campaign", "").strip():
        body["campaign"] = campaign
    return body


@web.route("/t/<tenant>/join", methods=["GET", "POST"])
@public
def join() -> Any:
    """Sign up as a volunteer: roles with what each requires, availability, home area
    and the agreement. A logged-in person only chooses roles and accepts the agreement."""
    tenant = public_tenant()
    account = g.get("account")
    if g.get("actor") is not None:
        flash(_("You are already a member here."), "success")
        return redirect(url_for("web.my_roles"), 303)
    key = request.values.get("campaign", "").strip() or None
    campaign, campaign_problem = signup.campaign_for_page(key, tenant)
    form, status = Form(), 200
    if request.method == "POST":
        form.values = {name: request.form.get(name, "") for name in request.form}
        form.values.pop("password", None)  # never sent back to the page
        chosen = {
            "roles": request.form.getlist("roles"),
            "availability": request.form.getlist("availability"),
            "languages": request.form.getlist("languages"),
        }
        known = account is not None
        try:
            body = SignUpSchema().load(_body(request.form, known))
            if campaign is None:
                body.pop("campaign", None)  # an ended campaign was shown; sign up without it
            signed = signup.sign_up(tenant, account, body, locale=str(get_locale()))
        except ma.ValidationError as error:
            _show_errors(form, error.normalized_messages())
        except DomainError as error:
            db.session.rollback()
            _show_errors(form, error.errors or {"form": [error.detail]})
        else:
            if not known:
                chosen_locale = session.get("locale")
                session.clear()
                session["account_id"] = str(signed.account.id)
                if chosen_locale:
                    session["locale"] = chosen_locale
                session.permanent = True
            return redirect(url_for("web.welcome"), 303)
        status = 422
    else:
        chosen = {"roles": [], "availability": [], "languages": []}
    return render_template(
        "web/onboarding/sign_up.html",
        form=form,
        chosen=chosen,
        known=account,
        campaign=campaign,
        campaign_problem=campaign_problem,
        campaign_key=key if campaign is not None else None,
        roles=signup.roles_open_for_sign_up(),
        days=DAYS,
        parts=DAY_PARTS,
        day_names=DAY_NAMES,
        part_names=PART_NAMES,
        languages=_language_names(),
    ), status


@web.get("/t/<tenant>/welcome")
def welcome() -> str:
    """What happens next, after signing up."""
    actor = current_actor()
    return render_template("web/onboarding/welcome.html", actor=actor)


@web.post("/t/<tenant>/welcome/resend")
def resend_verification() -> Response:
    actor = current_actor()
    return act(
        lambda: signup.resend_verification(actor),
        _("We sent the link again to %(email)s.", email=actor.account.email),
        url_for("web.welcome"),
    )


@web.get("/t/<tenant>/verify-email/<token>")
@public
def verify_email(token: str) -> tuple[str, int]:
    """The link mailed at sign-up. Opening it is its whole purpose, so a GET confirms;
    doing so twice changes nothing."""
    try:
        account = signup.verify_email(token)
    except DomainError as error:
        return render_template(
            "web/onboarding/verified.html", account=None, problem=error.detail
        ), error.status
    return render_template("web/onboarding/verified.html", account=account, problem=None), 200


@web.route("/t/<tenant>/guardian-consent/<token>", methods=["GET", "POST"])
@public
def guardian_consent(token: str) -> tuple[str, int]:
    """A parent's or guardian's page: the young person, their roles and the agreement,
    and a button to consent (a POST: a mail scanner opening the link consents to nothing)."""
    tenant = public_tenant()
    try:
        found = signup.consent_request(tenant, token)
    except DomainError as error:
        if error.status == 404:
            raise
        return render_template(
            "web/onboarding/guardian_consent.html", found=None, problem=error.detail
        ), error.status
    if request.method == "POST":
        signup.give_guardian_consent(tenant, token)
    return render_template("web/onboarding/guardian_consent.html", found=found, problem=None), 200
