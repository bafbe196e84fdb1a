from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.configuration import services
from nyby.configuration.access import get_configuration, get_role_or_404
from nyby.configuration.models import VolunteerRole
from nyby.configuration.schemas import (
    CategorySchema,
    CheckTypeSchema,
    ConfigurationSchema,
    RoleCreateSchema,
    RoleSchema,
    RoleUpdateSchema,
    TeamSchema,
    TenantFileSchema,
)
from nyby.core.api import Blueprint
from nyby.core.db import db
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "configuration",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="The tenant's configuration: volunteer roles, check types, categories, teams.",
)


class RoleQuerySchema(ma.Schema):
    include_inactive = ma.fields.Boolean(load_default=False)


class PlanSchema(ma.Schema):
    changes = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"example": ["~ role shopping: name 'Shopping' -> 'Food shopping'"]},
    )


@blp.route("/configuration")
class Configuration(MethodView):
    @blp.etag
    @blp.response(200, ConfigurationSchema)
    def get(self) -> dict[str, Any]:
        """The whole configuration, in the shape of the tenant's YAML file."""
        return services.export(db.session(), get_configuration(current_actor()))

    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.etag
    @blp.arguments(TenantFileSchema)
    @blp.response(200, ConfigurationSchema)
    def put(self, document: dict[str, Any]) -> dict[str, Any]:
        """Replace the configuration (admins), exactly as `nyby tenants apply` would."""
        tenant = get_configuration(current_actor(), Action.CHANGE_CONFIGURATION)
        blp.check_etag(services.export(db.session(), tenant), ConfigurationSchema)
        services.replace(db.session(), tenant, document)
        return services.export(db.session(), tenant)


@blp.route("/configuration/plan")
class ConfigurationPlan(MethodView):
    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.arguments(TenantFileSchema)
    @blp.response(200, PlanSchema)
    def post(self, document: dict[str, Any]) -> dict[str, Any]:
        """What a PUT of this document would change (admins); nothing is written."""
        tenant = get_configuration(current_actor(), Action.CHANGE_CONFIGURATION)
        changes = services.plan(db.session(), document, tenant=tenant)
        return {"changes": [str(change) for change in changes]}


@blp.route("/roles")
class RoleList(MethodView):
    @blp.arguments(RoleQuerySchema, location="query")
    @blp.response(200, RoleSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """Volunteer roles, in the tenant's order, with the checks each needs."""
        return services.list_roles(get_configuration(current_actor()), **query)

    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.arguments(RoleCreateSchema)
    @blp.response(201, RoleSchema)
    @blp.alt_response(409, description="A role with this key exists")
    def post(self, data: dict[str, Any]) -> VolunteerRole:
        """Add a volunteer role (admins)."""
        tenant = get_configuration(current_actor(), Action.CHANGE_CONFIGURATION)
        return services.create_role(db.session(), tenant, data)


@blp.route("/roles/<uuid:role_id>")
class RoleDetail(MethodView):
    @blp.etag
    @blp.response(200, RoleSchema)
    def get(self, role_id: uuid.UUID) -> VolunteerRole:
        return get_role_or_404(current_actor(), role_id)

    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.etag
    @blp.arguments(RoleUpdateSchema, required=False)
    @blp.response(200, RoleSchema)
    def patch(self, data: dict[str, Any], role_id: uuid.UUID) -> VolunteerRole:
        """Change a role (admins); only the fields given change.

        Roles are never deleted (tasks refer to them): send `is_active: false`.
        """
        role = get_role_or_404(current_actor(), role_id, Action.CHANGE_CONFIGURATION)
        blp.check_etag(role, RoleSchema)
        return services.update_role(db.session(), role, data)


@blp.route("/check-types")
class CheckTypeList(MethodView):
    @blp.response(200, CheckTypeSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """The checks this tenant asks for (ID, DBS, driving licence, training...)."""
        return services.list_check_types(get_configuration(current_actor()))


@blp.route("/categories")
class CategoryList(MethodView):
    @blp.response(200, CategorySchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """Task categories."""
        return services.list_categories(get_configuration(current_actor()))


@blp.route("/teams")
class TeamList(MethodView):
    @blp.response(200, TeamSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """The tenant's teams. A role may be posted only by some of them (`posted_by_teams`)."""
        return services.list_teams(get_configuration(current_actor()))
