"""The web app's campaign pages: for coordinators and admins the list, a campaign with
its shareable link and funnel, and the set-up forms; for everyone the public landing
page a link leads to. The same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from babel import Locale
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _

from nyby.auth.permissions import Action
from nyby.campaigns import services
from nyby.campaigns.access import get_campaign_or_404
from nyby.campaigns.models import Campaign
from nyby.campaigns.schemas import CampaignCreateSchema
from nyby.configuration.services import list_roles
from nyby.core.api import read_page
from nyby.core.errors import DomainError
from nyby.tenancy.resolution import current_actor, public, public_tenant
from nyby.web.forms import Form, read_form
from nyby.web.views import web

STATUS_NAMES = {
    "upcoming": lazy_gettext("Not started yet"),
    "open": lazy_gettext("Open"),
    "ended": lazy_gettext("Ended"),
    "inactive": lazy_gettext("Deactivated"),
}
# The funnel's stages, in order, as the page names them.
STAGES = (
    ("visits", lazy_gettext("Visits to the landing page")),
    ("sign_ups", lazy_gettext("Signed up")),
    ("approved", lazy_gettext("Approved in a role")),
    ("first_task_done", lazy_gettext("Did a first task")),
    ("active_after_90_days", lazy_gettext("Still active after 90 days")),
)
MESSAGES = {
    "Must not be before starts_on.": lazy_gettext("Must not be before the start date."),
    "Must not be below min_age.": lazy_gettext("Must not be below the youngest age."),
    "Not a valid date.": lazy_gettext("Enter a date."),
}


@web.get("/t/<tenant>/recruitment")
def campaigns() -> str:
    actor = current_actor()
    rows, _total = read_page(services.list_campaigns(actor, include_inactive=True), 0, 200)
    return render_template(
        "web/campaigns/list.html",
        campaigns=rows,
        funnels=services.funnels(rows),
        today=services.tenant_today(actor.tenant),
        status_of=services.status_of,
        status_names=STATUS_NAMES,
        may_manage=actor.can(Action.MANAGE_CAMPAIGNS),
    )


@web.get("/t/<tenant>/recruitment/<uuid:campaign_id>")
def campaign_page(campaign_id: uuid.UUID) -> str:
    actor = current_actor()
    campaign = get_campaign_or_404(actor, campaign_id)
    funnel = services.funnel(actor, campaign)
    return render_template(
        "web/campaigns/campaign.html",
        campaign=campaign,
        funnel=funnel,
        stages=STAGES,
        status=STATUS_NAMES[services.status_of(campaign, services.tenant_today(actor.tenant))],
        link=services.landing_url(actor.tenant, campaign),
        languages=_language_names((campaign.target_group or {}).get("languages", [])),
        may_manage=actor.can(Action.MANAGE_CAMPAIGNS),
    )


@web.route("/t/<tenant>/recruitment/new", methods=["GET", "POST"])
def new_campaign() -> Any:
    actor = current_actor()
    actor.require(Action.MANAGE_CAMPAIGNS)
    form, status = Form(), 200
    if request.method == "POST":
        data, form = read_form(CampaignCreateSchema(), request.form, actor.tenant.timezone)
        if data is not None:
            try:
                campaign = services.create_campaign(actor, data)
            except DomainError as error:
                form.refuse(error)
                status = error.status  # a key already taken is a 409
            else:
                flash(_("The campaign %(name)s is set up.", name=campaign.name), "success")
                return redirect(url_for("web.campaign_page", campaign_id=campaign.id), 303)
        _in_words(form)
        status = status if status != 200 else 422
    return _set_up_page(None, form), status


@web.route("/t/<tenant>/recruitment/<uuid:campaign_id>/edit", methods=["GET", "POST"])
def edit_campaign(campaign_id: uuid.UUID) -> Any:
    """Change a campaign. Two people editing at once: the second to save is shown the
    first one's changes, with what they typed kept, and saves again."""
    actor = current_actor()
    campaign = get_campaign_or_404(actor, campaign_id, Action.MANAGE_CAMPAIGNS)
    form, status = _as_form(campaign), 200
    if request.method == "POST":
        # The page shows every field, so it is read whole (the key stays).
        schema = CampaignCreateSchema(exclude=("key",))
        data, form = read_form(schema, request.form, actor.tenant.timezone)
        data = data if data is None else {**data, "is_active": "is_active" in request.form}
        if request.form.get("version") != str(campaign.version_id):
            form.errors["form"] = [
                _(
                    "Someone else saved changes to this campaign while you were editing. "
                    "Yours are below, not saved yet: check them against the campaign's page "
                    "and save again."
                )
            ]
            form.values["version"] = str(campaign.version_id)
            status = 409
        elif data is not None:
            try:
                services.update_campaign(actor, campaign, data)
            except DomainError as error:
                form.refuse(error)
                status = error.status
            else:
                flash(_("The changes are saved."), "success")
                return redirect(url_for("web.campaign_page", campaign_id=campaign.id), 303)
        _in_words(form)
        status = status if status != 200 else 422
    return _set_up_page(campaign, form), status


@web.get("/t/<tenant>/campaigns/<key>")
@public
def campaign_landing(key: str) -> Any:
    """The public page a campaign's link leads to; each view counts as a visit."""
    tenant = public_tenant()
    try:
        page = services.landing(tenant, key, viewer=g.get("actor"))
    except services.CampaignEnded as error:
        return render_template(
            "web/campaigns/ended.html", ended_on=error.ended_on, join=_join_url(tenant.slug)
        ), 410
    paragraphs = [part.strip() for part in page["message"].split("\n\n") if part.strip()]
    return render_template("web/campaigns/landing.html", page=page, paragraphs=paragraphs)


def _language_names(codes: list[str]) -> list[str]:
    names = Locale.parse(str(get_locale())).languages
    return [names.get(code, code) for code in codes]


def _join_url(slug: str) -> str:
    for endpoint in ("web.sign_up", "web.join"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, tenant=slug)
    return f"/t/{slug}/join"


def _set_up_page(campaign: Campaign | None, form: Form) -> str:
    actor = current_actor()
    roles, _total = read_page(list_roles(actor.tenant), 0, 500)
    return render_template(
        "web/campaigns/edit.html",
        campaign=campaign,
        form=form,
        roles=[role for role in roles if not role.staff_only],
    )


def _in_words(form: Form) -> None:
    for name, messages in form.errors.items():
        form.errors[name] = [str(MESSAGES.get(m, m)) for m in messages]


def _as_form(campaign: Campaign) -> Form:
    group = campaign.target_group or {}
    area = group.get("area") or {}
    values = {
        "name": campaign.name,
        "message": campaign.message,
        "starts_on": campaign.starts_on.isoformat(),
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else "",
        "target_sign_ups": str(campaign.target_sign_ups or ""),
        "target_group.min_age": str(group.get("min_age", "")),
        "target_group.max_age": str(group.get("max_age", "")),
        "target_group.skills": ", ".join(group.get("skills", [])),
        "target_group.languages": ", ".join(group.get("languages", [])),
        **{f"target_group.area.{name}": str(area.get(name, "")) for name in area},
        "version": str(campaign.version_id),
    }
    if campaign.is_active:
        values["is_active"] = "on"
    return Form(values=values, lists={"roles": [role.key for role in campaign.roles]})
