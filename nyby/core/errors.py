"""Domain errors: services raise these; the API turns each into one problem response."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str | None = None, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors


class NotFound(DomainError):
    """Missing and forbidden-to-see look the same, so nobody can probe for ids."""

    status = 404
    title = "Not found"


class Unauthorized(DomainError):
    status = 401
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Gone(DomainError):
    """It existed and has ended for good: an ended campaign, an expired invitation."""

    status = 410
    title = "Gone"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Content too large"


class Unprocessable(DomainError):
    status = 422
    title = "Unprocessable content"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """A service we depend on (file storage, ...) did not answer; trying later may work."""

    status = 503
    title = "Service unavailable"
