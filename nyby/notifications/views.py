"""The web app's channel choices (a section of the alert settings page), this device's
Web Push subscription, and the admins' dead letters page. Same services as the API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.core.api import read_page
from nyby.notifications import channels, services
from nyby.notifications.schemas import (
    NotificationSettingsUpdateSchema,
    PushSubscriptionCreateSchema,
)
from nyby.tenancy.resolution import current_actor
from nyby.web.views import act, web


@web.post("/t/<tenant>/me/channels")
def save_channels() -> Response:
    """The channel checkboxes on the alert settings page."""
    actor = current_actor()
    try:
        body = NotificationSettingsUpdateSchema().load(
            {"offers": request.form.getlist("offers"), "updates": request.form.getlist("updates")}
        )
    except ma.ValidationError:
        flash(_("That did not work: choose email, text message or this device."), "error")
        return redirect(url_for("web.alert_settings"), 303)
    return act(
        lambda: channels.set_notification_settings(actor, body),
        _("Saved. We will reach you on the channels you chose."),
        url_for("web.alert_settings"),
    )


@web.post("/t/<tenant>/me/push-subscriptions")
def subscribe_device() -> Any:
    """nyby.js posts this device's PushSubscription here (JSON, X-CSRFToken header)."""
    actor = current_actor()
    try:
        body = PushSubscriptionCreateSchema().load(request.get_json(silent=True) or {})
    except ma.ValidationError as error:
        return jsonify(errors=error.messages), 422
    device = channels.add_push_subscription(actor, body)
    return jsonify(id=str(device.id)), 201


@web.get("/t/<tenant>/dead-letters")
def dead_letters() -> str:
    """Messages that failed every attempt (admins), each with "try again"."""
    letters, total = read_page(services.dead_letters(current_actor()), 0, 200)
    return render_template("web/notifications/dead_letters.html", letters=letters, total=total)


@web.post("/t/<tenant>/dead-letters/<uuid:message_id>/retry")
def retry_dead_letter(message_id: Any) -> Response:
    actor = current_actor()
    actor.require(Action.CHANGE_CONFIGURATION)
    return act(
        lambda: services.retry_dead_letter(actor, message_id),
        _("Trying again: it goes out in a moment."),
        url_for("web.dead_letters"),
    )
