"""Task attachments through the HTTP API: upload, list, download, delete, and who may.

Most run on the app's embedded local folder; the last one runs the same story against
a real S3-compatible server (moto), with the download fetched over HTTP.
"""

from __future__ import annotations

import dataclasses
import io
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby import create_app
from nyby.auth.permissions import Role
from nyby.core.db import db
from nyby.core.errors import Conflict
from nyby.tasks.models import TaskAttachment
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, S3Endpoint, World
from tests.samples import EXE, JPEG, PDF, PNG
from tests.tasking import TASKS, post_task, volunteer
from tests.test_storage import fetch

ATTACHMENTS = "/api/v1/tenants/borough/attachments"


def upload(
    client: FlaskClient,
    person: Person,
    task_id: str,
    data: bytes = PNG,
    name: str = "shopping-list.png",
    declared: str = "application/octet-stream",
    **headers: str,
) -> Any:
    return client.post(
        f"{TASKS}/{task_id}/attachments",
        data={"file": (io.BytesIO(data), name, declared)},
        headers={**person.headers, **headers},
        content_type="multipart/form-data",
    )


def stored_files(app: Flask, tenant: Any) -> list[Path]:
    """What the local folder holds for this tenant (temporary files included)."""
    root = app.extensions["nyby.settings"].storage_dir / "tenants" / str(tenant.id)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def attachment_rows(app: Flask, tenant: Any) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalar(select(func.count()).select_from(TaskAttachment)) or 0


def download(client: FlaskClient, url: str) -> Any:
    """Follow a download link as a browser would: no Authorization header."""
    return client.get(url)


def test_upload_list_download_and_delete(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    # The client calls it a generic binary: the type is read from the bytes.
    added = upload(client, nurse, task["id"])
    assert added.status_code == 201, added.json
    attachment = added.json
    assert attachment["file_name"] == "shopping-list.png"
    assert attachment["content_type"] == "image/png"
    assert attachment["size_bytes"] == len(PNG)
    assert attachment["task_id"] == task["id"]
    assert attachment["uploaded_by"] == str(nurse.membership.id)  # type: ignore[union-attr]
    assert "storage_key" not in attachment and "download_url" not in attachment
    second = upload(client, nurse, task["id"], PDF, "referral letter.pdf").json

    listed = client.get(f"{TASKS}/{task['id']}/attachments", headers=nurse.headers)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json] == [attachment["id"], second["id"]]

    detail = client.get(f"{ATTACHMENTS}/{attachment['id']}", headers=nurse.headers)
    assert detail.status_code == 200
    url = detail.json["download_url"]
    assert url.startswith("http://localhost/files/") and detail.json["download_expires_at"]
    got = download(client, url)
    assert got.status_code == 200 and got.data == PNG
    assert got.mimetype == "image/png"
    assert got.headers["Content-Disposition"] == "attachment; filename=shopping-list.png"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    pdf_url = client.get(f"{ATTACHMENTS}/{second['id']}", headers=nurse.headers).json
    assert download(client, pdf_url["download_url"]).data == PDF
    assert len(stored_files(app, borough)) == 2

    deleted = client.delete(f"{ATTACHMENTS}/{attachment['id']}", headers=nurse.headers)
    assert deleted.status_code == 204
    assert client.get(f"{ATTACHMENTS}/{attachment['id']}", headers=nurse.headers).status_code == (
        404
    )
    listed = client.get(f"{TASKS}/{task['id']}/attachments", headers=nurse.headers).json
    assert [a["id"] for a in listed] == [second["id"]]
    # The file went with it: the link handed out before no longer downloads anything.
    assert download(client, url).status_code == 404
    assert len(stored_files(app, borough)) == 1


