"""File storage: the same interface on a local folder and on a real S3-compatible server,
the upload checks, and the tenant namespace around every key."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from nyby.core.db import db
from nyby.core.errors import PayloadTooLarge, Unprocessable
from nyby.integrations.storage import (
    FileMissing,
    LocalStorage,
    S3Storage,
    Storage,
    StorageUnavailable,
    TenantFiles,
    check_upload,
    safe_file_name,
    sniff,
)
from tests.conftest import S3Endpoint
from tests.samples import EXE, HEIC, JPEG, PDF, PNG, WEBP

MB = 1024 * 1024


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET a URL over real HTTP, as a phone's browser would (no proxy for localhost).
    Header names in lower case."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    return status, {name.lower(): value for name, value in headers.items()}, body


@pytest.fixture
def s3_storage(s3: S3Endpoint) -> S3Storage:
    return S3Storage(s3.bucket, endpoint_url=s3.url, region=s3.region)


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        (HEIC, "image/heic"),
        (WEBP, "image/webp"),
        (EXE, None),
        (b"<html><script>alert(1)</script>", None),
        (b"GIF89a", None),
    ],
)
def test_the_type_is_read_from_the_first_bytes(data: bytes, expected: str | None) -> None:
    assert sniff(data[:32]) == expected


def test_an_exe_named_like_a_photo_is_refused_whatever_the_client_says() -> None:
    with pytest.raises(Unprocessable) as refused:
        check_upload(io.BytesIO(EXE), "holiday.jpg", max_bytes=MB)
    assert "not accepted" in refused.value.detail
    assert refused.value.errors == {"file": ["Not an accepted file type."]}


def test_size_limits_and_empty_files() -> None:
    checked = check_upload(io.BytesIO(JPEG + bytes(100)), "a.jpg", max_bytes=len(JPEG) + 100)
    assert checked.size == len(JPEG) + 100 and checked.stream.read(3) == b"\xff\xd8\xff"
    with pytest.raises(PayloadTooLarge) as too_large:
        check_upload(io.BytesIO(JPEG + bytes(2 * MB)), "a.jpg", max_bytes=MB)
    assert too_large.value.status == 413 and "at most 1 MB" in too_large.value.detail
    with pytest.raises(Unprocessable):
        check_upload(io.BytesIO(b""), "empty.pdf", max_bytes=MB)


def test_a_stream_that_cannot_seek_is_read_only_as_far_as_the_limit() -> None:
    class OneWay(io.RawIOBase):
        def __init__(self, size: int) -> None:
            self.left, self.read_so_far = size, 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            n = min(len(buffer), self.left)
            buffer[:n] = b"\xff\xd8\xff" + bytes(n - 3) if self.read_so_far == 0 else bytes(n)
            self.left -= n
            self.read_so_far += n
            return n

    endless = OneWay(50 * MB)
    with pytest.raises(PayloadTooLarge):
        check_upload(io.BufferedReader(endless), "a.jpg", max_bytes=MB)
    assert endless.read_so_far <= MB + 64 * 1024


@pytest.mark.parametrize(
    ("given", "content_type", "expected"),
    [
        ("list.png", "image/png", "list.png"),
        ("Scan.PDF", "application/pdf", "Scan.PDF"),
        ("photo.exe", "image/jpeg", "photo.exe.jpg"),
        ("../../etc/passwd", "image/png", "passwd.png"),
        ("C:\\Users\\edith\\letter.pdf", "application/pdf", "letter.pdf"),
        ("bad\x00name\n.png", "image/png", "badname.png"),
        ("", "application/pdf", "attachment.pdf"),
        (None, "image/heic", "attachment.heic"),
        ("Bjørnstjerne.jpeg", "image/jpeg", "Bjørnstjerne.jpeg"),
        ("x" * 300 + ".png", "image/png", "x" * 196 + ".png"),
    ],
)
def test_file_names_are_made_safe(given: str | None, content_type: str, expected: str) -> None:
    assert safe_file_name(given, content_type) == expected


# --------------------------------------------------------------------------- backends


def _round_trip(storage: Storage) -> str:
    key = f"tenants/{uuid.uuid4()}/tests/{uuid.uuid4()}"
    assert not storage.exists(key)
    storage.put(key, io.BytesIO(PDF), "application/pdf")
    assert storage.exists(key)
    assert storage.read(key) == PDF
    with storage.open(key) as stream:
        assert stream.read(5) == b"%PDF-"
    storage.put(key, PNG, "image/png")  # bytes too; the same key is replaced
    assert storage.read(key) == PNG
    storage.delete(key)
    storage.delete(key)  # twice is fine
    assert not storage.exists(key)
    with pytest.raises(FileMissing):
        storage.read(key)
    return key


def test_local_storage_round_trip(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files", "secret")
    _round_trip(storage)
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []


def test_local_storage_never_leaves_its_folder(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files", "secret")
    (tmp_path / "secret.txt").write_text("not yours")
    for key in ("../secret.txt", "tenants/../../secret.txt", "/etc/passwd", "a//b", ".hidden"):
        with pytest.raises(FileMissing):
            storage.read(key)
        with pytest.raises(FileMissing):
            storage.put(key, b"x", "image/png")


def test_s3_storage_round_trip_with_encryption_and_a_presigned_link(
    s3: S3Endpoint, s3_storage: S3Storage
) -> None:
    key = _round_trip(s3_storage)
    s3_storage.put(key, io.BytesIO(JPEG), "image/jpeg")
    head = s3.client().head_object(Bucket=s3.bucket, Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "image/jpeg"

    url = s3_storage.download_url(
        key, file_name="Bjørn's receipt.jpg", content_type="image/jpeg", expires_in=300
    )
    assert url.startswith(s3.url) and "X-Amz-Signature=" in url
    status, headers, body = fetch(url)
    assert status == 200 and body == JPEG
    assert headers["content-type"] == "image/jpeg"
    assert headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Bj%C3%B8rn%27s%20receipt.jpg" in headers["content-disposition"]

    # The signature covers the key: the same link for another key does not work.
    status, _, _ = fetch(url.replace(key, key[:-1] + ("0" if key[-1] != "0" else "1")))
    assert status == 403
    s3_storage.delete(key)
    # S3 says 403 rather than 404 to a caller without list rights; either way, no file.
    status, _, body = fetch(url)
    assert status in {403, 404} and body != JPEG


def test_a_presigned_link_lasts_as_long_as_asked(s3_storage: S3Storage) -> None:
    # S3 enforces the expiry (moto does not, so it cannot be watched here): the
    # lifetime is what the link asks for, and it is signed with the rest.
    url = s3_storage.download_url(
        "tenants/x/y", file_name="a.png", content_type="image/png", expires_in=300
    )
    assert "X-Amz-Expires=300" in url
    assert fetch(url.replace("X-Amz-Expires=300", "X-Amz-Expires=604800"))[0] == 403


def test_s3_failures_are_a_503_not_a_crash(s3: S3Endpoint) -> None:
    storage = S3Storage("no-such-bucket", endpoint_url=s3.url, region=s3.region)
    with pytest.raises(StorageUnavailable) as error:
        storage.put("tenants/x/y", PNG, "image/png")
    assert error.value.status == 503
    unreachable = S3Storage("b", endpoint_url="http://127.0.0.1:9", region="eu-west-2")
    with pytest.raises(StorageUnavailable):
        unreachable.read("tenants/x/y")


def test_encryption_can_be_turned_off_for_services_without_it(
    s3: S3Endpoint,
) -> None:
    storage = S3Storage(s3.bucket, endpoint_url=s3.url, server_side_encryption=None)
    storage.put("tenants/x/plain", PNG, "image/png")
    assert "ServerSideEncryption" not in s3.client().head_object(
        Bucket=s3.bucket, Key="tenants/x/plain"
    )
    storage.delete("tenants/x/plain")


# --------------------------------------------------------------------------- tenants


def test_a_tenants_files_cannot_address_another_tenants(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, "secret")
    a, b = uuid.uuid4(), uuid.uuid4()
    files_a, files_b = TenantFiles(storage, a, 300), TenantFiles(storage, b, 300)
    key_b = files_b.key("tasks", uuid.uuid4(), "attachments", uuid.uuid4())
    assert key_b.startswith(f"tenants/{b}/")
    files_b.put(key_b, PNG, "image/png")
    for attempt in (
        lambda: files_a.read(key_b),
        lambda: files_a.open(key_b),
        lambda: files_a.delete(key_b),
        lambda: files_a.download_url(key_b, file_name="x.png", content_type="image/png"),
        lambda: files_a.put(key_b, JPEG, "image/jpeg"),
        lambda: files_a.read(f"tenants/{a}/../{b}/x"),
    ):
        with pytest.raises(FileMissing):
            attempt()
    assert files_b.read(key_b) == PNG
    for bad in (("..",), ("a/b",), ("",), ()):
        with pytest.raises(ValueError):
            files_a.key(*bad)


# --------------------------------------------------------------------------- transactions


def test_side_effects_follow_the_transaction(app: Flask) -> None:
    happened: list[str] = []
    with app.app_context():
        session = db.session()
        session.begin()
        db.on_commit(lambda: happened.append("committed"))
        db.on_rollback(lambda: happened.append("undone"))
        with session.begin_nested():
            pass  # a savepoint released is not the commit
        assert happened == []
        session.commit()
        assert happened == ["committed"]

        session.begin()
        db.on_commit(lambda: happened.append("never"))
        db.on_rollback(lambda: happened.append("undone"))
        session.rollback()
        assert happened == ["committed", "undone"]

        # A callback that fails is logged; the others still run and nothing is raised.
        session.begin()
        db.on_commit(lambda: 1 / 0)  # type: ignore[func-returns-value]
        db.on_commit(lambda: happened.append("after a failure"))
        session.commit()
        assert happened[-1] == "after a failure"
