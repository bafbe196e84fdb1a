from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, Timestamped, new_id, utcnow


class Account(Timestamped, Base):
    """One person, across every tenant they belong to. Global by design."""

    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Subject from a single sign-on provider, "<issuer> <sub>".
    external_subject: Mapped[str | None] = mapped_column(String(500), unique=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    # None until the person follows the link mailed to them (sign-up).
    email_verified_at: Mapped[datetime | None]
    # Asked at sign-up: roles may set a minimum age, and under-18s need a guardian's consent.
    date_of_birth: Mapped[date | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class RefreshToken(Base):
    """A rotating refresh token, stored only as a hash.

    Each refresh spends the token and issues the next one in the same family;
    presenting a spent token again means it was stolen, so the family is revoked.
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
