"""Tenant files on disk (`nyby tenants apply/export`): YAML in, YAML out."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select

from nyby.configuration import services
from nyby.configuration.services import InvalidConfiguration
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.tenancy.models import Tenant


class InvalidFile(Exception):
    """A file that cannot be read as YAML or does not validate; the message says where."""


def apply_file(path: Path, *, dry_run: bool = False) -> list[str]:
    """Apply one tenant file in its own transaction; return the plan's lines."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InvalidFile(f"{path}: not valid YAML: {error}") from error
    try:
        if dry_run:
            changes = services.plan(db.session(), raw)
            db.session.rollback()
        else:
            _, changes = services.apply(db.session(), raw)
            db.session.commit()
    except InvalidConfiguration as error:
        db.session.rollback()
        raise InvalidFile(f"{path}: {error.detail}") from error
    return [str(change) for change in changes]


def export_file(slug: str) -> str:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"No tenant {slug!r}.")
    return services.dump_yaml(services.export(db.session(), tenant))
