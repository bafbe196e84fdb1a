"""nyby: health and social care task sharing. ``create_app`` wires the parts; nothing else."""

from __future__ import annotations

import logging

import redis
from flask import Flask

from nyby.config import Settings

log = logging.getLogger("nyby")


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.extensions["nyby.settings"] = settings

    from nyby import models  # noqa: F401  (every mapper, so every foreign key resolves)
    from nyby.auth.ratelimit import MemoryFailureCounter, RedisFailureCounter
    from nyby.auth.tokens import init_tokens
    from nyby.core.api import init_api
    from nyby.core.db import db
    from nyby.core.pipeline import init_pipeline
    from nyby.integrations.mail import init_mail
    from nyby.integrations.push import init_push
    from nyby.integrations.sms import init_sms
    from nyby.integrations.storage import init_storage
    from nyby.jobs.queues import init_queue
    from nyby.web import init_web

    db.init_app(app, settings.database_url)
    init_tokens(app, settings)
    redis_client = redis.Redis.from_url(settings.redis_url) if settings.redis_url else None
    app.extensions["nyby.redis"] = redis_client
    app.extensions["nyby.login_failures"] = (
        RedisFailureCounter(redis_client) if redis_client else MemoryFailureCounter()
    )
    init_queue(app, redis_client)
    init_storage(app, settings)
    init_mail(app, settings)
    init_sms(app, settings)
    init_push(app, settings)
    init_pipeline(app)
    api = init_api(app)
    _register_blueprints(api)
    init_web(app)
    from nyby.core.health import health

    app.register_blueprint(health)
    from nyby.cli import register_commands

    register_commands(app)
    _log_backends(settings)
    return app


def _register_blueprints(api: object) -> None:
    from nyby.audit.resources import blp as audit
    from nyby.auth.resources import blp as auth
    from nyby.campaigns.resources import blp as campaigns
    from nyby.chat.resources import blp as chat
    from nyby.clients.resources import blp as clients
    from nyby.configuration.resources import blp as configuration
    from nyby.dispatch.resources import blp as dispatch
    from nyby.escalations.resources import blp as escalations
    from nyby.expenses.resources import blp as expenses
    from nyby.exports.resources import blp as exports
    from nyby.feedback.resources import blp as feedback
    from nyby.members.resources import blp as members
    from nyby.notifications.resources import blp as notifications
    from nyby.onboarding.resources import blp as onboarding
    from nyby.provision.resources import blp as provision
    from nyby.recognition.resources import blp as recognition
    from nyby.reporting.resources import blp as reporting
    from nyby.safeguarding.resources import blp as safeguarding
    from nyby.tasks.resources import blp as tasks

    for blueprint in (
        auth,
        members,
        configuration,
        onboarding,
        clients,
        tasks,
        dispatch,
        escalations,
        chat,
        notifications,
        campaigns,
        audit,
        safeguarding,
        expenses,
        feedback,
        recognition,
        provision,
        exports,
        reporting,
    ):
        api.register_blueprint(blueprint)  # type: ignore[attr-defined]


def _log_backends(settings: Settings) -> None:
    from nyby.integrations.storage import describe

    database = "SQLite file (embedded default)" if settings.uses_embedded_database else "PostgreSQL"
    log.info("database: %s", database)
    log.info(
        "queue: %s",
        "RQ on Redis" if settings.redis_url else "in-process (embedded default: set REDIS_URL)",
    )
    log.info("files: %s", describe(settings))
    log.info(
        "mail: %s",
        f"local outbox {settings.outbox_dir} (embedded default: set MAIL_BACKEND=smtp)"
        if settings.mail_backend == "outbox"
        else settings.mail_backend,
    )
    log.info("sms: %s, web push: %s", settings.sms_backend, settings.push_backend)
