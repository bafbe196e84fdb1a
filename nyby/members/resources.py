from __future__ import annotations

import uuid
from typing import Any

from flask import g
from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.members import duty, invitations, services
from nyby.members.access import get_member_or_404
from nyby.members.models import Invitation, Membership
from nyby.members.schemas import (
    AlertSettingsSchema,
    AlertSettingsUpdateSchema,
    DutySchema,
    DutyUpdateSchema,
    HomeAreaSchema,
    HomeAreaUpdateSchema,
    InvitationAcceptSchema,
    InvitationCreateSchema,
    InvitationQuerySchema,
    InvitationSchema,
    MemberCreateSchema,
    MemberQuerySchema,
    MemberSchema,
    MemberUpdateSchema,
    TenantSchema,
)
from nyby.tenancy.resolution import allowed_to, current_actor, public, public_tenant

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


# -- on duty and alert settings (members.duty) -------------------------------------


@blp.route("/me/duty")
class MyDuty(MethodView):
    @blp.etag
    @blp.response(200, DutySchema)
    def get(self) -> dict[str, Any]:
        """Whether I am on duty (offered pushed tasks), and until when (volunteers, staff)."""
        return duty.duty_state(current_actor())

    @allowed_to(Action.TAKE_TASKS)
    @blp.etag
    @blp.arguments(DutyUpdateSchema)
    @blp.response(200, DutySchema)
    @blp.alt_response(422, description="A home area is needed first, or a bad end time")
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Go on duty (until a time, or until I switch off) or off duty. Going on duty
        needs a home area unless every role I hold is remote."""
        actor = current_actor()
        blp.check_etag(duty.duty_state(actor), DutySchema)
        return duty.set_duty(actor, body["on_duty"], body["until"])


@blp.route("/me/alert-settings")
class MyAlertSettings(MethodView):
    @blp.etag
    @blp.response(200, AlertSettingsSchema)
    def get(self) -> dict[str, Any]:
        """How many offers a day, quiet hours, preferred roles, availability, languages."""
        return duty.alert_settings(current_actor())

    @allowed_to(Action.TAKE_TASKS)
    @blp.etag
    @blp.arguments(AlertSettingsUpdateSchema)
    @blp.response(200, AlertSettingsSchema)
    def put(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Replace my alert settings (quiet hours are the tenant's local time)."""
        actor = current_actor()
        blp.check_etag(duty.alert_settings(actor), AlertSettingsSchema)
        return duty.set_alert_settings(actor, settings)


# -- staff invitations (members.invitations) ---------------------------------------


@blp.route("/invitations")
class InvitationList(MethodView):
    @allowed_to(Action.CHANGE_MEMBERS)
    @blp.arguments(InvitationQuerySchema, location="query")
    @blp.response(200, InvitationSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """Staff invitations, newest first: pending, accepted, expired or revoked (admins)."""
        return invitations.list_invitations(current_actor(), query.get("status"))

    @allowed_to(Action.CHANGE_MEMBERS)
    @blp.arguments(InvitationCreateSchema)
    @blp.response(201, InvitationSchema)
    @blp.alt_response(409, description="Already an active member")
    def post(self, body: dict[str, Any]) -> Invitation:
        """Invite someone as staff (admins): the link, valid for 7 days, is mailed to them.
        Inviting the same address again replaces a pending invitation."""
        return invitations.invite(current_actor(), body)


@blp.route("/invitations/<uuid:invitation_id>/revoke")
class InvitationRevoke(MethodView):
    @allowed_to(Action.CHANGE_MEMBERS)
    @blp.response(200, InvitationSchema)
    @blp.alt_response(409, description="Already accepted")
    def post(self, invitation_id: uuid.UUID) -> Invitation:
        """Withdraw an invitation: its link stops working (admins)."""
        actor = current_actor()
        return invitations.revoke(actor, invitations.get_invitation_or_404(actor, invitation_id))


@blp.route("/invitations/accept")
@public
class InvitationAccept(MethodView):
    @blp.doc(security=[{}, {"bearerAuth": []}])
    @blp.arguments(InvitationAcceptSchema)
    @blp.response(200, MemberSchema)
    @blp.alt_response(401, description="The email has an account: log in as it first")
    @blp.alt_response(410, description="Expired, withdrawn or already used")
    def post(self, body: dict[str, Any]) -> Membership:
        """Accept an invitation with the token from its link. A new person also gives a
        name and a password; someone with an account must be logged in as it."""
        member, _account = invitations.accept(
            public_tenant(), body["token"], g.get("account"), body.get("name"), body.get("password")
        )
        return member
