"""Domain errors raised by services.

Services know nothing of HTTP: a page turns these into form errors or error pages,
the API into problem+json. Each error may name the field it is about.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


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


class NotDeleted(Conflict):
    """A restore of something that is not deleted (it never was, or was restored meanwhile): nothing to undo.

    Pages show its own words ("This product is not deleted."), not the generic line of a 409.
    """


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


class Problems:
    """The invalid values of one request, gathered so that one answer names them all.

    Only ``Invalid`` is gathered (a value the caller can fix beside the others); anything else raised inside
    ``check`` (NotFound, Forbidden, Conflict...) refuses the whole request there and then.
    """

    def __init__(self) -> None:
        self.found: list[DomainError] = []

    def add(self, problem: Invalid) -> None:
        self.found.append(problem)

    @contextmanager
    def check(self) -> Iterator[None]:
        """Run one check; an ``Invalid`` it raises is noted and the next check runs."""
        try:
            yield
        except Invalid as problem:
            self.add(problem)

    def raise_found(self) -> None:
        """Refuse with what was found: the one problem itself, or ``Refused`` listing them all."""
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise Refused(self.found)


@contextmanager
def gathering() -> Iterator[Problems]:
    """``with gathering() as problems:`` check every value, then refuse with all the problems found, if any.

    Services check everything before they write, so a refusal never leaves a partial write behind.
    """
    problems = Problems()
    yield problems
    problems.raise_found()


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
