"""Milestones and tiers in the reader's language (pages, notices, the PDF)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString

MILESTONE_NAMES: dict[str, LazyString] = {
    "tasks_completed": lazy_gettext("tasks completed"),
    "hours": lazy_gettext("hours given"),
    "clients_helped": lazy_gettext("different people helped"),
    "years_active": lazy_gettext("years of helping"),
    "thanks": lazy_gettext("thumbs-up from coordinators"),
}
TIER_NAMES: dict[str, LazyString] = {
    "bronze": lazy_gettext("bronze"),
    "silver": lazy_gettext("silver"),
    "gold": lazy_gettext("gold"),
}


def badge_params(params: dict[str, Any]) -> dict[str, Any]:
    """A badge notice keeps keys (``gold``, ``hours``); the text names them when read."""
    tier, milestone = params.get("tier", ""), params.get("milestone", "")
    return {
        **params,
        "tier": str(TIER_NAMES.get(tier, tier)),
        "milestone": str(MILESTONE_NAMES.get(milestone, milestone)),
    }
