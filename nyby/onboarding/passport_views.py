"""The web app's volunteer passport: on "My roles and checks", share my verified checks
with my other tenants (or take that back); on a coordinator's page of a member, the
checks shared with this tenant, to accept or decline. The same services as the API.

Both sections are partials that the roles page includes (web/onboarding/_passport*.html);
the roles page's views pass them what ``sharing`` and ``received`` return.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.core.api import read_page
from nyby.core.db import utcnow
from nyby.core.errors import Unprocessable
from nyby.members.access import get_member_or_404
from nyby.members.models import Membership
from nyby.onboarding import passport
from nyby.onboarding.schemas import PassportDecisionSchema, PassportShareSchema
from nyby.tenancy.resolution import Actor, current_actor
from nyby.web.forms import read_form
from nyby.web.views import act, web

DECISIONS = {
    "pending": lazy_gettext("Not decided yet"),
    "accepted": lazy_gettext("Accepted"),
    "declined": lazy_gettext("Declined"),
}


def sharing(actor: Actor) -> dict[str, Any]:
    """For _passport.html: my other tenants, and the checks sharing would send."""
    return {
        "tenants": passport.sharing(actor),
        "checks": passport.shareable_checks(actor.membership, utcnow()),
    }


def received(actor: Actor, member: Membership) -> dict[str, Any]:
    """For _passport_received.html: the checks shared with this tenant for a member."""
    if not actor.can(Action.VERIFY_VOLUNTEERS):
        return {"checks": [], "kinds": {}}
    rows, _total = read_page(passport.received(actor, member), 0, 100)
    return {
        "checks": rows,
        "kinds": passport.check_types_by_kind(actor),
        "decisions": DECISIONS,
        "now": utcnow(),
    }


def _invalid(form_errors: dict[str, list[str]]) -> Unprocessable:
    messages = " ".join(m for ms in form_errors.values() for m in ms)
    return Unprocessable(messages, errors=form_errors)


@web.post("/t/<tenant>/me/passport")
def share_passport() -> Response:
    actor = current_actor()
    body, form = read_form(PassportShareSchema(), request.form, actor.tenant.timezone)

    def share() -> None:
        if body is None:
            raise _invalid(form.errors)
        passport.share(actor, body["to_tenant"])

    return act(share, _("Your verified checks are shared."), url_for("web.my_roles"))


@web.post("/t/<tenant>/me/passport/<uuid:consent_id>/revoke")
def revoke_passport(consent_id: uuid.UUID) -> Response:
    actor = current_actor()

    def revoke() -> None:
        passport.revoke(actor, passport.get_consent_or_404(actor, consent_id))

    return act(revoke, _("You have stopped sharing your checks."), url_for("web.my_roles"))


@web.post("/t/<tenant>/volunteers/<uuid:member_id>/passport/<uuid:passport_check_id>")
def decide_passport_check(member_id: uuid.UUID, passport_check_id: uuid.UUID) -> Response:
    actor = current_actor()
    body, form = read_form(PassportDecisionSchema(), request.form, actor.tenant.timezone)

    def decide() -> None:
        member = get_member_or_404(actor, member_id, Action.VERIFY_VOLUNTEERS)
        shared = passport.get_passport_check_or_404(actor, member, passport_check_id)
        if body is None:
            raise _invalid(form.errors)
        passport.decide(actor, shared, body["decision"], body.get("check_type"))

    return act(
        decide, _("The decision is saved."), url_for("web.member_roles", member_id=member_id)
    )
