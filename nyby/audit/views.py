"""The admins' audit trail page: a filter form and the rows, newest first, a page at a
time. The same service and query schema as ``GET /audit``."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext

from nyby.audit import services
from nyby.audit.schemas import AuditQuerySchema
from nyby.audit.trail import Action, audited_kinds
from nyby.auth.permissions import Action as Permission
from nyby.core.api import read_page
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import read_form
from nyby.web.views import web

PAGE_SIZE = 50

ACTION_NAMES = {
    Action.CREATE: lazy_gettext("Created"),
    Action.UPDATE: lazy_gettext("Changed"),
    Action.DELETE: lazy_gettext("Deleted"),
    Action.READ: lazy_gettext("Read"),
}
# What each kind of object is called on the page; a kind added later without a name
# here shows its own key.
KIND_NAMES = {
    "tenant": lazy_gettext("Tenant settings"),
    "client": lazy_gettext("Client"),
    "client_professional": lazy_gettext("Client's professional"),
    "task": lazy_gettext("Task"),
    "task_series": lazy_gettext("Repeating task"),
    "task_attachment": lazy_gettext("Task file"),
    "membership": lazy_gettext("Member"),
    "membership_team": lazy_gettext("Member's team"),
    "invitation": lazy_gettext("Invitation"),
    "role_assignment": lazy_gettext("Role assignment"),
    "check_record": lazy_gettext("Check"),
    "passport_consent": lazy_gettext("Passport consent"),
    "passport_check": lazy_gettext("Passport check"),
    "volunteer_role": lazy_gettext("Role"),
    "check_type": lazy_gettext("Check type"),
    "task_category": lazy_gettext("Task category"),
    "team": lazy_gettext("Team"),
    "role_check_type": lazy_gettext("Check a role needs"),
    "role_category": lazy_gettext("Category of a role"),
    "role_posting_team": lazy_gettext("Team that posts in a role"),
    "campaign": lazy_gettext("Campaign"),
    "campaign_role": lazy_gettext("Role in a campaign"),
    "success_criterion": lazy_gettext("Success criterion"),
}


@web.get("/t/<tenant>/audit")
def audit_trail() -> tuple[str, int]:
    actor = current_actor()
    actor.require(Permission.VIEW_AUDIT)
    query, form = read_form(AuditQuerySchema(), request.args, actor.tenant.timezone)
    asked = request.args.get("page", "1")
    page = max(1, int(asked)) if asked.isdigit() and len(asked) < 7 else 1
    entries: list[Any] = []
    total = 0
    if query is not None:
        entries, total = read_page(
            services.audit_trail(actor, **query), (page - 1) * PAGE_SIZE, PAGE_SIZE
        )
    kinds = [(kind, KIND_NAMES.get(kind, kind)) for kind in audited_kinds()]
    return render_template(
        "web/audit/trail.html",
        form=form,
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        kinds=kinds,
        kind_names=dict(kinds),
        action_names=ACTION_NAMES,
    ), 200 if query is not None else 422
