"""The web app's dispatch pages: my offers inbox (accept / decline, with the time left).
Same services as the API. (The coordinators' escalations: nyby.escalations.views.)"""

from __future__ import annotations

import uuid

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.core.api import read_page
from nyby.dispatch import services
from nyby.dispatch.access import get_offer_or_404
from nyby.dispatch.models import OfferStatus
from nyby.tenancy.resolution import current_actor
from nyby.web.views import act, web

SHOWN = 50
OFFER_STATES = {
    OfferStatus.OFFERED: lazy_gettext("Waiting for your answer"),
    OfferStatus.ACCEPTED: lazy_gettext("You took it"),
    OfferStatus.DECLINED: lazy_gettext("You declined"),
    OfferStatus.WITHDRAWN: lazy_gettext("Taken by someone else, or no longer needed"),
    OfferStatus.EXPIRED: lazy_gettext("Time ran out"),
}


@web.get("/t/<tenant>/offers")
def offers() -> str:
    """Tasks offered to me: open ones first, each with the time left to answer."""
    actor = current_actor()
    actor.require(Action.TAKE_TASKS)
    rows, _total = read_page(services.my_offers(actor), 0, SHOWN)
    return render_template(
        "web/dispatch/offers.html",
        open_offers=[o for o in rows if o["answerable"]],
        past=[o for o in rows if not o["answerable"]],
        offer_states=OFFER_STATES,
    )


@web.post("/t/<tenant>/offers/<uuid:offer_id>/accept")
def accept_offer(offer_id: uuid.UUID) -> Response:
    actor = current_actor()
    offer = get_offer_or_404(actor, offer_id)
    return act(
        lambda: services.accept_offer(actor, offer),
        _("The task is yours. Thank you!"),
        url_for("web.task_page", task_id=offer.task_id),
    )


@web.post("/t/<tenant>/offers/<uuid:offer_id>/decline")
def decline_offer(offer_id: uuid.UUID) -> Response:
    actor = current_actor()
    return act(
        lambda: services.decline_offer(actor, get_offer_or_404(actor, offer_id)),
        _("Declined: it will not be offered to you again."),
        url_for("web.offers"),
    )
