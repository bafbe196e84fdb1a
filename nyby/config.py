"""Typed settings read from the environment, with embedded defaults.

With no environment at all the platform runs on a SQLite file, a local folder for
files, a local notification outbox and an in-process queue (DESIGN.md decision 10).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    # Migrations run as the owner of the tables; the app itself connects with
    # database_url as a role that does not own them, so row-level security applies.
    migration_database_url: str
    db_app_role: str
    redis_url: str | None
    secret_key: str
    jwt_private_key_pem: str | None
    jwt_issuer: str
    jwt_audience: str
    access_token_minutes: int
    refresh_token_days: int
    login_attempts_per_minute: int
    password_hash_memory_kib: int
    password_hash_time_cost: int
    max_request_bytes: int
    storage_backend: str
    storage_dir: Path
    s3_bucket: str | None
    s3_endpoint_url: str | None
    # None: boto3's own AWS_DEFAULT_REGION / AWS_REGION / profile.
    s3_region: str | None
    # "AES256" (SSE-S3) unless S3_SERVER_SIDE_ENCRYPTION=none, for S3-compatible
    # services that refuse the header (MinIO without a KMS, for one).
    s3_server_side_encryption: str | None
    max_upload_bytes: int
    download_url_seconds: int
    # "outbox" (embedded default: .eml files in outbox_dir), "smtp" or "ses" (Amazon SES).
    mail_backend: str
    outbox_dir: Path
    # smtp://user:password@host:587 (STARTTLS) or smtps://...:465; used when MAIL_BACKEND=smtp.
    smtp_url: str | None
    mail_from: str
    # SMS: "outbox" (embedded default: .sms.txt files in outbox_dir) or "sns" (Amazon SNS).
    sms_backend: str
    # Web Push: "outbox" (embedded default: .push.json files in outbox_dir) or "webpush"
    # (VAPID-signed, encrypted POSTs to each subscription's push service).
    push_backend: str
    # VAPID keys (PEM or base64url raw); the embedded default keeps a generated pair in
    # the data folder. The public key is what browsers subscribe with.
    vapid_private_key: str | None
    vapid_subject: str
    # None: boto3's own region settings. Endpoint URLs: tests, or an SES/SNS stand-in.
    aws_region: str | None
    ses_endpoint_url: str | None
    sns_endpoint_url: str | None
    cookie_secure: bool

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from the environment; ``overrides`` (tests) win over both."""
        default_dir = _env("NYBY_DATA_DIR", str(Path.cwd() / "var")) or "var"
        data_dir = Path(str(overrides.get("data_dir", default_dir))).resolve()
        database_url = _normalise_db_url(
            _env("DATABASE_URL", f"sqlite:///{data_dir / 'nyby.sqlite3'}") or ""
        )
        values: dict[str, object] = dict(
            data_dir=data_dir,
            database_url=database_url,
            migration_database_url=_normalise_db_url(
                _env("MIGRATION_DATABASE_URL", database_url) or ""
            ),
            db_app_role=_env("NYBY_DB_APP_ROLE", "nyby_app") or "nyby_app",
            redis_url=_env("REDIS_URL"),
            secret_key=_env("SECRET_KEY"),
            jwt_private_key_pem=_env("JWT_PRIVATE_KEY"),
            jwt_issuer=_env("JWT_ISSUER", "nyby") or "nyby",
            jwt_audience=_env("JWT_AUDIENCE", "nyby-api") or "nyby-api",
            access_token_minutes=_env_int("ACCESS_TOKEN_MINUTES", 15),
            refresh_token_days=_env_int("REFRESH_TOKEN_DAYS", 30),
            login_attempts_per_minute=_env_int("LOGIN_ATTEMPTS_PER_MINUTE", 5),
            password_hash_memory_kib=_env_int("PASSWORD_HASH_MEMORY_KIB", 65536),
            password_hash_time_cost=_env_int("PASSWORD_HASH_TIME_COST", 3),
            max_request_bytes=_env_int("MAX_REQUEST_BYTES", 1024 * 1024),
            storage_backend="s3" if _env("S3_BUCKET") else "local",
            storage_dir=Path(_env("STORAGE_DIR", str(data_dir / "files")) or ""),
            s3_bucket=_env("S3_BUCKET"),
            s3_endpoint_url=_env("S3_ENDPOINT_URL"),
            s3_region=_env("S3_REGION"),
            s3_server_side_encryption=_sse(_env("S3_SERVER_SIDE_ENCRYPTION", "AES256")),
            max_upload_bytes=_env_int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
            download_url_seconds=_env_int("DOWNLOAD_URL_SECONDS", 300),
            mail_backend=_env("MAIL_BACKEND", "outbox") or "outbox",
            outbox_dir=Path(_env("OUTBOX_DIR", str(data_dir / "outbox")) or ""),
            smtp_url=_env("SMTP_URL"),
            mail_from=_env("MAIL_FROM", "nyby <no-reply@localhost>") or "",
            sms_backend=_env("SMS_BACKEND", "outbox") or "outbox",
            push_backend=_env("PUSH_BACKEND", "outbox") or "outbox",
            vapid_private_key=_env("VAPID_PRIVATE_KEY"),
            vapid_subject=_env("VAPID_SUBJECT", "mailto:no-reply@localhost") or "",
            aws_region=_env("AWS_REGION"),
            ses_endpoint_url=_env("SES_ENDPOINT_URL"),
            sns_endpoint_url=_env("SNS_ENDPOINT_URL"),
            cookie_secure=_env_bool("COOKIE_SECURE", False),
        )
        values.update(overrides)
        # Generated only when nothing else gave one, in the data folder actually used.
        values["secret_key"] = values["secret_key"] or _local_secret(data_dir)
        return cls(**values)  # type: ignore[arg-type]


def _sse(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in {"none", "off", "false"} else value


def _normalise_db_url(url: str) -> str:
    # Heroku-style and bare postgresql:// URLs get the psycopg 3 driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _local_secret(data_dir: Path) -> str:
    """A secret key kept in the data folder, so sessions survive a restart."""
    path = data_dir / "secret_key"
    return create_once(path, lambda: secrets.token_urlsafe(48).encode()).decode().strip()


def create_once(path: Path, make: Callable[[], bytes]) -> bytes:
    """Read a generated file, creating it first if needed, race-free across processes.

    Several workers may start at once: each writes a private temporary file and
    links it into place; only the first link succeeds, and everyone reads that one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(make())
            os.chmod(temporary, 0o600)
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    return path.read_bytes()
