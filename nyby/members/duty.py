"""On duty and alert settings: when a person may be offered a pushed task.

``available_for`` is the one place the rule lives; the dispatcher (nyby.dispatch) calls
it for every candidate, so it reads only the membership's own columns, never the database.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Unprocessable
from nyby.members.models import Membership
from nyby.onboarding.qualification import qualifications_for
from nyby.tenancy.resolution import Actor

DEFAULT_DAILY_ALERTS = 10
# Parts of the day a volunteer ticks at sign-up, as local hours [from, to).
PART_HOURS = {"morning": (6, 12), "afternoon": (12, 18), "evening": (18, 23)}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A task window this long meets every weekly window, so longer ones need no walking.
_WHOLE_WEEK = timedelta(days=8)


class DutyFields(Protocol):
    """What the rules here read of a person: a ``Membership``, or a row of its columns
    (dispatch reads them with its candidates)."""

    @property
    def on_duty(self) -> bool: ...
    @property
    def on_duty_until(self) -> datetime | None: ...
    @property
    def quiet_hours_start(self) -> time | None: ...
    @property
    def quiet_hours_end(self) -> time | None: ...
    @property
    def availability(self) -> list[dict[str, str]]: ...
    @property
    def max_alerts_per_day(self) -> int | None: ...


def on_duty_at(member: DutyFields, now: datetime) -> bool:
    """Switched on, and the "until" (if any) not yet passed."""
    return member.on_duty and (member.on_duty_until is None or member.on_duty_until > now)


def in_quiet_hours(member: DutyFields, local: time) -> bool:
    """Whether the local wall-clock time falls in their quiet hours (start inclusive,
    end exclusive); a window whose end is before its start crosses midnight."""
    start, end = member.quiet_hours_start, member.quiet_hours_end
    if start is None or end is None or start == end:
        return False
    local = local.replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _windows(
    availability: list[dict[str, str]], first: date, last: date, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The person's weekly windows falling on local days ``first``..``last``, as aware
    times (wall-clock hours, so a DST day's morning is still 06:00-12:00 local)."""
    wanted = {(w["day"], w["part"]) for w in availability}
    found = []
    day = first
    while day <= last:
        name = WEEKDAYS[day.weekday()]
        for part, (begin, end) in PART_HOURS.items():
            if (name, part) in wanted:
                found.append(
                    (
                        datetime.combine(day, time(begin), tzinfo=tz),
                        datetime.combine(day, time(end), tzinfo=tz),
                    )
                )
        day += timedelta(days=1)
    return found


def available_for(
    member: DutyFields, start: datetime, end: datetime, tz: ZoneInfo, now: datetime
) -> bool:
    """On duty now (on_duty and on_duty_until unset or in the future), not in quiet
    hours at ``now`` (tenant local time; a window may cross midnight, 22:00-07:00), and,
    if they gave availability windows (Membership.availability: [{"day": "mon".."sun",
    "part": "morning"|"afternoon"|"evening"}] — morning 06-12, afternoon 12-18, evening
    18-23 local time), at least one of those windows overlaps the task's [start, end)
    window in local time. No windows given: any time."""
    if not on_duty_at(member, now):
        return False
    if in_quiet_hours(member, now.astimezone(tz).time()):
        return False
    if not member.availability:
        return True
    if end <= start:
        end = start + timedelta(microseconds=1)  # a moment: the window that holds it
    if end - start >= _WHOLE_WEEK:
        return True
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    return any(
        begin < end and start < finish
        for begin, finish in _windows(member.availability, first, last, tz)
    )


def daily_alert_limit(member: DutyFields, policy: dict[str, Any]) -> int:
    """How many offers a day a person may get: their own limit, else the tenant's."""
    if member.max_alerts_per_day is not None:
        return member.max_alerts_per_day
    return tenant_alert_limit(policy)


def tenant_alert_limit(policy: dict[str, Any]) -> int:
    """The tenant's default (policies stored before the setting existed: 10)."""
    return int(policy.get("max_alerts_per_day", DEFAULT_DAILY_ALERTS))


# -- the person's own switch and settings (API and web) ---------------------------------


