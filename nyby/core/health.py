"""`/healthz` for load balancers and Kubernetes probes: the database (and Redis) answer."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from nyby.core.db import db

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unreachable"
    client = current_app.extensions.get("nyby.redis")
    if client is not None:
        try:
            client.ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "unreachable"
    healthy = all(value == "ok" for value in checks.values())
    return {"status": "ok" if healthy else "unavailable", **checks}, 200 if healthy else 503
