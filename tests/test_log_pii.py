"""Application logs carry ids, never a client's name, address, email or phone number:
a whole client-and-task flow, a failing SQL statement and the development server's
access log, each scanned with ``tests.logscan``."""

from __future__ import annotations

import logging
import threading
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server

from nyby.core.db import db, utcnow
from nyby.core.logs import PathOnlyRequestHandler
from tests.conftest import Person, World, run_jobs
from tests.logscan import LogScan, client_details
from tests.tasking import TASKS, volunteer

API = "/api/v1/tenants/borough"
EDITH = {
    "name": "Edith Clarkson",
    "phone": "+44 20 7946 0123",
    "email": "edith.clarkson@example.org",
    "address": "12 Privet Road, Little Whinging",
    "postcode": "SW1A 1AA",
    "latitude": 51.5014,
    "longitude": -0.1419,
    "risk_assessment": "Lives alone.",
}


def _browser(app: Flask, person: Person) -> FlaskClient:
    web = app.test_client()
    with web.session_transaction() as session:
        session["account_id"] = str(person.account.id)
    return web


def test_a_client_and_task_flow_logs_no_client_details(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, log_scan: LogScan
) -> None:
    edith = client.post(f"{API}/clients", json=EDITH, headers=nurse.headers).json
    url = f"{API}/clients/{edith['id']}"
    web = _browser(app, nurse)
    # Searching by name puts it in a query string; reading and changing the record.
    assert client.get(f"{API}/clients", query_string={"name": "Clarkson"}, headers=nurse.headers)
    assert web.get("/t/borough/clients?name=Edith+Clarkson").status_code == 200
    assert web.get(f"/t/borough/clients/{edith['id']}").status_code == 200
    shown = client.get(url, headers=nurse.headers)
    changed = client.patch(
        url,
        json={"phone": "+44 20 7946 0999"},
        headers={**nurse.headers, "If-Match": shown.headers["ETag"]},
    )
    assert changed.status_code == 200
    # A task for her, taken, done; its notices and mail delivered by the jobs.
    start = utcnow() + timedelta(hours=1)
    task = client.post(
        TASKS,
        json={
            "role": "shopper",
            "client_id": edith["id"],
            "title": "Weekly shop",
            "description": "Bread and milk.",
            "estimated_minutes": 30,
            "earliest_start": start.isoformat(),
            "due_by": (start + timedelta(days=1)).isoformat(),
        },
        headers=nurse.headers,
    ).json
    amy = volunteer(app, world, borough)
    for step in ("accept", "start"):
        assert client.post(f"{TASKS}/{task['id']}/{step}", headers=amy.headers).status_code == 200
    seen = client.get(f"{TASKS}/{task['id']}", headers=amy.headers).json
    assert seen["client"]["name"] == "Edith Clarkson"  # the holder does see her
    assert _browser(app, amy).get(f"/t/borough/tasks/{task['id']}").status_code == 200
    done = client.post(
        f"{TASKS}/{task['id']}/complete",
        json={"minutes_spent": 30, "outcome_note": "Delivered."},
        headers=amy.headers,
    )
    assert done.status_code == 200
    # Bad input on the way: refused, and logged (if at all) without her details.
    assert client.patch(url, json={"email": "not an email"}, headers=nurse.headers).status_code in (
        422,
        428,
    )
    run_jobs(app)

    assert log_scan.lines, "nothing was captured: the scan would prove nothing"
    assert any(edith["id"] in line or "clients" in line for line in log_scan.lines)
    log_scan.assert_free_of(*client_details(EDITH), "+44 20 7946 0999")


def test_a_failing_sql_statement_logs_the_statement_not_the_values(
    app: Flask,
    client: FlaskClient,
    nurse: Person,
    monkeypatch: pytest.MonkeyPatch,
    log_scan: LogScan,
) -> None:
    edith = client.post(f"{API}/clients", json=EDITH, headers=nurse.headers).json

    def broken_update(actor: Any, record: Any, data: dict[str, Any]) -> Any:
        # A bug of the kind that reaches the "unhandled error" log with its traceback.
        db.session.execute(
            text("INSERT INTO no_such_table (name, address) VALUES (:name, :address)"),
            {"name": record.name, "address": record.address},
        )

    monkeypatch.setattr("nyby.clients.services.update_client", broken_update)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    shown = client.get(f"{API}/clients/{edith['id']}", headers=nurse.headers)
    failed = client.patch(
        f"{API}/clients/{edith['id']}",
        json={"pets": True},
        headers={**nurse.headers, "If-Match": shown.headers["ETag"]},
    )
    assert failed.status_code == 500
    assert failed.headers["X-Request-ID"]
    logged = "\n".join(log_scan.lines)
    assert "no_such_table" in logged
    assert f"[{failed.headers['X-Request-ID']}]" in logged  # the request's id, to follow it
    log_scan.assert_free_of(*client_details(EDITH))


def test_the_development_servers_access_log_leaves_out_query_strings(
    app: Flask, log_scan: LogScan
) -> None:
    server = make_server("127.0.0.1", 0, app, request_handler=PathOnlyRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        query = "name=Edith+Clarkson&email=edith.clarkson%40example.org"
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz?{query}") as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        thread.join()
    access = [line for line in log_scan.lines if "werkzeug" in line]
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in access), access
    log_scan.assert_free_of("Clarkson", "edith.clarkson", "example.org")


def test_the_scan_finds_a_detail_that_was_logged(log_scan: LogScan) -> None:
    logging.getLogger("nyby.somewhere").info("visiting %s", "Edith Clarkson")
    assert log_scan.found("edith clarkson")
    with pytest.raises(AssertionError, match="personal details in the logs"):
        log_scan.assert_free_of(*client_details(EDITH))
