from __future__ import annotations

from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.provision import services
from nyby.provision.schemas import (
    FeatureCollectionSchema,
    NeedProvisionQuerySchema,
    NeedProvisionTableSchema,
)
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "provision",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Need versus provision: tasks posted and unmet by area, against the "
    "people on duty who could take them.",
)


@blp.route("/need-provision")
class NeedProvisionMap(MethodView):
    @allowed_to(Action.VIEW_NEED_PROVISION)
    @blp.arguments(NeedProvisionQuerySchema, location="query")
    @blp.response(200, FeatureCollectionSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """A GeoJSON FeatureCollection (RFC 7946): one H3 cell polygon per area with
        tasks posted in the period or people on duty, with the figures as properties,
        need and no provision first. Admins and coordinators."""
        return services.as_geojson(services.need_provision(current_actor(), **query))


@blp.route("/need-provision/areas")
class NeedProvisionTable(MethodView):
    @allowed_to(Action.VIEW_NEED_PROVISION)
    @blp.arguments(NeedProvisionQuerySchema, location="query")
    @blp.response(200, NeedProvisionTableSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The same figures as a table of the areas where tasks were posted: need and no
        provision first, then the most unmet. Admins and coordinators."""
        result = services.need_provision(current_actor(), **query)
        return services.as_table(result, need_only=True)
