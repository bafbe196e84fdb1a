"""The web app installs as an app: a manifest named for the tenant, and a service worker."""

from __future__ import annotations

from playwright.sync_api import Page

from nyby.auth.permissions import Role
from tests.browser.helpers import log_in
from tests.conftest import PASSWORD, World


def test_the_app_is_installable_with_the_tenants_name_and_colour(phone: Page, world: World) -> None:
    tenant = world.tenant(
        "riverside", name="Riverside Good Neighbours", branding={"primary_colour": "#6b2d8f"}
    )
    person = world.person(tenant, Role.VOLUNTEER)
    phone.goto("/login")
    log_in(phone, person.account.email, PASSWORD)
    phone.goto("/t/riverside/")
    manifest = phone.evaluate(
        """() => fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"""
    )
    assert manifest["name"] == "Riverside Good Neighbours"
    assert manifest["theme_color"] == "#6b2d8f" and manifest["display"] == "standalone"
    assert phone.evaluate("() => navigator.serviceWorker.ready.then(r => Boolean(r.active))")
    # Once it is active, the styles come from it, and are still fetched for next time.
    phone.reload()
    assert phone.evaluate("() => Boolean(navigator.serviceWorker.controller)")
