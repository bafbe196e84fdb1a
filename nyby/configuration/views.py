"""The web app's page about the tenant's roles: what each involves and the checks it
needs (volunteers read it before applying; coordinators check the set-up). The
configuration itself changes through the tenant's file or the API."""

from __future__ import annotations

from flask import render_template

from nyby.configuration import services
from nyby.configuration.access import get_configuration
from nyby.core.api import read_page
from nyby.tenancy.resolution import current_actor
from nyby.web.views import web


@web.get("/t/<tenant>/roles")
def roles() -> str:
    tenant = get_configuration(current_actor())
    found, _total = read_page(services.list_roles(tenant), 0, 200)
    checks, _count = read_page(services.list_check_types(tenant), 0, 200)
    return render_template("web/configuration/roles.html", roles=found, checks=checks)
