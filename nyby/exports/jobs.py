"""The export job (one file, written in batches with its progress committed after each)
and the sweep that sends exports whose job was lost."""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from nyby.core.db import db
from nyby.core.errors import DomainError
from nyby.core.spreadsheet import safe_cell
from nyby.exports import services
from nyby.exports.kinds import ExportKind, Period
from nyby.exports.models import Export
from nyby.integrations.storage import tenant_files
from nyby.jobs import queues
from nyby.jobs.queues import tenant_job
from nyby.tenancy.context import current_tenant_id
from nyby.tenancy.models import Tenant

log = logging.getLogger(__name__)

# Rows read, written and committed as progress at a time.
BATCH_SIZE = 2000
# Fresh exports are their own job's; the sweep takes over after this long.
SWEEP_AFTER = timedelta(minutes=2)
# A whole large tenant's tasks take minutes, more than RQ's default of three.
JOB_TIMEOUT_SECONDS = 2 * 60 * 60


@tenant_job
def run_export(export_id: str) -> bool:
    """Write the export's CSV to file storage; True if this run finished it. A duplicate
    or retried job that finds the export taken or finished does nothing."""
    found = uuid.UUID(export_id)
    attempt = services.claim(found)
    db.session.commit()  # "running" is seen at once, and a second run now finds it taken
    if attempt is None:
        return False
    try:
        return _write(found, attempt)
    except Exception as error:
        db.session.rollback()
        if isinstance(error, DomainError):
            reason = error.detail  # e.g. file storage not available: said in plain words
        else:
            reason = services.UNEXPECTED
            log.exception("export %s failed", found)
        log.warning("export %s failed (%s)", found, type(error).__name__)
        services.fail(found, attempt, reason)
        return False


# RQ reads this when the job is enqueued (``queues.RedisQueue.enqueue_many``).
setattr(run_export, "job_timeout", JOB_TIMEOUT_SECONDS)  # noqa: B010


def _write(export_id: uuid.UUID, attempt: int) -> bool:
    export = db.session.scalar(select(Export).where(Export.id == export_id))
    tenant = db.session.get(Tenant, current_tenant_id())
    assert export is not None and tenant is not None
    kind = services.kind_of(export)
    if kind is None:
        services.fail(export_id, attempt, services.UNKNOWN_KIND)
        return False
    zone = ZoneInfo(tenant.timezone)
    period = Period.of(export.parameters, zone)
    if not services.counted(export_id, attempt, kind.count(period)):
        return False
    db.session.commit()
    name = _file_name(kind.key, tenant.slug, period)
    with tempfile.TemporaryFile() as file:
        rows = _write_rows(file, kind, period, zone, export_id, attempt)
        if rows is None:
            return False  # another run took the export over; the file is its to write
        size = file.tell()
        file.seek(0)
        files = tenant_files()
        key = files.key("exports", export_id, name)
        files.put(key, file, "text/csv")
    done = services.finish(export_id, attempt, key, name, size, rows)
    log.info("export %s done: %s rows, %s bytes", export_id, rows, size)
    return done


def _write_rows(
    file: IO[bytes],
    kind: ExportKind,
    period: Period,
    zone: ZoneInfo,
    export_id: uuid.UUID,
    attempt: int,
) -> int | None:
    """The header and every batch of rows; progress committed after each batch."""
    text = io.TextIOWrapper(file, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(kind.header)
    written = 0
    for batch in kind.rows(period, BATCH_SIZE):
        writer.writerows([[cell(value, zone) for value in row] for row in batch])
        written += len(batch)
        if not services.progress(export_id, attempt, written):
            text.detach()
            return None
        db.session.commit()
    text.flush()
    text.detach()  # the file stays open for storage to read
    return written


def cell(value: Any, zone: ZoneInfo) -> str:
    """One CSV cell: times in the tenant's zone, yes/no, and text a spreadsheet would run
    as a formula kept as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal | uuid.UUID):
        return str(value)
    return safe_cell(str(value))


def _file_name(kind: str, slug: str, period: Period) -> str:
    days = [str(day) for day in (period.start, period.end) if day is not None]
    return "-".join([kind, slug, *days]) + ".csv"


@tenant_job
def send_queued_exports() -> int:
    """Enqueue every export whose job never ran (Redis was down when it was asked for)
    or whose worker died mid-way (periodic); exports that died too often fail."""
    services.give_up_stale()
    waiting = services.waiting(SWEEP_AFTER)
    tenant_id = str(current_tenant_id())
    for export_id in waiting:
        queues.enqueue(run_export, tenant_id, str(export_id))
    return len(waiting)
