"""Exports: an admin asks for a CSV file; a job writes it, batch by batch, to file storage.

The export row is the job's outbox. Asking writes it (status ``queued``) in the
request's transaction and enqueues the job once that commits; if Redis is down the
row waits, and the sweep (``jobs.send_queued_exports``) enqueues it later. Every step
of a run is a conditional UPDATE on the row:

- **claim**: ``queued`` (or ``running`` with a heartbeat stopped for ``STALE_AFTER``,
  left by a dead worker) becomes ``running`` and ``attempts`` goes up by one. Of two
  runs at once (a duplicated job, the sweep and the first job) exactly one matches.
- **progress** and **finish** match only the run's own attempt, so a run that stalled
  and was overtaken writes nothing more, and ``done`` is written once.

The file's key is the export's own (``exports/<id>/<name>.csv``), so a run that starts
again writes over the same file: one export, one file.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select, update

from nyby.auth.permissions import Action
from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict
from nyby.exports.kinds import KINDS
from nyby.exports.models import Export, ExportStatus
from nyby.integrations.storage import tenant_files
from nyby.members.services import display_names
from nyby.tenancy.context import current_tenant_id
from nyby.tenancy.resolution import Actor

log = logging.getLogger(__name__)

# A running export whose heartbeat (written every batch) stopped this long ago was left
# by a dead worker.
STALE_AFTER = timedelta(minutes=10)
# After this many runs that stopped without finishing, the export fails for good.
MAX_ATTEMPTS = 3
# Why an export failed, as the API says it (the page shows these in the reader's language).
STOPPED = "The export stopped three times before it finished; ask for it again."
UNKNOWN_KIND = "This kind of export is no longer offered."
UNEXPECTED = "The export stopped on an unexpected error, which has been logged; ask for it again."


def request_export(actor: Actor, data: dict[str, Any]) -> Export:
    """Write the request (the job's outbox) and enqueue its job once it commits."""
    actor.require(Action.EXPORT_DATA)
    start, end = data.get("start"), data.get("end")
    export = Export(
        kind=data["kind"],
        parameters={
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        },
        requested_by=actor.membership.id,
    )
    db.session.add(export)
    db.session.flush()
    enqueue_run(export.id)
    log.info("export %s (%s) asked for by member %s", export.id, export.kind, actor.membership.id)
    return export


def enqueue_run(export_id: uuid.UUID) -> None:
    """After the commit, and never if it rolls back. If Redis is down the enqueue fails
    (logged); the row stays queued and the sweep sends it."""
    from nyby.exports.jobs import run_export
    from nyby.jobs.queues import enqueue_after_commit

    enqueue_after_commit(run_export, str(current_tenant_id()), str(export_id))


def list_exports(actor: Actor) -> Rows:
    actor.require(Action.EXPORT_DATA)
    statement: Select[Any] = select(Export).order_by(Export.created_at.desc(), Export.id)
    return Rows(statement, lambda page: present_all([row[0] for row in page]))


def percent(export: Export) -> int:
    if export.status == ExportStatus.DONE:
        return 100
    if not export.rows_total:
        return 0
    return min(99, export.rows_done * 100 // export.rows_total)


def present(export: Export) -> dict[str, Any]:
    return present_all([export])[0]


def present_all(exports: list[Export]) -> list[dict[str, Any]]:
    names = display_names(e.requested_by for e in exports)
    files = tenant_files() if any(e.status == ExportStatus.DONE for e in exports) else None
    shown = []
    for export in exports:
        link = None
        if files is not None and export.status == ExportStatus.DONE and export.storage_key:
            link = files.download_url(
                export.storage_key,
                file_name=export.file_name or "export.csv",
                content_type="text/csv",
            )
        shown.append(
            {
                "id": export.id,
                "kind": export.kind,
                "parameters": {
                    name: date.fromisoformat(day) if (day := export.parameters.get(key)) else None
                    for name, key in (("start", "from"), ("end", "to"))
                },
                "status": export.status,
                "rows_done": export.rows_done,
                "rows_total": export.rows_total,
                "percent": percent(export),
                "error": export.error,
                "requested_by": export.requested_by,
                "requested_by_name": names.get(export.requested_by, ""),
                "created_at": export.created_at,
                "started_at": export.started_at,
                "finished_at": export.finished_at,
                "file_name": export.file_name,
                "size_bytes": export.size_bytes,
                "download_url": link,
                "download_expires_at": (
                    utcnow() + timedelta(seconds=files.url_seconds)
                    if link and files is not None
                    else None
                ),
            }
        )
    return shown


def download_url(actor: Actor, export: Export) -> str:
    """A short-lived link to a finished export's file (the access helper has let the
    caller see the export)."""
    actor.require(Action.EXPORT_DATA)
    if export.status != ExportStatus.DONE or export.storage_key is None:
        raise Conflict("This export is not ready yet.")
    return tenant_files().download_url(
        export.storage_key, file_name=export.file_name or "export.csv", content_type="text/csv"
    )


# -- the steps of a run (the job commits between them) -------------------------------------


def _changed(statement: Any) -> bool:
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return getattr(result, "rowcount", 0) == 1


def claim(export_id: uuid.UUID) -> int | None:
    """Take the export on; the run's attempt number, or None if another run has it (or
    it is finished)."""
    now = utcnow()
    taken = _changed(
        update(Export)
        .where(
            Export.id == export_id,
            or_(
                Export.status == ExportStatus.QUEUED.value,
                and_(
                    Export.status == ExportStatus.RUNNING.value,
                    Export.heartbeat_at < now - STALE_AFTER,
                    Export.attempts < MAX_ATTEMPTS,
                ),
            ),
        )
        .values(
            status=ExportStatus.RUNNING.value,
            attempts=Export.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            rows_done=0,
            updated_at=now,
        )
    )
    if not taken:
        return None
    return db.session.scalar(select(Export.attempts).where(Export.id == export_id))


def _own_run(export_id: uuid.UUID, attempt: int) -> Any:
    return update(Export).where(
        Export.id == export_id,
        Export.attempts == attempt,
        Export.status == ExportStatus.RUNNING.value,
    )


def counted(export_id: uuid.UUID, attempt: int, total: int) -> bool:
    return _changed(_own_run(export_id, attempt).values(rows_total=total, heartbeat_at=utcnow()))


def progress(export_id: uuid.UUID, attempt: int, rows_done: int) -> bool:
    """Rows written so far; False if this run is no longer the export's."""
    return _changed(_own_run(export_id, attempt).values(rows_done=rows_done, heartbeat_at=utcnow()))


def finish(
    export_id: uuid.UUID, attempt: int, key: str, file_name: str, size: int, rows: int
) -> bool:
    now = utcnow()
    return _changed(
        _own_run(export_id, attempt).values(
            status=ExportStatus.DONE.value,
            storage_key=key,
            file_name=file_name,
            size_bytes=size,
            rows_done=rows,
            rows_total=rows,
            finished_at=now,
            heartbeat_at=now,
            error="",
            updated_at=now,
        )
    )


def fail(export_id: uuid.UUID, attempt: int | None, reason: str) -> bool:
    """Failed, saying why (``attempt`` None: whichever run, for the sweep)."""
    now = utcnow()
    statement = update(Export).where(
        Export.id == export_id,
        Export.status.in_([ExportStatus.QUEUED.value, ExportStatus.RUNNING.value]),
    )
    if attempt is not None:
        statement = statement.where(Export.attempts == attempt)
    return _changed(
        statement.values(
            status=ExportStatus.FAILED.value, error=reason[:2000], finished_at=now, updated_at=now
        )
    )


def give_up_stale() -> int:
    """Running exports whose worker died ``MAX_ATTEMPTS`` times: failed, saying so."""
    now = utcnow()
    result = db.session.execute(
        update(Export)
        .where(
            Export.status == ExportStatus.RUNNING.value,
            Export.heartbeat_at < now - STALE_AFTER,
            Export.attempts >= MAX_ATTEMPTS,
        )
        .values(
            status=ExportStatus.FAILED.value,
            error=STOPPED,
            finished_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def waiting(sweep_after: timedelta) -> list[uuid.UUID]:
    """Exports whose job never ran (queued for a while) or whose worker died (running,
    heartbeat stopped): the sweep enqueues them again."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(Export.id)
            .where(
                or_(
                    and_(
                        Export.status == ExportStatus.QUEUED.value,
                        Export.created_at < now - sweep_after,
                    ),
                    and_(
                        Export.status == ExportStatus.RUNNING.value,
                        Export.heartbeat_at < now - STALE_AFTER,
                    ),
                )
            )
            .order_by(Export.created_at)
        )
    )


def kind_of(export: Export) -> Any:
    return KINDS.get(export.kind)
