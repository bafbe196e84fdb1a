"""Memory-hard password hashing (Argon2id)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Verifying against this keeps "no such account" as slow as "wrong password".
_DUMMY = (
    "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA"
    "$3Sxkb8q8lCH6yMMTuzZnS0vGBWzLFqkrDmbnWQcHW0E"
)


def _hasher() -> PasswordHasher:
    settings = current_app.extensions["nyby.settings"]
    return PasswordHasher(
        memory_cost=settings.password_hash_memory_kib,
        time_cost=settings.password_hash_time_cost,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