def test_an_altered_or_expired_link_is_refused(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = post_task(client, nurse).json
    attachment = upload(client, nurse, task["id"]).json
    url = client.get(f"{ATTACHMENTS}/{attachment['id']}", headers=nurse.headers).json[
        "download_url"
    ]
    token = url.rsplit("/", 1)[1]
    payload, signature = token.rsplit(".", 1)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (f"{payload}.{flipped}", f"{payload[:-2]}xx.{signature}", "nonsense"):
        refused = download(client, f"/files/{bad}")
        assert refused.status_code == 403, bad
        assert refused.json["detail"] == "This download link is not valid."
    # Six minutes later the five-minute link is refused, with the reason.
    later = __import__("time").time() + 360
    monkeypatch.setattr("nyby.integrations.storage.time.time", lambda: later)
    expired = download(client, url)
    assert expired.status_code == 403 and "expired" in expired.json["detail"]


def test_wrong_type_or_too_large_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    limit = app.extensions["nyby.settings"].max_upload_bytes
    # A program renamed to look like a photo, declared as one.
    exe = upload(client, nurse, task["id"], EXE, "holiday.jpg", "image/jpeg")
    assert exe.status_code == 422
    assert exe.headers["Content-Type"] == "application/problem+json"
    assert "JPEG, PNG, HEIC or WebP photos, or PDF documents" in exe.json["detail"]
    assert exe.json["errors"] == {"file": ["Not an accepted file type."]}
    html = upload(client, nurse, task["id"], b"<script>alert(1)</script>", "a.png", "image/png")
    assert html.status_code == 422
    assert upload(client, nurse, task["id"], b"", "empty.pdf").status_code == 422
    # Just over the limit: read, measured and refused.
    just_over = upload(client, nurse, task["id"], JPEG + bytes(limit - len(JPEG) + 1), "big.jpg")
    assert just_over.status_code == 413
    assert just_over.json["detail"].startswith("Files may be at most 10 MB")
    # Far over: refused from its Content-Length before it is read.
    far_over = upload(client, nurse, task["id"], JPEG + bytes(limit + 512 * 1024), "huge.jpg")
    assert far_over.status_code == 413 and "10 MB" in far_over.json["detail"]
    # No file at all.
    missing = client.post(
        f"{TASKS}/{task['id']}/attachments",
        data={"other": "x"},
        headers=nurse.headers,
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422 and "file" in str(missing.json["errors"])
    assert stored_files(app, borough) == []
    assert attachment_rows(app, borough) == 0
    # At the limit exactly is fine.
    at_limit = upload(client, nurse, task["id"], JPEG + bytes(limit - len(JPEG)), "max.jpg")
    assert at_limit.status_code == 201 and at_limit.json["size_bytes"] == limit


def test_a_volunteer_sees_files_only_while_holding_the_task(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    attachment = upload(client, nurse, task["id"], JPEG, "prescription.jpg").json
    amy, ben = volunteer(app, world, borough), volunteer(app, world, borough)
    files_url = f"{TASKS}/{task['id']}/attachments"
    one_url = f"{ATTACHMENTS}/{attachment['id']}"
    # Amy can see the open task, to decide whether to take it, but not its files.
    assert client.get(f"{TASKS}/{task['id']}", headers=amy.headers).status_code == 200
    assert client.get(files_url, headers=amy.headers).status_code == 404
    assert client.get(one_url, headers=amy.headers).status_code == 404
    # Nor may a volunteer add or remove any.
    assert upload(client, amy, task["id"]).status_code == 403
    assert client.delete(one_url, headers=amy.headers).status_code == 403

    assert client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers).status_code == 200
    listed = client.get(files_url, headers=amy.headers)
    assert listed.status_code == 200 and [a["id"] for a in listed.json] == [attachment["id"]]
    link = client.get(one_url, headers=amy.headers)
    assert link.status_code == 200
    assert download(client, link.json["download_url"]).data == JPEG
    # Ben, who does not hold it, hears that there is no such thing.
    assert client.get(files_url, headers=ben.headers).status_code == 404
    missing = client.get(f"{ATTACHMENTS}/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=ben.headers)
    assert client.get(one_url, headers=ben.headers).json["detail"] == missing.json["detail"]

    # Once she gives the task back, the files are closed to her again.
    client.post(f"{TASKS}/{task['id']}/release", headers=amy.headers)
    assert client.get(one_url, headers=amy.headers).status_code == 404


def test_a_finished_task_takes_no_more_files_but_keeps_its_own(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    kept = upload(client, nurse, task["id"]).json
    client.post(f"{TASKS}/{task['id']}/cancel", json={"reason": "Done"}, headers=nurse.headers)
    late = upload(client, nurse, task["id"], PDF, "late.pdf")
    assert late.status_code == 409 and "cancelled" in late.json["detail"]
    listed = client.get(f"{TASKS}/{task['id']}/attachments", headers=nurse.headers).json
    assert [a["id"] for a in listed] == [kept["id"]]
    assert client.delete(f"{ATTACHMENTS}/{kept['id']}", headers=nurse.headers).status_code == 204
    assert stored_files(app, borough) == []


def test_another_tenants_tasks_and_files_are_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    attachment = upload(client, nurse, task["id"]).json
    kommune = world.tenant("kommune")
    astrid = world.person(kommune, Role.PROFESSIONAL, Role.COORDINATOR)
    here = "/api/v1/tenants/kommune"
    for method, url, kwargs in (
        ("get", f"{here}/tasks/{task['id']}/attachments", {}),
        ("get", f"{here}/attachments/{attachment['id']}", {}),
        ("delete", f"{here}/attachments/{attachment['id']}", {}),
        (
            "post",
            f"{here}/tasks/{task['id']}/attachments",
            {"data": {"file": (io.BytesIO(PNG), "x.png")}, "content_type": "multipart/form-data"},
        ),
        # And in the borough's own URLs, where she is not a member.
        ("get", f"{ATTACHMENTS}/{attachment['id']}", {}),
        ("get", f"{TASKS}/{task['id']}/attachments", {}),
    ):
        response = getattr(client, method)(url, headers=astrid.headers, **kwargs)
        assert response.status_code == 404, (method, url, response.status_code)
    assert len(stored_files(app, borough)) == 1 and stored_files(app, kommune) == []
    assert attachment_rows(app, borough) == 1


def test_a_retried_upload_is_stored_once(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    url = f"{TASKS}/{task['id']}/attachments"

    def body(boundary: str, data: bytes) -> tuple[bytes, str]:
        # Each attempt encodes the form afresh, with its own boundary, as phones do.
        raw = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="list.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return raw, f"multipart/form-data; boundary={boundary}"

    headers = {**nurse.headers, "Idempotency-Key": "upload-1"}
    first_body, first_type = body("first-attempt", PNG)
    first = client.post(url, data=first_body, content_type=first_type, headers=headers)
    assert first.status_code == 201
    again_body, again_type = body("second-attempt-after-timeout", PNG)
    again = client.post(url, data=again_body, content_type=again_type, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    assert attachment_rows(app, borough) == 1 and len(stored_files(app, borough)) == 1
    # The same key with another file is a mistake, not a retry.
    other_body, other_type = body("third", JPEG)
    other = client.post(url, data=other_body, content_type=other_type, headers=headers)
    assert other.status_code == 422


def test_a_request_that_fails_after_storing_leaves_no_file(
    app: Flask,
    client: FlaskClient,
    borough: Any,
    nurse: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task = post_task(client, nurse).json

    def fail(response: Any) -> None:
        raise Conflict("Lost a race at commit time.")

    # The file is stored, then the request fails on its way to the commit.
    monkeypatch.setattr("nyby.core.pipeline.idempotency.remember", fail)
    failed = upload(client, nurse, task["id"])
    assert failed.status_code == 409
    assert stored_files(app, borough) == []
    assert attachment_rows(app, borough) == 0


def test_the_upload_is_documented_as_multipart(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/tenants/{tenant}/tasks/{task_id}/attachments"]["post"]
    schema = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert schema["properties"]["file"]["format"] == "binary"
    assert schema["required"] == ["file"]
    assert {"201", "409", "413", "422"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    detail = spec["paths"]["/api/v1/tenants/{tenant}/attachments/{attachment_id}"]
    assert set(detail) >= {"get", "delete"}


def test_the_same_story_on_s3(
    app: Flask, world: World, borough: Any, nurse: Person, s3: S3Endpoint
) -> None:
    """Upload through the API into a real S3-compatible server, download by the presigned
    link over HTTP, delete; the object is encrypted and under the tenant's prefix."""
    settings = dataclasses.replace(
        app.extensions["nyby.settings"],
        storage_backend="s3",
        s3_bucket=s3.bucket,
        s3_endpoint_url=s3.url,
        s3_region=s3.region,
    )
    on_s3 = create_app(settings)
    on_s3.config["TESTING"] = True
    client = on_s3.test_client()
    task = post_task(client, nurse).json
    added = upload(client, nurse, task["id"], PDF, "referral.pdf")
    assert added.status_code == 201, added.json
    exe = upload(client, nurse, task["id"], EXE, "invoice.pdf", "application/pdf")
    assert exe.status_code == 422

    objects = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"tenants/{borough.id}/")
    keys = [o["Key"] for o in objects.get("Contents", [])]
    assert len(keys) == 1 and keys[0].endswith(added.json["id"])
    head = s3.client().head_object(Bucket=s3.bucket, Key=keys[0])
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "application/pdf"

    link = client.get(f"{ATTACHMENTS}/{added.json['id']}", headers=nurse.headers).json
    url = link["download_url"]
    assert url.startswith(s3.url) and "X-Amz-Expires=300" in url
    status, headers, data = fetch(url)
    assert status == 200 and data == PDF
    assert headers["content-type"] == "application/pdf"
    assert "referral.pdf" in urllib.parse.unquote(headers["content-disposition"])

    deleted = client.delete(f"{ATTACHMENTS}/{added.json['id']}", headers=nurse.headers)
    assert deleted.status_code == 204
    objects = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"tenants/{borough.id}/")
    assert objects.get("Contents", []) == []
    assert fetch(url)[0] in {403, 404}
