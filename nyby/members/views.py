"""The web app's people pages: my home area, and the tenant's volunteers for
coordinators. The same services as the API."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from nyby.auth.permissions import Role
from nyby.core.api import read_page
from nyby.members import services
from nyby.members.schemas import HomeAreaUpdateSchema
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form, read_form
from nyby.web.views import ROLE_LABELS, web


@web.route("/t/<tenant>/settings", methods=["GET", "POST"])
def settings() -> Any:
    """Where I start from and how far I will go: "tasks near me" measures from here."""
    actor = current_actor()
    member = actor.membership
    form, status = Form(), 200
    if request.method == "POST":
        area, form = read_form(HomeAreaUpdateSchema(), request.form, actor.tenant.timezone)
        if area is not None:
            services.set_home_area(actor, area)
            flash(_("Saved. Tasks near me now start from here."), "success")
            return redirect(url_for("web.settings"), 303)
        status = 422
    else:
        form.values = {
            "latitude": "" if member.home_latitude is None else str(member.home_latitude),
            "longitude": "" if member.home_longitude is None else str(member.home_longitude),
            "travel_radius_km": ""
            if member.travel_radius_km is None
            else f"{member.travel_radius_km:g}",
        }
    return render_template("web/members/settings.html", form=form), status


@web.get("/t/<tenant>/volunteers")
def volunteers() -> str:
    """The tenant's volunteers, for coordinators: each links to their roles and checks."""
    actor = current_actor()
    rows, total = read_page(services.list_members(actor, role=Role.VOLUNTEER.value), 0, 500)
    return render_template(
        "web/members/volunteers.html", members=rows, total=total, role_names=ROLE_LABELS
    )
