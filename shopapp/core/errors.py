"""Domain errors raised by services.

Services know nothing of HTTP: a page turns these into form errors or error pages,
the API into problem+json. Each error may name the field it is about.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class PreconditionFailed(DomainError):
    """The caller edited from a stale version of the row."""

    status = 412


class Invalid(DomainError):
    status = 422


class Unavailable(DomainError):
    """Something the request needs is away for a moment; nothing was changed. Try again after ``retry_after``."""

    status = 503

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Refused(DomainError):
    """Several problems found at once, each naming its field, so one answer can list them all.

    Its status is theirs when they agree (every file too large: 413), else 422.
    """

    def __init__(self, problems: list[DomainError]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems
        statuses = {problem.status for problem in problems}
        self.status = statuses.pop() if len(statuses) == 1 else Invalid.status


class AuthenticationFailed(DomainError):
    """Wrong credentials or a dead token; one message whatever the cause."""

    status = 401


class PayloadTooLarge(DomainError):
    status = 413


CHANGED_MEANWHILE = "This was changed by another request meanwhile; reload it and try again."


def stale_as_conflict(error: Exception) -> Conflict:
    """The ORM's ``StaleDataError`` (a versioned UPDATE or DELETE matched no row: another transaction changed
    or removed it first) as the 409 it is, for the API's and the pages' error handlers alike."""
    return Conflict(CHANGED_MEANWHILE)
