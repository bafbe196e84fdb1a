"""Signed JWT access tokens (ES256) and the public key set that verifies them."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from nyby.config import Settings, create_once

ALGORITHM = "ES256"


class InvalidToken(Exception):
    pass


def load_signing_key(settings: Settings) -> ECKey:
    """The key comes from settings; the embedded default keeps one in the data folder."""
    if settings.jwt_private_key_pem:
        pem = settings.jwt_private_key_pem
    else:
        pem = create_once(
            Path(settings.data_dir) / "jwt-signing-key.pem",
            lambda: ECKey.generate_key("P-256", private=True).as_pem(private=True),
        ).decode()
    key = ECKey.import_key(pem)
    key.ensure_kid()
    return key


def init_tokens(app: Flask, settings: Settings) -> None:
    app.extensions["nyby.jwt_key"] = load_signing_key(settings)


def _key() -> ECKey:
    return current_app.extensions["nyby.jwt_key"]  # type: ignore[no-any-return]


def _settings() -> Settings:
    return current_app.extensions["nyby.settings"]  # type: ignore[no-any-return]


def issue_access_token(account_id: uuid.UUID) -> tuple[str, int]:
    settings = _settings()
    lifetime = settings.access_token_minutes * 60
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(account_id),
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    key = _key()
    token = jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}, claims, key)
    return token, lifetime


def verify_access_token(token: str) -> uuid.UUID:
    """Return the account id, or raise InvalidToken (bad signature, alg, audience, expiry)."""
    settings = _settings()
    try:
        # Only our algorithm is accepted: "alg: none" and HMAC-with-public-key tricks fail here.
        decoded = jwt.decode(token, _key(), algorithms=[ALGORITHM])
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": settings.jwt_issuer},
            aud={"essential": True, "value": settings.jwt_audience},
            sub={"essential": True},
            exp={"essential": True},
        )
        registry.validate(decoded.claims)
        return uuid.UUID(str(decoded.claims["sub"]))
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidToken(str(error)) from error


def public_jwks() -> dict[str, Any]:
    public = _key().as_dict(private=False)
    public.update({"use": "sig", "alg": ALGORITHM})
    return {"keys": [public]}
