"""Who may post a task in a role: the one place this rule is decided.

An active member whose platform role may post tasks at all (Action.POST_TASKS); then,
if the tenant file lists ``posted_by_teams`` for the role, only members of one of
those teams. Coordinators and admins may always post: they run the service and step
in for any team. A role with no teams listed is open to everyone who may post.
"""

from __future__ import annotations

from nyby.auth.permissions import Action, allows
from nyby.configuration.models import VolunteerRole
from nyby.configuration.services import list_roles
from nyby.core.db import db
from nyby.core.errors import Forbidden
from nyby.members.models import Membership
from nyby.tenancy.resolution import Actor


def may_post(membership: Membership, role: VolunteerRole) -> bool:
    if not membership.is_active or not allows(membership.roles, Action.POST_TASKS):
        return False
    if membership.is_coordinator or membership.is_admin:
        return True
    allowed = {team.id for team in role.posted_by_teams}
    return not allowed or any(team.id in allowed for team in membership.teams)


def require_may_post(membership: Membership, role: VolunteerRole) -> None:
    """403 unless ``may_post``, naming the role and the teams that may post in it."""
    if may_post(membership, role):
        return
    if not membership.is_active or not allows(membership.roles, Action.POST_TASKS):
        raise Forbidden("Your role does not allow this.")
    keys = [team.key for team in role.posted_by_teams]
    raise Forbidden(
        f"Tasks in the role {role.key!r} may only be posted by members of the teams "
        f"{', '.join(keys)} (or by a coordinator or an admin); you are in none of them.",
        errors={"role": [f"Posted only by the teams {', '.join(keys)}."], "teams": keys},
    )


def roles_to_post(actor: Actor) -> list[VolunteerRole]:
    """The active roles the caller may post tasks in, in the tenant's order."""
    roles = db.session.scalars(list_roles(actor.tenant))
    return [role for role in roles if may_post(actor.membership, role)]
