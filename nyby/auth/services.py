"""Logging in, refreshing and logging out; who is calling."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app, g, request, session
from sqlalchemy import select, update

from nyby.auth.models import Account, RefreshToken
from nyby.auth.passwords import hash_password, verify_password
from nyby.auth.ratelimit import FailureCounter
from nyby.auth.tokens import InvalidToken, issue_access_token, verify_access_token
from nyby.config import Settings
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, TooManyRequests, Unauthorized, Unprocessable


class TokenReused(Unauthorized):
    """A spent refresh token came back: its whole family is revoked, and that must stick."""

    keeps_changes = True


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 (a scheme name)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _settings() -> Settings:
    return current_app.extensions["nyby.settings"]  # type: ignore[no-any-return]


def _failures() -> FailureCounter:
    return current_app.extensions["nyby.login_failures"]  # type: ignore[no-any-return]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_account(
    email: str, name: str, password: str | None = None, phone: str | None = None
) -> Account:
    email = normalise_email(email)
    if db.session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise Conflict("An account with this email already exists.")
    if password is not None and len(password) < 10:
        raise Unprocessable("Password too short.", errors={"password": ["At least 10 characters."]})
    account = Account(
        email=email,
        name=name,
        phone=phone,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(account)
    db.session.flush()
    return account


def check_credentials(email: str, password: str, remote_addr: str | None) -> Account:
    """The one place a password is checked (API token and web login alike).

    After ``login_attempts_per_minute`` wrong passwords for an email (or four times
    as many from one address) further attempts get 429 until the minute passes.
    """
    email = normalise_email(email)
    limit = _settings().login_attempts_per_minute
    counter = _failures()
    email_key, address_key = f"email:{email}", f"ip:{remote_addr or '-'}"
    if counter.count(email_key) >= limit or counter.count(address_key) >= 4 * limit:
        raise TooManyRequests("Too many failed logins. Wait a minute and try again.")
    account = db.session.scalar(select(Account).where(Account.email == email))
    if (
        not verify_password(account.password_hash if account else None, password)
        or account is None
        or not account.is_active
    ):
        counter.add(email_key)
        counter.add(address_key)
        raise Unauthorized("Wrong email or password.")
    counter.clear(email_key)
    return account


def issue_tokens(account: Account, family_id: uuid.UUID | None = None) -> TokenPair:
    access, lifetime = issue_access_token(account.id)
    refresh = secrets.token_urlsafe(32)
    db.session.add(
        RefreshToken(
            account_id=account.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=_hash(refresh),
            expires_at=utcnow() + timedelta(days=_settings().refresh_token_days),
        )
    )
    db.session.flush()
    return TokenPair(access_token=access, expires_in=lifetime, refresh_token=refresh)


def login(email: str, password: str, remote_addr: str | None) -> TokenPair:
    return issue_tokens(check_credentials(email, password, remote_addr))


def refresh(refresh_token: str) -> TokenPair:
    """Spend the token and issue the next one in its family, atomically.

    The conditional UPDATE lets exactly one of two concurrent refreshes win; the
    loser looks like a replay, so the family is revoked (both must log in again).
    """
    now = utcnow()
    token_hash = _hash(refresh_token)
    spent = db.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == token_hash,
            RefreshToken.spent_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(spent_at=now)
        .returning(RefreshToken.account_id, RefreshToken.family_id)
    ).first()
    if spent is None:
        known = db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
        if known is not None and known.spent_at is not None:
            _revoke_family(known.family_id)
            raise TokenReused("This refresh token was already used; log in again.")
        raise Unauthorized("Invalid or expired refresh token.")
    account = db.session.get(Account, spent.account_id)
    if account is None or not account.is_active:
        raise Unauthorized("Invalid or expired refresh token.")
    return issue_tokens(account, family_id=spent.family_id)


def logout(refresh_token: str) -> None:
    known = db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _hash(refresh_token))
    )
    if known is not None:
        _revoke_family(known.family_id)


def _revoke_family(family_id: uuid.UUID) -> None:
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def authenticate_request() -> None:
    """Who is calling: a bearer token for the API, the session cookie for web pages.

    A bad token leaves the caller anonymous and says why in ``g.auth_problem``; the
    pipeline answers 401 with it unless the endpoint is public (a phone refreshing
    with a stale access token still in its headers must be able to refresh).
    """
    g.account = None
    g.auth_problem = None
    if request.path.startswith("/api/"):
        header = request.headers.get("Authorization", "")
        if not header:
            return
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            g.auth_problem = "Use an 'Authorization: Bearer <token>' header."
            return
        try:
            account_id = verify_access_token(token.strip())
        except InvalidToken:
            g.auth_problem = "The access token is invalid or expired."
            return
    else:
        raw = session.get("account_id")
        if not raw:
            return
        try:
            account_id = uuid.UUID(raw)
        except ValueError:
            session.clear()
            return
    account = db.session.get(Account, account_id)
    if account is None or not account.is_active:
        g.auth_problem = "The access token is invalid or expired."
        if not request.path.startswith("/api/"):
            session.clear()
        return
    g.account = account


def choose_language(account: Account, locale: str) -> None:
    """The person's own language, kept with their account (every tenant, every device)."""
    account.locale = locale
    db.session.flush()


def describe_me(account: Account) -> dict[str, Any]:
    from nyby.tenancy.resolution import memberships_of

    return {
        "id": account.id,
        "email": account.email,
        "name": account.name,
        "phone": account.phone,
        "locale": account.locale,
        "memberships": [
            {
                "id": membership.id,
                "tenant": tenant.slug,
                "tenant_name": tenant.name,
                "roles": sorted(r.value for r in membership.roles),
                "is_active": membership.is_active,
            }
            for membership, tenant in memberships_of(account)
        ],
    }
