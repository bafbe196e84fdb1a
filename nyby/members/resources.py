from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.members import services
from nyby.members.access import get_member_or_404
from nyby.members.models import Membership
from nyby.members.schemas import (
    HomeAreaSchema,
    HomeAreaUpdateSchema,
    MemberCreateSchema,
    MemberQuerySchema,
    MemberSchema,
    MemberUpdateSchema,
    TenantSchema,
)
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "members",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="A tenant and the people who belong to it.",
)


@blp.route("")
class TenantView(MethodView):
    @blp.response(200, TenantSchema)
    def get(self) -> dict[str, Any]:
        """The tenant, as the caller sees it."""
        actor = current_actor()
        tenant = actor.tenant
        return {
            "id": tenant.id,
            "slug": tenant.slug,
            "name": tenant.name,
            "kind": tenant.kind,
            "locale": tenant.locale,
            "timezone": tenant.timezone,
            "branding": tenant.branding,
            "my_roles": sorted(r.value for r in actor.roles),
        }


@blp.route("/members")
class MemberList(MethodView):
    @blp.arguments(MemberQuerySchema, location="query")
    @blp.response(200, MemberSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """Members of the tenant (admins and coordinators)."""
        return services.list_members(current_actor(), **query)

    @allowed_to(Action.CHANGE_MEMBERS)
    @blp.arguments(MemberCreateSchema)
    @blp.response(201, MemberSchema)
    @blp.alt_response(409, description="Already a member")
    def post(self, body: dict[str, Any]) -> Membership:
        """Add a person with an account to this tenant (admins)."""
        return services.add_member_by_email(current_actor(), body["email"], body["roles"])


@blp.route("/members/<uuid:member_id>")
class MemberDetail(MethodView):
    @blp.etag
    @blp.response(200, MemberSchema)
    def get(self, member_id: uuid.UUID) -> Membership:
        return get_member_or_404(current_actor(), member_id, Action.VIEW_MEMBERS)

    @allowed_to(Action.CHANGE_MEMBERS)
    @blp.etag
    @blp.arguments(MemberUpdateSchema, required=False)
    @blp.response(200, MemberSchema)
    def patch(self, changes: dict[str, Any], member_id: uuid.UUID) -> Membership:
        """Change roles or teams, or deactivate (admins). Deactivation removes access at once.

        `teams` replaces the member's teams (keys from the tenant's `/teams`).
        """
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.CHANGE_MEMBERS)
        blp.check_etag(member, MemberSchema)
        return services.update_member(actor, member, changes)


@blp.route("/home-area")
class HomeArea(MethodView):
    @blp.response(200, HomeAreaSchema)
    def get(self) -> Membership:
        """Where I start from and how far I will travel, in this tenant."""
        return current_actor().membership

    @blp.arguments(HomeAreaUpdateSchema)
    @blp.response(200, HomeAreaSchema)
    def put(self, area: dict[str, Any]) -> Membership:
        """Set my home area and travel radius: "open tasks near me" starts from here."""
        return services.set_home_area(current_actor(), area)
