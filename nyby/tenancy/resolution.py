"""Which tenant a request is for (from the URL, once) and whether the caller belongs.

A person may belong to several tenants, so the tenant always comes from the URL
and the caller's account must hold an active membership there. Anything else is
a 404: an unknown tenant and someone else's tenant look the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from sqlalchemy import select

from nyby.auth.models import Account
from nyby.auth.permissions import Action, Role, allows
from nyby.core.db import db
from nyby.core.errors import Forbidden, NotFound, Unauthorized
from nyby.members.models import Membership
from nyby.tenancy.context import ALL_TENANTS, acting_account, set_request_scope
from nyby.tenancy.models import Tenant

TENANT_URL_ARG = "tenant"
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Actor:
    """The caller inside one tenant: what every service and access helper receives."""

    account: Account
    tenant: Tenant
    membership: Membership

    @property
    def roles(self) -> frozenset[Role]:
        return self.membership.roles

    def can(self, action: Action) -> bool:
        return allows(self.roles, action)

    def require(self, action: Action) -> None:
        if not self.can(action):
            raise Forbidden("Your role does not allow this.")


class NotLoggedIn(Unauthorized):
    pass


def take_tenant_slug(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """URL value preprocessor: views never see the slug, only the resolved actor."""
    if values and TENANT_URL_ARG in values:
        g.tenant_slug = values.pop(TENANT_URL_ARG)


def public(view: View) -> View:
    """Mark a view (an API MethodView or a page) as open to anyone: no login, and on a
    tenant's URL no membership either (sign-up, a campaign's landing page). The tenant
    is still resolved and scoped: ``public_tenant()``; ``g.actor`` is set only for a
    logged-in member."""
    view.nyby_public = True  # type: ignore[attr-defined]
    return view


def is_public(view: Any) -> bool:
    return bool(getattr(getattr(view, "view_class", view), "nyby_public", False))


def resolve_tenant() -> None:
    slug = g.pop("tenant_slug", None)
    account: Account | None = g.get("account")
    if slug is None:
        set_request_scope(None, account.id if account else None)
        return
    open_to_all = is_public(current_app.view_functions.get(request.endpoint or ""))
    if account is None and not open_to_all:
        raise NotLoggedIn()
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound("No such tenant.")
    set_request_scope(tenant.id, account.id if account else None)
    g.tenant = tenant
    membership = (
        db.session.scalar(
            select(Membership).where(Membership.account_id == account.id, Membership.is_active)
        )
        if account is not None
        else None
    )
    if membership is None:
        if open_to_all:
            return
        raise NotFound("No such tenant.")
    g.actor = Actor(account=account, tenant=tenant, membership=membership)  # type: ignore[arg-type]


def public_tenant() -> Tenant:
    """The tenant of a public view's URL (see ``public``)."""
    return g.tenant  # type: ignore[no-any-return]


def current_actor() -> Actor:
    return g.actor  # type: ignore[no-any-return]


def allowed_to(action: Action, *or_actions: Action) -> Callable[[View], View]:
    """Authorise a write before its body is read (any one of the actions will do).

    Someone whose role may never do this gets 403 at once, not the endpoint's
    validation rules; access helpers still decide per object afterwards.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not any(current_actor().can(each) for each in (action, *or_actions)):
                raise Forbidden("Your role does not allow this.")
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorator


def memberships_of(account: Account) -> list[tuple[Membership, Tenant]]:
    """A person's memberships in every tenant: the one deliberate cross-tenant read.

    Row-level security still limits it to rows whose account is the caller's.
    """
    with acting_account(account.id):
        rows = db.session.execute(
            select(Membership, Tenant)
            .join(Tenant, Tenant.id == Membership.tenant_id)
            .where(Membership.account_id == account.id)
            .order_by(Tenant.name)
            .execution_options(**{ALL_TENANTS: True})
        ).all()
    return [(m, t) for m, t in rows]
