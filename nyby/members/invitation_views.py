"""The web app's staff invitations: the admins' "Invite staff" page, and the page the
mailed link opens, where the invited person joins (and is logged in). The same
services as the API."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import flash, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action, Role
from nyby.core.api import read_page
from nyby.core.errors import DomainError, Gone, NotFound
from nyby.members import invitations
from nyby.members.schemas import InvitationAcceptSchema, InvitationCreateSchema
from nyby.tenancy.resolution import current_actor, public, public_tenant
from nyby.web.forms import Form
from nyby.web.views import ROLE_LABELS, act, web

STATUS_NAMES = {
    "pending": lazy_gettext("Waiting for an answer"),
    "accepted": lazy_gettext("Accepted"),
    "expired": lazy_gettext("Expired"),
    "revoked": lazy_gettext("Withdrawn"),
}
INVITABLE = list(invitations.INVITABLE_ROLES)


def _read(schema: ma.Schema, form: MultiDict[str, str], lists: tuple[str, ...]) -> Any:
    """Like ``web.forms.read_form``, for a form with ticked lists (roles)."""
    shown = Form(values={name: form.get(name, "") for name in form})
    raw: dict[str, Any] = {k: v.strip() for k, v in form.items() if k in schema.fields}
    raw = {k: v for k, v in raw.items() if v}
    for name in lists:
        raw[name] = form.getlist(name)
    try:
        return schema.load(raw), shown
    except ma.ValidationError as error:
        shown.refuse(error)
        return None, shown


@web.route("/t/<tenant>/invitations", methods=["GET", "POST"])
def invitations_page() -> Any:
    """Admins invite staff by email, and see each invitation's state."""
    actor = current_actor()
    actor.require(Action.CHANGE_MEMBERS)
    form, status = Form(values={"roles": Role.STAFF.value}), 200
    chosen = {"roles": [Role.STAFF.value], "role_keys": []}
    if request.method == "POST":
        body, form = _read(InvitationCreateSchema(), request.form, lists=("roles", "role_keys"))
        chosen = {
            "roles": request.form.getlist("roles"),
            "role_keys": request.form.getlist("role_keys"),
        }
        if body is not None:
            try:
                invitation = invitations.invite(actor, body)
            except DomainError as error:
                form.refuse(error)
            else:
                flash(
                    _("An invitation has been sent to %(email)s.", email=invitation.email),
                    "success",
                )
                return redirect(url_for("web.invitations_page"), 303)
        status = 422
    rows, total = read_page(invitations.list_invitations(actor), 0, 200)
    return render_template(
        "web/members/invitations.html",
        form=form,
        chosen=chosen,
        invitable=INVITABLE,
        staff_roles=invitations.staff_only_roles(actor),
        invitations=rows,
        total=total,
        status_of=invitations.status_of,
        status_names=STATUS_NAMES,
        role_names=ROLE_LABELS,
    ), status


@web.post("/t/<tenant>/invitations/<uuid:invitation_id>/revoke")
def revoke_invitation(invitation_id: uuid.UUID) -> Response:
    actor = current_actor()

    def withdraw() -> None:
        invitations.revoke(actor, invitations.get_invitation_or_404(actor, invitation_id))

    return act(withdraw, _("The invitation is withdrawn."), url_for("web.invitations_page"))


@web.route("/t/<tenant>/invitations/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str) -> Any:
    """The mailed link: a new person chooses a name and password; someone with an
    account joins as themself. Either way they are logged in afterwards."""
    tenant = public_tenant()
    try:
        found = invitations.find(token)
    except Gone as error:
        gone = render_template("web/members/invitation_gone.html", detail=error.detail)
        return _private(gone, 410)
    form, status = Form(), 200
    if request.method == "POST":
        body, form = _read(
            InvitationAcceptSchema(), MultiDict({**request.form, "token": token}), ()
        )
        if body is not None:
            try:
                _member, account = invitations.accept(
                    tenant, token, g.get("account"), body.get("name"), body.get("password")
                )
            except NotFound:
                raise
            except DomainError as error:
                form.refuse(error)
            else:
                chosen = session.get("locale")
                session.clear()  # a new session for who they are now
                session["account_id"] = str(account.id)
                if chosen:
                    session["locale"] = chosen
                session.permanent = True
                flash(_("Welcome to %(tenant)s.", tenant=tenant.name), "success")
                return redirect(url_for("web.tenant_home"), 303)
        status = 422
    page = render_template(
        "web/members/invitation.html",
        invitation=found.invitation,
        has_account=found.account is not None,
        signed_in_as=g.get("account"),
        is_invited=found.account is not None
        and g.get("account") is not None
        and g.account.id == found.account.id,
        form=form,
        role_names=ROLE_LABELS,
    )
    return _private(page, status)


def _private(page: str, status: int) -> Response:
    # The token is in the address: keep it out of Referer headers and shared caches.
    response = make_response(page, status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
