"""Glue between WTForms and the services: one set of rules, shown next to the field they concern."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, ParamSpec, TypeVar

import wtforms
from flask import Response, make_response, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, Form
from wtforms.fields.choices import Choice
from wtforms.validators import ValidationError
from wtforms.widgets import Select

from shopapp.core import validation
from shopapp.core.db import db
from shopapp.core.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    Invalid,
    PreconditionFailed,
    Problems,
    Refused,
)

# What a person can fix from the form they sent (``Refused``: several invalid values at once). NotFound and
# Forbidden are not here on purpose: they escape the view and become the 404 page.
REFUSALS = (Invalid, Refused, Conflict, PreconditionFailed, AuthenticationFailed)


def checked_by(rule: Callable[[Any], Any]) -> Callable[[Form, Field], None]:
    """A WTForms validator running a ``shopapp.core.validation`` rule, so a form and the API refuse alike."""

    def validate(form: Form, field: Field) -> None:
        if field.data in (None, ""):
            return
        try:
            rule(field.data)
        except Invalid as error:
            raise ValidationError(error.message) from error

    return validate


class _Select(Select):
    """WTForms' <select> with the usual option, a plain string value without attributes of its own, written
    directly: the same markup without ``html_params`` for each of a category tree's or a shop list's options.
    Anything else (attributes, a Markup or non-string value) is left to WTForms."""

    @classmethod
    def render_option(cls, choice: Choice, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw or type(choice.value) is not str:
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        value, label = escape(choice.value), escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{value}">{label}</option>')  # noqa: S704 - both escaped here


class SelectField(wtforms.SelectField):
    widget = _Select()


class OptionalSelectField(SelectField):
    """A select of ids whose choices begin with an empty one ("All shops"), which ``optional_id`` reads as
    None. None is thus always a valid choice: choices given as a callable are only loaded to check
    another value or to draw the field (an htmx request for the results alone draws no filters)."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, coerce=optional_id, **kwargs)

    def pre_validate(self, form: Form) -> None:
        if self.data is not None:
            super().pre_validate(form)


def show_refusal(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal next to the field it names, or above the form when it names none; each of
    ``Refused``'s problems next to its own field."""
    for problem in error.problems if isinstance(error, Refused) else [error]:
        field = form._fields.get(problem.field) if problem.field else None
        if field is not None:
            field.errors = [*field.errors, problem.message]
        else:
            form.form_errors.append(problem.message)


class CheckedForm(FlaskForm):
    """A form whose values a service checks by ``rules``, the service's own rule of each field.

    WTForms refuses what it cannot even read (a blank required field, "abc" for a number, a choice not
    offered), and the service is then not called. So that every problem shows on the first submit, the fields
    WTForms did accept are then checked by the service's rules, and their problems shown beside them too.
    The service's other checks (references, duplicates) run once the form is valid.
    """

    rules: ClassVar[validation.Rules] = {}

    def validate(self, extra_validators: Any = None) -> bool:
        if super().validate(extra_validators):
            return True
        readable = {name: f.data for name, f in self._fields.items() if name in self.rules and not f.errors}
        problems = Problems()
        validation.clean_fields(readable, self.rules, problems)
        for problem in problems.found:
            show_refusal(self, problem)
        return False


class WholeNumberField(wtforms.IntegerField):
    """An integer typed in ASCII digits: Python's ``int()`` would also take "1_000" or Arabic-Indic digits."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and not _WHOLE_NUMBER.fullmatch(str(valuelist[0]).strip()):
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+", re.ASCII)


def optional_id(value: Any) -> int | None:
    """Coerce a <select> value where the empty option means "none"."""
    if value in (None, "", "None"):
        return None
    return int(value)


def refused_status() -> int:
    """The status of a form page: a sent form shown again was refused (422), a fresh one is 200.

    Views return early on success, so reaching the render after a POST means a refusal (which ``page_write``
    then rolls back);
    htmx is configured (in base.html) to swap 422 answers like 200 ones.
    """
    return 422 if request.method == "POST" else 200


T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Done(Generic[T]):
    value: T
    ok: Literal[True] = True
    error: None = None


@dataclass(frozen=True)
class Refusal:
    error: DomainError
    ok: Literal[False] = False


# ``if done.ok:`` tells a type checker which one it is.
Outcome = Done[T] | Refusal


def attempt(action: Callable[[], T], refusals: tuple[type[DomainError], ...] = REFUSALS) -> Outcome[T]:
    """Run a page's service call; on one of ``refusals`` roll back what it did, so that the page can say why
    (``Outcome.error``) and ``page_write`` has nothing left to commit."""
    try:
        value = action()
    except refusals as error:
        db.session.rollback()
        return Refusal(error)
    return Done(value)


def submit(form: FlaskForm, action: Callable[[], T], refusals: tuple[type[DomainError], ...] = REFUSALS) -> Outcome[T]:
    """``attempt`` a validated form's service call; a refusal is shown on the form."""
    done = attempt(action, refusals)
    if done.error is not None:
        show_refusal(form, done.error)
    return done


def page_write(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
    """The pages' edge of the transaction, as ``api/operations.py`` is the API's: what the view wrote is
    committed once, when it answers a POST below 400, and rolled back otherwise (a refused form is 422).
    An exception goes to the error pages, which roll back (core/error_pages.py)."""

    @functools.wraps(view)
    def edge(*args: P.args, **kwargs: P.kwargs) -> Response:
        response = make_response(view(*args, **kwargs))
        if request.method not in ("GET", "HEAD"):
            if response.status_code < 400:
                db.session.commit()
            else:
                db.session.rollback()
        return response

    return edge
