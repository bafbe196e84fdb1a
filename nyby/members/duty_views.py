"""The web app's on-duty switch (on the home page and "Tasks near me") and the alert
settings page. The same services as the API (members.duty)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from babel import Locale
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale, lazy_gettext
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, DomainError
from nyby.members import duty
from nyby.members.schemas import QUIET_TIME_FORMAT, AlertSettingsUpdateSchema
from nyby.notifications import channels
from nyby.onboarding.schemas import DAY_PARTS, DAYS
from nyby.onboarding.signup_views import COMMON_LANGUAGES, DAY_NAMES, PART_NAMES
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form
from nyby.web.views import refusal, web


def _end_of_day(now: datetime, tz: ZoneInfo) -> datetime:
    return datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(0), tzinfo=tz)


# The switch's "until" choices: how long from now, in the tenant's zone.
UNTIL: dict[str, Callable[[datetime, ZoneInfo], datetime | None]] = {
    "": lambda now, tz: None,  # until I switch off
    "1h": lambda now, tz: now + timedelta(hours=1),
    "4h": lambda now, tz: now + timedelta(hours=4),
    "eod": _end_of_day,
}
UNTIL_NAMES = {
    "": lazy_gettext("Until I switch off"),
    "1h": lazy_gettext("For 1 hour"),
    "4h": lazy_gettext("For 4 hours"),
    "eod": lazy_gettext("Until the end of today"),
}
# Where the switch sends the person back to.
BACK = {"home": "web.tenant_home", "near": "web.tasks_near"}
# The schema's own words for this page's fields, in the person's language.
MESSAGES = {
    "Enter a time as HH:MM, such as 22:00.": lazy_gettext("Enter a time, such as 22:00."),
    "Give both the start and the end of quiet hours.": lazy_gettext(
        "Give both the start and the end of quiet hours."
    ),
    "Quiet hours must end at another time.": lazy_gettext("Quiet hours must end at another time."),
    "Use a two-letter ISO 639-1 language code, such as 'pl'.": lazy_gettext(
        "Use a two-letter language code, such as pl for Polish."
    ),
}


@web.context_processor
def _duty_switch() -> dict[str, Any]:
    # Called only by the pages that show the switch, so others pay nothing for it.
    return {"duty_switch": lambda: duty.duty_state(current_actor()), "until_names": UNTIL_NAMES}


@web.post("/t/<tenant>/me/duty")
def switch_duty() -> Response:
    """Go on duty (for a while, or until switched off) or off duty, then back."""
    actor = current_actor()
    going_on = request.form.get("on_duty") == "on"
    choice = request.form.get("until", "")
    if choice not in UNTIL:
        abort(400)
    tz = ZoneInfo(actor.tenant.timezone)
    until = UNTIL[choice](utcnow(), tz) if going_on else None
    try:
        duty.set_duty(actor, going_on, until)
    except DomainError as error:
        db.session.rollback()
        if error.errors and "on_duty" in error.errors:
            flash(_("Set your home area first: offers of tasks are measured from it."), "error")
        else:
            flash(refusal(error), "error")
    else:
        if not going_on:
            flash(_("You are off duty. We will not offer you tasks."), "success")
        elif until is None:
            flash(_("You are on duty until you switch off."), "success")
        else:
            moment = format_datetime(until, "EEE d MMM, HH:mm")
            flash(_("You are on duty until %(time)s.", time=moment), "success")
    return redirect(url_for(BACK.get(request.form.get("back", ""), "web.tenant_home")), 303)


def _language_names() -> dict[str, str]:
    names = Locale.parse(str(get_locale())).languages
    return {code: names.get(code, code) for code in COMMON_LANGUAGES}


def _shown(settings: dict[str, Any]) -> Form:
    """The saved settings as the page's fields."""
    clock = {
        name: "" if settings[name] is None else settings[name].strftime(QUIET_TIME_FORMAT)
        for name in ("quiet_hours_start", "quiet_hours_end")
    }
    limit = settings["max_alerts_per_day"]
    languages = settings["languages"]
    return Form(
        values={
            "max_alerts_per_day": "" if limit is None else str(limit),
            **clock,
            "other_languages": ", ".join(c for c in languages if c not in COMMON_LANGUAGES),
        },
        lists={
            "preferred_roles": settings["preferred_roles"],
            "availability": [f"{w['day']}-{w['part']}" for w in settings["availability"]],
            "languages": languages,
        },
    )


def _body(form: Any) -> dict[str, Any]:
    """The page's fields as the API's body (the schema then checks it)."""
    body: dict[str, Any] = {}
    limit = form.get("max_alerts_per_day", "").strip()
    if limit:
        body["max_alerts_per_day"] = int(limit) if limit.isdigit() else limit
    for name in ("quiet_hours_start", "quiet_hours_end"):
        if value := form.get(name, "").strip():
            body[name] = value[:5]  # some browsers add seconds
    body["preferred_roles"] = form.getlist("preferred_roles")
    body["availability"] = [
        {"day": day, "part": part}
        for value in form.getlist("availability")
        for day, _sep, part in [value.partition("-")]
    ]
    typed = [c.strip().lower() for c in form.get("other_languages", "").split(",")]
    body["languages"] = list(dict.fromkeys(form.getlist("languages") + [c for c in typed if c]))
    return body


def _in_words(form: Form) -> None:
    for name, messages in form.errors.items():
        form.errors[name] = [str(MESSAGES.get(m, m)) for m in messages]


@web.route("/t/<tenant>/me/alerts", methods=["GET", "POST"])
def alert_settings() -> Any:
    """How many offers a day, quiet hours, roles first, when I can help, my languages."""
    actor = current_actor()
    actor.require(Action.TAKE_TASKS)
    status = 200
    if request.method == "POST":
        form = Form(
            values={name: request.form.get(name, "") for name in request.form},
            lists={name: request.form.getlist(name) for name in request.form},
        )
        version = request.form.get("version", "")
        try:
            settings = AlertSettingsUpdateSchema().load(_body(request.form))
            duty.set_alert_settings(actor, settings, int(version) if version.isdigit() else None)
        except ma.ValidationError as error:
            form.refuse(error)
            _in_words(form)
            status = 422
        except (Conflict, StaleDataError):
            db.session.rollback()
            form = _shown(duty.alert_settings(actor))
            form.errors["form"] = [
                _(
                    "Your settings were changed on another device since you opened this "
                    "page. This is what is saved now: make your change again."
                )
            ]
            status = 409
        except DomainError as error:
            db.session.rollback()
            form.refuse(error)
            status = error.status
        else:
            flash(_("Saved. Offers of tasks follow these settings."), "success")
            return redirect(url_for("web.alert_settings"), 303)
    else:
        form = _shown(duty.alert_settings(actor))
    posted = request.form.get("version", "")
    return render_template(
        "web/members/alerts.html",
        form=form,
        # A refused form keeps the version it was read at, so a later save still checks it.
        version=posted if status == 422 and posted.isdigit() else actor.membership.version_id,
        tenant_limit=duty.tenant_alert_limit(actor.tenant.dispatch_policy or {}),
        roles=duty.preferable_roles(actor),
        days=DAYS,
        parts=DAY_PARTS,
        day_names=DAY_NAMES,
        part_names=PART_NAMES,
        languages=_language_names(),
        channel_settings=channels.notification_settings(actor),
    ), status
