"""The need-versus-provision page: a map of the areas coloured by need and provision,
and the table of areas where tasks were posted (need and no provision first), which
holds everything the map shows. Same service as the API."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext

from nyby.auth.permissions import Action
from nyby.core.errors import DomainError
from nyby.geo import AREA_RESOLUTION
from nyby.provision import services
from nyby.provision.schemas import NeedProvisionQuerySchema
from nyby.provision.services import MIN_RESOLUTION, NeedProvision, State
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import read_form
from nyby.web.views import web

STATE_NAMES = {
    State.UNSERVED: lazy_gettext("Need and no provision"),
    State.STRAINED: lazy_gettext("Some tasks unmet"),
    State.SERVED: lazy_gettext("Every task met"),
    State.PROVISION_ONLY: lazy_gettext("People on duty, no tasks"),
}
# Told apart by more than hue (the legend and the table say it in words too).
STATE_COLOURS = {
    State.UNSERVED: "#b42318",
    State.STRAINED: "#dc6803",
    State.SERVED: "#067647",
    State.PROVISION_ONLY: "#475467",
}
# The page lists at most this many areas; the API gives them all.
TABLE_ROWS = 500


def need_map(result: NeedProvision) -> dict[str, Any]:
    """What ``web/provision/_map.html`` shows: include it with ``need_map`` set to this
    (the dashboard does, from ``services.need_provision``)."""
    return {
        "geojson": services.as_geojson(result),
        "states": [
            {"key": key, "name": str(STATE_NAMES[key]), "colour": STATE_COLOURS[key]}
            for key in services.STATES
        ],
        "colours": STATE_COLOURS,
    }


@web.get("/t/<tenant>/need-provision")
def need_provision_page() -> Any:
    actor = current_actor()
    actor.require(Action.VIEW_NEED_PROVISION)
    query, form = read_form(NeedProvisionQuerySchema(), request.args, actor.tenant.timezone)
    result = None
    status = 200
    if query is not None:
        try:
            result = services.need_provision(actor, **query)
        except DomainError as error:
            form.refuse(error, fallback="role")
    if result is None:
        status = 422
    start, end = services.default_period(actor.tenant)
    with_need = [area for area in result.areas if area.posted] if result else []
    return render_template(
        "web/provision/page.html",
        form=form,
        result=result,
        need_map=need_map(result) if result else None,
        areas=with_need[:TABLE_ROWS],
        more=max(0, len(with_need) - TABLE_ROWS),
        roles=services.travelling_roles(),
        resolutions=[
            (r, services.across_km(r)) for r in range(AREA_RESOLUTION, MIN_RESOLUTION - 1, -1)
        ],
        default_resolution=services.settings(actor.tenant)["resolution"],
        default_from=start.isoformat(),
        default_to=end.isoformat(),
        state_names=STATE_NAMES,
    ), status
