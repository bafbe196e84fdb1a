"""`nyby simulate-dispatch`: the engagement simulation of issue 5, run as a reader runs
it, at a tiny scale. What the report's reader relies on: both policies are there, on the
same tasks; weekly shares are shares of the on-duty pool; our ranking reaches more of
the pool than nearest first when supply exceeds demand; the verdict follows the figures;
the same seed gives the same report; and the configured database is never touched."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from nyby.configuration.schemas import DispatchPolicySchema
from nyby.core.db import db, simulated_clock, utcnow
from nyby.dispatch.simulation import SLUG
from nyby.dispatch.simulation_report import TARGET_OFFERED_WEEKLY, describe
from nyby.tenancy.models import Tenant

POOL = 100
# One week: every offer falls in it (tasks are posted by day, waves take minutes).
RUN = ["simulate-dispatch", "--volunteers", str(POOL), "--days", "7", "--seed", "7"]
POLICIES = {"our ranking", "nearest first"}


def invoke(app: Flask, *extra: str) -> Any:
    result = app.test_cli_runner().invoke(args=[*RUN, *extra])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def report(app: Flask) -> dict[str, Any]:
    # The environment names the test database, as a deployment's names its own: the
    # simulation must still keep to its scratch database.
    settings = app.extensions["nyby.settings"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", settings.database_url)
        env.setenv("MIGRATION_DATABASE_URL", settings.migration_database_url)
        return json.loads(invoke(app, "--json").stdout)  # type: ignore[no-any-return]


def test_both_policies_replay_the_same_tasks(report: dict[str, Any]) -> None:
    assert set(report["policies"]) == POLICIES
    assert report["volunteers_on_duty"] == POOL and report["weeks"] == 1
    assert report["tasks_posted"] > 0
    for figures in report["policies"].values():
        assert figures["tasks"] == report["tasks_posted"]
        assert figures["taken"] + figures["unmet"] >= figures["tasks"]
    assert report["policies"]["nearest first"]["weights"] == {
        "distance": 1.0,
        "continuity": 0.0,
        "fairness": 0.0,
        "language": 0.0,
        "response": 0.0,
    }


def test_both_policies_ask_as_many_per_wave_as_the_tenant_default(
    report: dict[str, Any],
) -> None:
    # The baseline differs from ours in its weights alone: a nearest first that asked
    # fewer people per wave would make our time to acceptance look better than it is.
    shipped = DispatchPolicySchema().load({})["wave_size"]
    assert report["policy"]["wave_size"] == shipped
    for figures in report["policies"].values():
        assert figures["wave_size"] == shipped
        assert figures["largest_wave"] == shipped


def test_weekly_shares_are_shares_of_the_on_duty_pool(report: dict[str, Any]) -> None:
    for figures in report["policies"].values():
        [offered], [share] = figures["weekly_offered"], figures["weekly_offered_share"]
        assert 0 < offered <= POOL
        assert share == pytest.approx(offered / POOL, abs=1e-4)
        assert figures["mean_weekly_offered_share"] == share
        # Everyone is on duty all week: those offered at least once, out of all of them.
        assert figures["offers_per_volunteer"]["0"] == POOL - offered
        assert sum(figures["offers_per_volunteer"].values()) == POOL
        assert offered <= figures["offers"]


def test_our_ranking_offers_more_of_the_pool_than_nearest_first(report: dict[str, Any]) -> None:
    ours, nearest = (report["policies"][name] for name in ("our ranking", "nearest first"))
    # Supply far above demand: a tenth of a task per volunteer a week.
    assert report["tasks_posted"] < POOL / 5
    print(
        "weekly share offered, our ranking vs nearest first:",
        ours["mean_weekly_offered_share"],
        nearest["mean_weekly_offered_share"],
    )
    assert ours["mean_weekly_offered_share"] > nearest["mean_weekly_offered_share"]
    assert ours["max_offers_per_volunteer"] <= nearest["max_offers_per_volunteer"]


def test_the_verdict_follows_the_figures(report: dict[str, Any]) -> None:
    ours, nearest = (report["policies"][name] for name in ("our ranking", "nearest first"))
    verdict = report["verdict"]
    assert verdict["offered_weekly_met"] == (
        ours["mean_weekly_offered_share"] >= TARGET_OFFERED_WEEKLY
    )
    ratio = ours["minutes_to_accept"]["median"] / nearest["minutes_to_accept"]["median"]
    assert verdict["time_ratio"] == pytest.approx(ratio, abs=0.001)
    assert verdict["time_met"] == (ratio <= 1.1)
    assert verdict["met"] == (verdict["offered_weekly_met"] and verdict["time_met"])
    for figures in report["policies"].values():
        minutes = figures["minutes_to_accept"]
        assert 0 < minutes["median"] <= minutes["p90"]


def test_the_text_report_is_the_same_run_again(app: Flask, report: dict[str, Any]) -> None:
    result = invoke(app)
    assert "a minute or two on two cores" in result.stderr
    text = result.stdout
    assert "our ranking" in text and "nearest first" in text
    assert "offered a task, week 1" in text and "Verdict: target" in text
    # The same seed replays the same month: the text is the JSON run's, to the figure.
    took = [line for line in text.splitlines() if line.startswith("Took ")]
    assert len(took) == 1
    again = describe({**report, "seconds": 0}).splitlines()
    assert [line for line in text.splitlines() if line not in took] == [
        line for line in again if not line.startswith("Took ")
    ]


def test_the_configured_database_is_never_touched(app: Flask, report: dict[str, Any]) -> None:
    with app.app_context():
        assert db.session.scalar(select(Tenant).where(Tenant.slug == SLUG)) is None


def test_the_simulated_clock_stays_in_its_block_and_its_thread() -> None:
    then = datetime(2025, 1, 6, tzinfo=UTC)
    elsewhere: list[datetime] = []
    with simulated_clock(lambda: then):
        assert utcnow() == then
        # A request or the in-process worker running meanwhile keeps the real time.
        other = threading.Thread(target=lambda: elsewhere.append(utcnow()))
        other.start()
        other.join()
    real = datetime.now(UTC)
    assert abs(elsewhere[0] - real) < timedelta(minutes=1)
    assert abs(utcnow() - real) < timedelta(minutes=1)
