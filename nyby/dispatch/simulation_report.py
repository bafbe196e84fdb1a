"""The simulation's verdict and its report as text (``nyby simulate-dispatch``).

Both read only the report's plain data (``simulation.simulate``), so a saved ``--json``
report renders the same text again.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

# Issue 5: at least 80 % of on-duty volunteers offered a task each week, with a median
# time to acceptance no more than 10 % above nearest first's.
TARGET_OFFERED_WEEKLY = 0.80
TARGET_TIME_RATIO = 1.10


def verdict(report: dict[str, Any]) -> dict[str, Any]:
    """Our ranking against the target, both halves and together."""
    ours, nearest = report["policies"]["our ranking"], report["policies"]["nearest first"]
    share = ours["mean_weekly_offered_share"]
    ratio = None
    if ours["minutes_to_accept"]["median"] and nearest["minutes_to_accept"]["median"]:
        ratio = round(
            ours["minutes_to_accept"]["median"] / nearest["minutes_to_accept"]["median"], 3
        )
    return {
        "offered_weekly_target": TARGET_OFFERED_WEEKLY,
        "time_ratio_target": TARGET_TIME_RATIO,
        "offered_weekly_met": share >= TARGET_OFFERED_WEEKLY,
        "time_ratio": ratio,
        "time_met": ratio is not None and ratio <= TARGET_TIME_RATIO,
        "met": share >= TARGET_OFFERED_WEEKLY and ratio is not None and ratio <= TARGET_TIME_RATIO,
    }


def _why(report: dict[str, Any]) -> list[str]:
    """The reasons behind a missed target, read from the figures of the run."""
    ours, nearest = report["policies"]["our ranking"], report["policies"]["nearest first"]
    pool, policy = report["volunteers_on_duty"], report["policy"]
    reasons = []
    if ours["mean_weekly_offered_share"] < TARGET_OFFERED_WEEKLY:
        reach = statistics.fmean(report["within_reach_weekly"])
        first = statistics.fmean(report["within_first_wave_weekly"])
        volume = statistics.fmean(ours["offers_sent_over_pool_weekly"])
        tasks_a_week = report["tasks_posted"] / report["weeks"]
        per_task = ours["offers"] / max(1, report["tasks_posted"])
        if reach < TARGET_OFFERED_WEEKLY:
            reasons.append(
                f"Only {_percent(reach, 0)} of on-duty volunteers live within the last "
                "wave's radius of a task in their roles in a week: no ranking can offer the "
                "others one."
            )
        if volume < TARGET_OFFERED_WEEKLY:
            needed = TARGET_OFFERED_WEEKLY * pool / max(1.0, tasks_a_week)
            wave = math.ceil(policy["wave_size"] * needed / max(per_task, 0.1))
            reasons.append(
                f"Supply is far above demand: {tasks_a_week:.0f} tasks a week for {pool} "
                f"people at {per_task:.1f} offers per task is {_percent(volume, 0)} of the pool a "
                "week, so even if every offer went to someone new the target was out of "
                f"reach. It needs at least {needed:.0f} offers per task: more people asked "
                f"per task (waves of {wave} or more), which no ordering can replace."
            )
        if first < TARGET_OFFERED_WEEKLY:
            reasons.append(
                f"While first waves succeed, offers stay within {policy['radius_km']:g} km "
                f"of the task, and only {_percent(first, 0)} of volunteers live that close "
                "to a task in their roles in a week: those further out are asked only when "
                "a first wave fails."
            )
    if not report["verdict"]["time_met"]:
        halves = report["model"]["accept_halves_km"]
        mine = ours["offers_the_person_would_take"]
        theirs = nearest["offers_the_person_would_take"]
        away = (
            f"Our ranking asked people {ours['km_to_task_of_offers']['mean']:.1f} km from the task "
            f"on average, nearest first {nearest['km_to_task_of_offers']['mean']:.1f} km"
        )
        if mine < theirs:
            reasons.append(
                f"{away}. In this model a yes halves every {halves:g} km, so fewer of "
                f"those asked would say yes ({_percent(mine)} of offers, against "
                f"{_percent(theirs)}) and the first yes comes later: the price of asking "
                f"people who are not the nearest. A median over {report['tasks_posted']} "
                "tasks also moves by chance: compare a few seeds."
            )
        else:
            reasons.append(
                f"{away}, yet {_percent(mine)} of those it asked would say yes, against "
                f"{_percent(theirs)}: distance does not explain the slower median here. "
                f"A median over {report['tasks_posted']} tasks also moves by chance: "
                "compare a few seeds."
            )
    return reasons


def describe(report: dict[str, Any]) -> str:
    """The report as a reader wants it: both policies side by side, then the verdict."""
    ours, nearest = report["policies"]["our ranking"], report["policies"]["nearest first"]
    policy = report["policy"]
    rows = [
        f"{label:<50}{_cell(mine):>14}{_cell(theirs):>16}"
        for (label, mine), (_, theirs) in zip(_column(ours), _column(nearest), strict=True)
    ]
    last = policy["radius_km"] + (policy["max_waves"] - 1) * policy["radius_growth_km"]
    verdict = report["verdict"]
    ratio = verdict["time_ratio"]
    lines = [
        f"Dispatch simulation: {report['volunteers_on_duty']} volunteers on duty in a "
        f"{report['district_side_km']:g} km square district (NHS density), {report['days']} "
        f"days from {report['start']} ({report['weeks']} complete weeks), seed {report['seed']}.",
        f"Demand: {report['tasks_posted']} tasks, {report['tasks_per_volunteer_week']} per "
        "on-duty volunteer a week as NHS Volunteer Responders; 85 % community response, "
        "15 % patient transport; clients 90 % in towns, volunteers 75 %.",
        f"Policy: waves of {policy['wave_size']}, {policy['wave_timeout_minutes']} minutes "
        f"apart, {policy['max_waves']} waves, {policy['radius_km']:g} km + "
        f"{policy['radius_growth_km']:g} km a wave, then escalation; "
        f"{policy['max_alerts_per_day']} alerts a day at most.",
        "",
        f"{'':<50}{'our ranking':>14}{'nearest first':>16}",
        *rows,
        "",
        "Volunteers living near a task in their roles, mean of the weeks: "
        f"{_percent(statistics.fmean(report['within_first_wave_weekly']))} within the first "
        f"wave's {policy['radius_km']:g} km, "
        f"{_percent(statistics.fmean(report['within_reach_weekly']))} within the last "
        f"wave's {last:g} km (nobody further can be offered one).",
        "NHS Volunteer Responders offered a task to "
        f"{_percent(report['nhs_offered_weekly'], 0)} of on-duty volunteers in a given week.",
        "",
        f"Target: at least {_percent(TARGET_OFFERED_WEEKLY, 0)} offered a task each week, and "
        f"a median time to acceptance no more than {_percent(TARGET_TIME_RATIO - 1, 0)} above "
        "nearest first's.",
        f"  offered weekly: {_percent(ours['mean_weekly_offered_share'])}: "
        f"{'met' if verdict['offered_weekly_met'] else 'missed'}",
        "  median time to acceptance: "
        + (f"{_percent(ratio, 0)} of nearest first's" if ratio is not None else "not measured")
        + f": {'met' if verdict['time_met'] else 'missed'}",
        f"Verdict: {'target met' if verdict['met'] else 'target missed'}.",
        *(f"  - {reason}" for reason in _why(report)),
        "",
        f"Took {report['seconds']:.0f} s.",
    ]
    return "\n".join(lines)


def _column(figures: dict[str, Any]) -> list[tuple[str, Any]]:
    """One policy's figures, labelled, in the order of the table."""
    outcomes = figures["offer_outcomes"]
    return [
        *(
            (f"offered a task, week {week + 1}", _percent(share))
            for week, share in enumerate(figures["weekly_offered_share"])
        ),
        ("offered a task, mean of the weeks", _percent(figures["mean_weekly_offered_share"])),
        ("minutes from posting to acceptance, median", figures["minutes_to_accept"]["median"]),
        ("minutes from posting to acceptance, p90", figures["minutes_to_accept"]["p90"]),
        ("tasks taken", f"{figures['taken']} of {figures['tasks']}"),
        ("  in the first wave", figures["taken_in_first_wave"]),
        ("tasks unmet (escalated or expired)", figures["unmet"]),
        ("  escalated to the coordinator after the last wave", figures["escalated"]),
        ("    of those, taken later by a late answer", figures["escalated_then_taken_late"]),
        ("  expired, nobody took it", figures["expired_untaken"]),
        ("offers sent", figures["offers"]),
        (
            "  the person asked would say yes (drawn)",
            _percent(figures["offers_the_person_would_take"]),
        ),
        ("  accepted", _percent(outcomes["accepted"])),
        ("  declined", _percent(outcomes["declined"])),
        ("  expired unanswered", _percent(outcomes["expired"])),
        ("  withdrawn (taken by someone else)", _percent(outcomes["withdrawn"])),
        ("  km from home to the task, mean", figures["km_to_task_of_offers"]["mean"]),
        (
            "offers sent a week / on-duty volunteers (mean)",
            _percent(statistics.fmean(figures["offers_sent_over_pool_weekly"])),
        ),
        *(
            (f"volunteers offered {'once' if label == '1' else label + ' times'} in all", count)
            for label, count in figures["offers_per_volunteer"].items()
        ),
        ("most offers to one volunteer", figures["max_offers_per_volunteer"]),
    ]


def _percent(share: float, digits: int = 1) -> str:
    return f"{share * 100:.{digits}f} %"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
