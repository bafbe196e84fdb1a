"""Settings: embedded defaults with no environment, production values from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nyby.config import Settings

VARIABLES = (
    "DATABASE_URL",
    "MIGRATION_DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_SERVER_SIDE_ENCRYPTION",
    "MAX_UPLOAD_BYTES",
)


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NYBY_DATA_DIR", str(tmp_path))
    return tmp_path


def test_no_environment_means_the_embedded_defaults(bare_env: Path) -> None:
    settings = Settings.from_env()
    assert settings.database_url == f"sqlite:///{bare_env / 'nyby.sqlite3'}"
    assert settings.migration_database_url == settings.database_url
    assert settings.redis_url is None
    assert settings.storage_backend == "local" and settings.storage_dir == bare_env / "files"
    assert settings.outbox_dir == bare_env / "outbox"
    assert settings.max_upload_bytes == 10 * 1024 * 1024
    assert settings.download_url_seconds == 300
    # The generated secret is kept, so sessions survive a restart.
    assert Settings.from_env().secret_key == settings.secret_key
    assert (bare_env / "secret_key").stat().st_mode & 0o077 == 0


def test_production_settings_come_from_the_environment(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://nyby_app@db/nyby")
    monkeypatch.setenv("MIGRATION_DATABASE_URL", "postgresql://owner@db/nyby")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("SECRET_KEY", "from-the-vault")
    monkeypatch.setenv("S3_BUCKET", "evidence")
    monkeypatch.setenv("S3_ENDPOINT_URL", "https://s3.example.org")
    monkeypatch.setenv("S3_REGION", "eu-north-1")
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "5242880")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql+psycopg://nyby_app@db/nyby"
    assert settings.migration_database_url == "postgresql+psycopg://owner@db/nyby"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.secret_key == "from-the-vault"
    assert settings.storage_backend == "s3"
    assert (settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region) == (
        "evidence",
        "https://s3.example.org",
        "eu-north-1",
    )
    # Encryption at rest is asked for unless turned off (MinIO without a KMS refuses it).
    assert settings.s3_server_side_encryption == "AES256"
    monkeypatch.setenv("S3_SERVER_SIDE_ENCRYPTION", "none")
    assert Settings.from_env().s3_server_side_encryption is None
    assert settings.max_upload_bytes == 5 * 1024 * 1024
    assert not (bare_env / "secret_key").exists()
