from __future__ import annotations

import uuid
from typing import Any

from flask import g
from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.campaigns import services
from nyby.campaigns.access import get_campaign_or_404
from nyby.campaigns.models import Campaign
from nyby.campaigns.schemas import (
    CampaignCreateSchema,
    CampaignQuerySchema,
    CampaignSchema,
    CampaignUpdateSchema,
    FunnelSchema,
    LandingSchema,
)
from nyby.core.api import Blueprint
from nyby.tenancy.resolution import allowed_to, current_actor, public, public_tenant

blp = Blueprint(
    "campaigns",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Recruitment campaigns: set-up and funnel (coordinators, admins), and each "
    "campaign's public landing page. The tenant file's `campaigns` overwrite API changes "
    "on the next `tenants apply`, as for roles.",
)


@blp.route("/campaigns")
class CampaignList(MethodView):
    @blp.arguments(CampaignQuerySchema, location="query")
    @blp.response(200, CampaignSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """The tenant's campaigns, in the tenant file's order (coordinators, admins)."""
        return services.list_campaigns(current_actor(), **query)

    @allowed_to(Action.MANAGE_CAMPAIGNS)
    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    @blp.alt_response(409, description="A campaign with this key exists")
    def post(self, data: dict[str, Any]) -> Campaign:
        """Start a campaign (coordinators, admins).

        The next `tenants apply` of a file without it deactivates it: export the file
        to keep it.
        """
        return services.create_campaign(current_actor(), data)


@blp.route("/campaigns/<uuid:campaign_id>")
class CampaignDetail(MethodView):
    @blp.etag
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id: uuid.UUID) -> Campaign:
        return get_campaign_or_404(current_actor(), campaign_id)

    @allowed_to(Action.MANAGE_CAMPAIGNS)
    @blp.etag
    @blp.arguments(CampaignUpdateSchema, required=False)
    @blp.response(200, CampaignSchema)
    def patch(self, data: dict[str, Any], campaign_id: uuid.UUID) -> Campaign:
        """Change a campaign; only the fields given change.

        Campaigns are never deleted (sign-ups refer to them): send `is_active: false`.
        """
        actor = current_actor()
        campaign = get_campaign_or_404(actor, campaign_id, Action.MANAGE_CAMPAIGNS)
        blp.check_etag(campaign, CampaignSchema)
        return services.update_campaign(actor, campaign, data)


@blp.route("/campaigns/<uuid:campaign_id>/funnel")
class CampaignFunnel(MethodView):
    @blp.response(200, FunnelSchema)
    def get(self, campaign_id: uuid.UUID) -> services.Funnel:
        """Visits, sign-ups, approved, first task done, still active after 90 days."""
        actor = current_actor()
        return services.funnel(actor, get_campaign_or_404(actor, campaign_id))


@blp.route("/campaigns/by-key/<key>/landing")
@public
class CampaignLanding(MethodView):
    @blp.doc(security=[{}, {"bearerAuth": []}])  # anyone; a member's token is optional
    @blp.response(200, LandingSchema)
    @blp.alt_response(410, description="The campaign has ended (the detail says when)")
    def get(self, key: str) -> dict[str, Any]:
        """A campaign's public landing page (no login): what it asks for and where to
        sign up. Each call counts one visit. Ended: 410; unknown or not started: 404."""
        return services.landing(public_tenant(), key, viewer=g.get("actor"))
