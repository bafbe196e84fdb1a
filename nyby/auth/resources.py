from __future__ import annotations

from typing import Any

from flask import g, request
from flask.views import MethodView

from nyby.auth import services
from nyby.auth.schemas import (
    JwksSchema,
    MeSchema,
    RefreshRequestSchema,
    TokenRequestSchema,
    TokenResponseSchema,
)
from nyby.auth.tokens import public_jwks
from nyby.core.api import Blueprint
from nyby.core.pipeline import public
from nyby.onboarding import signup
from nyby.onboarding.schemas import EmailVerifiedSchema, TokenSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Tokens and the caller.")

NO_TOKEN: dict[str, Any] = {"security": []}


@blp.route("/auth/token")
@public
class Token(MethodView):
    @blp.doc(**NO_TOKEN)
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenResponseSchema)
    @blp.alt_response(401, description="Wrong email or password")
    @blp.alt_response(429, description="Too many failed logins in the last minute")
    def post(self, credentials: dict[str, str]) -> services.TokenPair:
        """Log in with email and password: a 15-minute access token and a refresh token."""
        return services.login(credentials["email"], credentials["password"], request.remote_addr)


@blp.route("/auth/refresh")
@public
class Refresh(MethodView):
    @blp.doc(**NO_TOKEN)
    @blp.arguments(RefreshRequestSchema)
    @blp.response(200, TokenResponseSchema)
    @blp.alt_response(401, description="Invalid, expired, revoked or reused refresh token")
    def post(self, body: dict[str, str]) -> services.TokenPair:
        """Swap a refresh token for a new pair; the old one stops working."""
        return services.refresh(body["refresh_token"])


@blp.route("/auth/logout")
@public
class Logout(MethodView):
    @blp.doc(**NO_TOKEN)
    @blp.arguments(RefreshRequestSchema)
    @blp.response(204)
    def post(self, body: dict[str, str]) -> None:
        """Revoke the refresh token (and the tokens it was rotated from)."""
        services.logout(body["refresh_token"])


@blp.route("/auth/jwks.json")
@public
class Jwks(MethodView):
    @blp.doc(**NO_TOKEN)
    @blp.response(200, JwksSchema)
    def get(self) -> dict[str, Any]:
        """Public keys that verify access tokens."""
        return public_jwks()


@blp.route("/auth/verify-email")
@public
class VerifyEmail(MethodView):
    @blp.doc(**NO_TOKEN)
    @blp.arguments(TokenSchema)
    @blp.response(200, EmailVerifiedSchema)
    @blp.alt_response(422, description="The link was altered or is for another address")
    @blp.alt_response(410, description="The link has expired (after 3 days)")
    def post(self, body: dict[str, str]) -> Any:
        """Confirm an email address with the token from the link mailed at sign-up."""
        return signup.verify_email(body["token"])


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @blp.alt_response(401, description="No or invalid access token")
    def get(self) -> dict[str, Any]:
        """The caller's account and their memberships in every tenant."""
        return services.describe_me(g.account)
