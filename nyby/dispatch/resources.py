from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.dispatch import services
from nyby.dispatch.access import get_offer_or_404
from nyby.dispatch.schemas import OfferSchema
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "dispatch",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Push dispatch: tasks offered to me in waves.",
)


@blp.route("/offers")
class Offers(MethodView):
    @blp.response(200, OfferSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """My offers: open ones first (soonest to expire first), then the rest, newest first."""
        return services.my_offers(current_actor())


@blp.route("/offers/<uuid:offer_id>/accept")
class AcceptOffer(MethodView):
    @allowed_to(Action.TAKE_TASKS)
    @blp.response(200, OfferSchema)
    @blp.alt_response(403, description="Not qualified: the missing checks are named")
    @blp.alt_response(409, description="Taken by someone else, or no longer needed")
    def post(self, offer_id: uuid.UUID) -> dict[str, Any]:
        """Take the offered task: the first to accept wins, everyone else's offer is
        withdrawn."""
        actor = current_actor()
        offer = services.accept_offer(actor, get_offer_or_404(actor, offer_id))
        return services.present(actor, offer)


@blp.route("/offers/<uuid:offer_id>/decline")
class DeclineOffer(MethodView):
    @allowed_to(Action.TAKE_TASKS)
    @blp.response(200, OfferSchema)
    @blp.alt_response(409, description="Taken by someone else, or no longer needed")
    def post(self, offer_id: uuid.UUID) -> dict[str, Any]:
        """Say no: the task is not offered or shown to me again."""
        actor = current_actor()
        offer = services.decline_offer(actor, get_offer_or_404(actor, offer_id))
        return services.present(actor, offer)