def roles_held(member: Membership, at: datetime) -> list[VolunteerRole]:
    """Active roles they hold (approved, or staff-only roles for staff), whether or not
    a check has lapsed: what "my roles" means on the duty and alerts settings."""
    roles = db.session.scalars(
        select(VolunteerRole)
        .where(VolunteerRole.is_active)
        .order_by(VolunteerRole.position, VolunteerRole.key)
    ).all()
    decided = qualifications_for(member, roles, at)
    return [role for role, q in zip(roles, decided, strict=True) if not q.reasons]


def needs_home_area(member: Membership, at: datetime) -> bool:
    """Going on duty needs a home area, unless every role they hold is remote (phone or
    video): offers to travelling roles are measured from it."""
    if member.home_latitude is not None:
        return False
    held = roles_held(member, at)
    return not held or not all(role.remote for role in held)


def duty_state(actor: Actor) -> dict[str, Any]:
    actor.require(Action.TAKE_TASKS)
    member, now = actor.membership, utcnow()
    on = on_duty_at(member, now)
    return {
        "on_duty": on,
        "until": member.on_duty_until if on else None,
        "needs_home_area": needs_home_area(member, now),
    }


def set_duty(actor: Actor, on_duty: bool, until: datetime | None) -> dict[str, Any]:
    """Switch on duty (until a time, or until switched off) or off duty."""
    actor.require(Action.TAKE_TASKS)
    member, now = actor.membership, utcnow()
    if on_duty:
        if until is not None and until <= now:
            raise Unprocessable(
                "The end of duty must be in the future.",
                errors={"until": ["Must be in the future."]},
            )
        if needs_home_area(member, now):
            raise Unprocessable(
                "Set your home area first (PUT /home-area, or the home area page): offers "
                "are measured from it.",
                errors={"on_duty": ["Set your home area first: offers are measured from it."]},
            )
    member.on_duty = on_duty
    member.on_duty_until = until if on_duty else None
    db.session.flush()
    return duty_state(actor)


def alert_settings(actor: Actor) -> dict[str, Any]:
    actor.require(Action.TAKE_TASKS)
    member = actor.membership
    return {
        "max_alerts_per_day": member.max_alerts_per_day,
        "daily_limit": daily_alert_limit(member, actor.tenant.dispatch_policy or {}),
        "quiet_hours_start": member.quiet_hours_start,
        "quiet_hours_end": member.quiet_hours_end,
        "preferred_roles": list(member.preferred_roles or []),
        "availability": list(member.availability or []),
        "languages": list(member.languages or []),
    }


def preferable_roles(actor: Actor) -> list[VolunteerRole]:
    """The roles a person may put first: those they hold, and any active role they
    already prefer (so saving the page keeps it)."""
    actor.require(Action.TAKE_TASKS)
    member = actor.membership
    held = roles_held(member, utcnow())
    keys = {role.key for role in held}
    kept = [key for key in member.preferred_roles or [] if key not in keys]
    if kept:
        held += db.session.scalars(
            select(VolunteerRole)
            .where(VolunteerRole.is_active, VolunteerRole.key.in_(kept))
            .order_by(VolunteerRole.position, VolunteerRole.key)
        ).all()
    return held


def set_alert_settings(
    actor: Actor, settings: dict[str, Any], version: int | None = None
) -> dict[str, Any]:
    """Replace the person's alert settings. Preferred roles must be the tenant's
    active roles (422 naming each unknown one; nothing changes). ``version``: the
    membership's version the page was read at (the API uses its ETag instead)."""
    actor.require(Action.TAKE_TASKS)
    member = actor.membership
    if version is not None and version != member.version_id:
        raise Conflict("Your settings were changed elsewhere since this page was opened.")
    keys = settings["preferred_roles"]
    active = set(
        db.session.scalars(
            select(VolunteerRole.key).where(VolunteerRole.is_active, VolunteerRole.key.in_(keys))
        )
    )
    unknown = {i: [f"No role {key!r} here."] for i, key in enumerate(keys) if key not in active}
    if unknown:
        names = ", ".join(repr(key) for key in keys if key not in active)
        raise Unprocessable(f"Unknown role key(s): {names}.", errors={"preferred_roles": unknown})
    member.max_alerts_per_day = settings["max_alerts_per_day"]
    member.quiet_hours_start = settings["quiet_hours_start"]
    member.quiet_hours_end = settings["quiet_hours_end"]
    member.preferred_roles = list(keys)
    member.availability = [{"day": w["day"], "part": w["part"]} for w in settings["availability"]]
    member.languages = list(settings["languages"])
    db.session.flush()
    return alert_settings(actor)
