"""Files: one interface, two backends (a local folder or S3), and the upload checks.

Task attachments use it now; check evidence, expense receipts and exports will too.

- Keys live under ``tenants/<tenant id>/``. Domain code reaches files only through
  ``tenant_files()``, which builds keys under the current tenant and refuses any other,
  so one tenant's files cannot be addressed through another's.
- Downloads are short-lived links: an S3 presigned GET, or for the local folder a URL to
  ``/files/<token>`` signed with the app's SECRET_KEY. The caller's right to the file is
  decided before a link is issued (by the domain's access helper); the link then grants
  that one file, for a few minutes, like a presigned URL does.
- ``check_upload`` is the one place that decides what may be stored: the real type from
  the first bytes (never the client's header or file name) and the size.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
import time
import unicodedata
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, cast
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, send_file, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from nyby.config import Settings
from nyby.core.errors import (
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unprocessable,
)
from nyby.tenancy.context import current_tenant_id

log = logging.getLogger(__name__)

# One path segment of a key: no separators, no "." or "..", nothing a shell or URL mangles.
KEY_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
DOWNLOAD_SALT = "nyby.files.download"
CHUNK = 64 * 1024
STORAGE_DOWN = "File storage is not available just now; try again in a minute."


class FileMissing(NotFound):
    """The key names no stored file (never stored, deleted, or another tenant's)."""


class StorageUnavailable(ServiceUnavailable):
    pass


# --------------------------------------------------------------------------- backends


class Storage(ABC):
    """Bytes under string keys. Backends know nothing of tenants; ``TenantFiles`` does."""

    name: str

    @abstractmethod
    def put(self, key: str, data: bytes | IO[bytes], content_type: str) -> None:
        """Store ``data`` (bytes, or a stream read from where it stands) under ``key``."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the file; the caller closes it. ``FileMissing`` if none."""

    def read(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file; a missing one is not an error (deleting twice is safe)."""

    @abstractmethod
    def download_url(self, key: str, *, file_name: str, content_type: str, expires_in: int) -> str:
        """A link that downloads this one file for ``expires_in`` seconds."""


class LocalStorage(Storage):
    """A folder on this machine (the embedded default). Links go to ``/files/<token>``."""

    name = "local"

    def __init__(self, root: Path, secret_key: str) -> None:
        self.root = root.resolve()
        self._signer = URLSafeSerializer(secret_key, salt=DOWNLOAD_SALT)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not all(KEY_PART.fullmatch(part) for part in parts):
            raise FileMissing("No such file.")
        path = self.root.joinpath(*parts)
        # KEY_PART already rules out "..": this is the belt to its braces.
        if not path.resolve().is_relative_to(self.root):
            raise FileMissing("No such file.")
        return path

    def put(self, key: str, data: bytes | IO[bytes], content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(data, bytes):
                    handle.write(data)
                else:
                    while chunk := data.read(CHUNK):
                        handle.write(chunk)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        return self.file_path(key).open("rb")

    def file_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise FileMissing("No such file.")
        return path

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except FileMissing:
            return False

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def download_url(self, key: str, *, file_name: str, content_type: str, expires_in: int) -> str:
        token = self._signer.dumps(
            {"k": key, "n": file_name, "t": content_type, "e": int(time.time()) + expires_in}
        )
        return url_for("files.download", token=token, _external=True)

    def load_token(self, token: str) -> dict[str, Any]:
        """The signed link's contents, or 403 if it was altered or has expired."""
        try:
            claims = self._signer.loads(token)
        except BadSignature:
            raise Forbidden("This download link is not valid.")
        if not isinstance(claims, dict) or int(claims.get("e", 0)) < time.time():
            raise Forbidden("This download link has expired; ask for a new one.")
        return claims


class S3Storage(Storage):
    """An S3 bucket, or an S3-compatible service (MinIO, Ceph ...) at ``endpoint_url``.

    Credentials come the usual boto3 way: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a
    profile, or the platform's role (IRSA, an instance profile).
    """

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        server_side_encryption: str | None = "AES256",
        client: Any = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.server_side_encryption = server_side_encryption
        options: dict[str, Any] = {"signature_version": "s3v4", "retries": {"mode": "standard"}}
        if endpoint_url:
            # S3-compatible services want path-style addressing, and many refuse the
            # checksums newer botocore sends by default; send them only when required.
            options.update(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=Config(**options)
        )

    def put(self, key: str, data: bytes | IO[bytes], content_type: str) -> None:
        extra = {}
        if self.server_side_encryption:
            extra["ServerSideEncryption"] = self.server_side_encryption
        with _s3_errors(key):
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra
            )

    def open(self, key: str) -> BinaryIO:
        with _s3_errors(key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return cast(BinaryIO, body)

    def exists(self, key: str) -> bool:
        try:
            with _s3_errors(key):
                self.client.head_object(Bucket=self.bucket, Key=key)
        except FileMissing:
            return False
        return True

    def delete(self, key: str) -> None:
        with _s3_errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def download_url(self, key: str, *, file_name: str, content_type: str, expires_in: int) -> str:
        with _s3_errors(key):
            return str(
                self.client.generate_presigned_url(
                    "get_object",
                    Params={
                        "Bucket": self.bucket,
                        "Key": key,
                        "ResponseContentType": content_type,
                        "ResponseContentDisposition": content_disposition(file_name),
                    },
                    ExpiresIn=expires_in,
                )
            )


@contextmanager
def _s3_errors(key: str) -> Iterator[None]:
    """botocore's errors as ours: a missing object is FileMissing, anything else 503."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in {"NoSuchKey", "404", "NotFound"}:
            raise FileMissing("No such file.") from error
        log.error("S3 refused %s: %s", key, error)
        raise StorageUnavailable(STORAGE_DOWN) from error
    except BotoCoreError as error:
        log.error("S3 failed on %s: %s", key, error)
        raise StorageUnavailable(STORAGE_DOWN) from error


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one per RFC 6266/8187."""
    fallback = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", fallback).strip() or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def attachment(body: bytes | str, file_name: str, mimetype: str) -> Response:
    """A file made on request (a CSV or PDF export) as a download named ``file_name``."""
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": content_disposition(file_name)}
    )


# --------------------------------------------------------------------------- per tenant


class TenantFiles:
    """One tenant's files: every key it builds or accepts lies under ``tenants/<id>/``."""

    def __init__(self, storage: Storage, tenant_id: uuid.UUID, url_seconds: int) -> None:
        self.storage = storage
        self.prefix = f"tenants/{tenant_id}/"
        self.url_seconds = url_seconds

    def key(self, *parts: str | uuid.UUID) -> str:
        names = [str(part) for part in parts]
        if not names or not all(KEY_PART.fullmatch(name) for name in names):
            raise ValueError(f"not a safe key: {names!r}")
        return self.prefix + "/".join(names)

    def _own(self, key: str) -> str:
        if not key.startswith(self.prefix):
            # Only a bug can get here (rows are tenant-filtered): say nothing more.
            log.error("refused a file key outside the current tenant: %s", key)
            raise FileMissing("No such file.")
        return key

    def put(self, key: str, data: bytes | IO[bytes], content_type: str) -> None:
        self.storage.put(self._own(key), data, content_type)

    def open(self, key: str) -> BinaryIO:
        return self.storage.open(self._own(key))

    def read(self, key: str) -> bytes:
        return self.storage.read(self._own(key))

    def exists(self, key: str) -> bool:
        return self.storage.exists(self._own(key))

    def delete(self, key: str) -> None:
        self.storage.delete(self._own(key))

    def download_url(self, key: str, *, file_name: str, content_type: str) -> str:
        return self.storage.download_url(
            self._own(key),
            file_name=file_name,
            content_type=content_type,
            expires_in=self.url_seconds,
        )


def current_storage() -> Storage:
    return current_app.extensions["nyby.storage"]  # type: ignore[no-any-return]


def tenant_files() -> TenantFiles:
    """The current tenant's files (a request, job or CLI step inside a tenant scope)."""
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise RuntimeError("files are always some tenant's: no tenant scope is set")
    settings: Settings = current_app.extensions["nyby.settings"]
    return TenantFiles(current_storage(), tenant_id, settings.download_url_seconds)


# --------------------------------------------------------------------------- uploads

JPEG, PNG, PDF, WEBP, HEIC, HEIF = (
    "image/jpeg",
    "image/png",
    "application/pdf",
    "image/webp",
    "image/heic",
    "image/heif",
)
# Photos from any phone, and documents.
IMAGES_AND_PDF = frozenset({JPEG, PNG, PDF, WEBP, HEIC, HEIF})
EXTENSIONS = {
    JPEG: (".jpg", ".jpeg"),
    PNG: (".png",),
    PDF: (".pdf",),
    WEBP: (".webp",),
    HEIC: (".heic",),
    HEIF: (".heif", ".heic"),
}
# ISO base media brands: HEIC is HEVC-coded HEIF (iPhones); mif1/msf1 are generic HEIF.
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
HEIF_BRANDS = {b"mif1", b"msf1"}
HUMAN_TYPES = "JPEG, PNG, HEIC or WebP photos, or PDF documents"


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        if head[8:12] in HEIC_BRANDS:
            return HEIC
        if head[8:12] in HEIF_BRANDS:
            return HEIF
    return None


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed: its real type, its size and a safe name; ``stream`` is
    positioned at the start."""

    stream: IO[bytes]
    file_name: str
    content_type: str
    size: int


def check_upload(
    stream: IO[bytes],
    file_name: str | None,
    *,
    allowed: frozenset[str] = IMAGES_AND_PDF,
    max_bytes: int | None = None,
    allowed_in_words: str = HUMAN_TYPES,
) -> CheckedUpload:
    """Refuse a file that is too large (413) or not of an allowed type (422).

    The type is what the first bytes prove; the client's Content-Type and file name
    are ignored, so an .exe renamed photo.jpg is refused.
    """
    if max_bytes is None:
        max_bytes = current_app.extensions["nyby.settings"].max_upload_bytes
    stream = _seekable(stream, max_bytes)
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > max_bytes:
        raise PayloadTooLarge(
            f"Files may be at most {_human(max_bytes)}; this one is {_human(size)}.",
            errors={"file": [f"Larger than {_human(max_bytes)}."]},
        )
    if size == 0:
        raise Unprocessable("The file is empty.", errors={"file": ["Empty file."]})
    content_type = sniff(stream.read(32))
    stream.seek(0)
    if content_type is None or content_type not in allowed:
        raise Unprocessable(
            f"This file type is not accepted: send {allowed_in_words}.",
            errors={"file": ["Not an accepted file type."]},
        )
    return CheckedUpload(stream, safe_file_name(file_name, content_type), content_type, size)


def _seekable(stream: IO[bytes], max_bytes: int) -> IO[bytes]:
    if stream.seekable():
        return stream
    # Read one byte past the limit at most: enough to know it is too large.
    return io.BytesIO(stream.read(max_bytes + 1))


def safe_file_name(file_name: str | None, content_type: str) -> str:
    """The name to show and download as: no path, no control characters, at most 200
    characters, and an extension that matches the real type (photo.exe -> photo.exe.jpg).
    """
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    extensions = EXTENSIONS[content_type]
    stem = name or "attachment"
    if not stem.lower().endswith(extensions):
        stem = f"{stem}{extensions[0]}"
    if len(stem) > 200:
        suffix = Path(stem).suffix
        stem = stem[: 200 - len(suffix)] + suffix
    return stem


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


# --------------------------------------------------------------------------- wiring

files = Blueprint("files", __name__)


@files.get("/files/<token>")
def download(token: str) -> Response:
    """Stream a file of the local folder to whoever holds a valid, unexpired link."""
    storage = current_storage()
    if not isinstance(storage, LocalStorage):
        raise NotFound("No such file.")
    claims = storage.load_token(token)
    response = send_file(
        storage.file_path(claims["k"]),
        mimetype=claims["t"],
        as_attachment=True,
        download_name=claims["n"],
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Opened directly in a browser, a file may not run scripts or load anything.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        assert settings.s3_bucket
        return S3Storage(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            server_side_encryption=settings.s3_server_side_encryption,
        )
    return LocalStorage(settings.storage_dir, settings.secret_key)


def init_storage(app: Flask, settings: Settings) -> None:
    app.extensions["nyby.storage"] = make_storage(settings)
    app.register_blueprint(files)


def describe(settings: Settings) -> str:
    """For the start-up log: where files go."""
    if settings.storage_backend == "s3":
        where = f" at {settings.s3_endpoint_url}" if settings.s3_endpoint_url else ""
        encryption = settings.s3_server_side_encryption or "off"
        return f"S3 bucket {settings.s3_bucket}{where} (server-side encryption: {encryption})"
    return f"local folder {settings.storage_dir} (embedded default: set S3_BUCKET)"
