"""One decorator turns a plain function into an API operation, and records it for the OpenAPI document.

It does what every endpoint needs, in one place: parse the query string and the JSON body strictly
into pydantic models, authenticate the bearer token, call the view, commit once at the edge, and
serialise the result with the response model. Views are then a few lines calling a service.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from flask import Response, g, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from werkzeug.exceptions import NotFound

from shopapp.api import bp
from shopapp.api.errors import INVALID_DETAIL, ApiProblem
from shopapp.api.fields import ID_MAX
from shopapp.api.schemas import FieldError, NoQuery, QueryModel, RequestModel
from shopapp.auth.models import User
from shopapp.auth.tokens import INVALID_TOKEN, user_for_token
from shopapp.core import validation
from shopapp.core.cache import shared
from shopapp.core.errors import AuthenticationFailed, Problems
from shopapp.core.uploads import accepts_images
from shopapp.extensions import db
from shopapp.media.services import NewImage

Auth = Literal["none", "optional", "required"]
JSON = "application/json"
MAX_JSON_BYTES = 1024 * 1024
NO_TOKEN = "This operation needs an access token: send 'Authorization: Bearer <token>'."  # noqa: S105 - a message
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field you can set",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
}
_QUERY_MESSAGES = {"extra_forbidden": "is not a known parameter"}


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one endpoint; built from the same arguments that drive it."""

    rule: str
    methods: tuple[str, ...]
    endpoint: str
    summary: str
    tag: str
    status: int
    auth: Auth
    body: type[RequestModel] | None
    query: type[QueryModel]
    response: type[BaseModel] | None
    errors: tuple[int, ...]
    etag: bool
    images: int = 0
    body_required: bool = True
    headers: tuple[dict[str, Any], ...] = ()  # header parameters the view reads, as OpenAPI parameter objects
    description: str = ""  # the view's docstring: what the schemas cannot say (rules, refusals)
    module: str = ""  # the view's module, whose docstring describes the operation's tag


OPERATIONS: list[Operation] = []


def operation(
    rule: str,
    *,
    methods: tuple[str, ...] = ("GET",),
    summary: str,
    tag: str,
    status: int | None = None,
    auth: Auth = "none",
    body: type[RequestModel] | None = None,
    query: type[QueryModel] = NoQuery,
    response: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    etag: Callable[[Any], str] | None = None,
    images: int = 0,
    rules: validation.Rules | None = None,
    body_required: bool = True,
    headers: tuple[dict[str, Any], ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Register ``view`` under ``rule``; it gets ``body``, ``query`` and ``user`` keyword arguments as declared
    (``query`` only for a model other than ``NoQuery``; unknown query parameters are refused either way).

    ``response=None`` means 204 No Content; otherwise ``status`` defaults to 200. ``etag`` computes an
    ``ETag`` header from the result. ``images=n`` takes a multipart body with up to ``n`` ``image`` files,
    each with an optional ``alt`` text in the same order, given to the view as ``uploads``. A GET open to
    anonymous callers answers them from the shared cache (core/cache/). ``rules`` are the service's rules of
    the body's fields: when some field is not even of the right type, the others are checked by them too, so
    that one 422 lists every problem (the service checks them all, and more, once the types are right).
    ``body_required=False``: a request without a body reads as ``{}`` (every field of ``body`` optional).
    ``headers`` are the request headers the view reads, documented as header parameters.
    """
    success = status or (200 if response is not None else 204)

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def endpoint(**path_args: Any) -> Response:
            kwargs: dict[str, Any] = _path_ids(path_args)
            # A token that is sent is checked on every operation, public ones too: an invalid one is 401
            # everywhere, never ignored here and refused there (a client learns at once that it is stale).
            caller = _caller(required=auth == "required")
            if auth != "none":
                kwargs["user"] = caller
            parsed_query = _parse(query, _query_args())
            if query is not NoQuery:
                kwargs["query"] = parsed_query
            if body is not None:
                empty = not body_required and not request.content_length and not request.mimetype
                kwargs["body"] = _parse(body, {} if empty else _json_body(), rules)
            if images:
                kwargs["uploads"] = _image_uploads(images)
            result = view(**kwargs)
            # The answer is built before the commit, from what the view loaded: after it every object is expired,
            # and serializing would read each row (an order, its shop, its lines, a cart line's product) again.
            answer = _respond(result, success, response, etag)
            if request.method not in ("GET", "HEAD"):
                db.session.commit()
            return answer

        if images:
            accepts_images(images)(endpoint)
        public_read = methods == ("GET",) and auth != "required"
        bp.add_url_rule(rule, view.__name__, shared(endpoint) if public_read else endpoint, methods=list(methods))
        OPERATIONS.append(
            Operation(
                rule=rule,
                methods=methods,
                endpoint=view.__name__,
                summary=summary,
                tag=tag,
                status=success,
                auth=auth,
                body=body,
                query=query,
                response=response,
                errors=errors,
                etag=etag is not None,
                images=images,
                body_required=body_required,
                headers=headers,
                description=inspect.getdoc(view) or "",
                module=view.__module__,
            )
        )
        return endpoint

    return decorate


@bp.after_request
def _no_store(response: Response) -> Response:
    """Tokens and per-caller answers must never sit in a shared cache (RFC 6749 5.1 for the login answer)."""
    if request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _path_ids(path_args: dict[str, int]) -> dict[str, Any]:
    """Path parameters are row ids: one that no row can have is a 404 here, not an overflow in the database.

    (A converter with ``max=`` would do it, but Werkzeug then answers 405 for the other methods of the URL.)
    """
    if any(not 1 <= value <= ID_MAX for value in path_args.values()):
        raise NotFound()
    return dict(path_args)


def _respond(result: Any, status: int, model: type[BaseModel] | None, etag: Callable[[Any], str] | None) -> Response:
    if model is None:
        return Response(status=204)
    payload = model.model_validate(result).model_dump_json()
    response = Response(payload, status=status, content_type=JSON + "; charset=utf-8")
    if etag is not None:
        response.headers["ETag"] = etag(result)
    return response


def _parse(model: type[BaseModel], data: Any, rules: validation.Rules | None = None) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        messages = {**_MESSAGES, **_QUERY_MESSAGES} if issubclass(model, QueryModel) else _MESSAGES
        errors = _field_errors(exc, messages)
        if rules and isinstance(data, dict):
            errors += _rule_errors(model, data, exc, rules)
        raise ApiProblem(422, INVALID_DETAIL, errors=errors) from exc


def _rule_errors(
    model: type[BaseModel], data: dict[str, Any], exc: ValidationError, rules: validation.Rules
) -> list[FieldError]:
    """The problems ``rules`` find in the fields of ``data`` that the model accepted, as the model reads them."""
    refused = {error["loc"][0] for error in exc.errors(include_url=False) if error["loc"]}
    accepted: dict[str, Any] = {}
    for name, value in data.items():
        if name in model.model_fields and name not in refused:
            try:
                accepted[name] = _field_type(model, name).validate_python(value)
            except ValidationError:  # not expected (the model took it); the model's errors stand alone then
                continue
    problems = Problems()
    validation.clean_fields(accepted, rules, problems)
    return [FieldError(field=problem.field, message=problem.message) for problem in problems.found]


@functools.cache
def _field_type(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """One field of a request model on its own, with its validators (the request types carry their strictness)."""
    field = model.model_fields[name]
    annotated: Any = Annotated[field.annotation, field]  # a type made at run time, which mypy cannot read
    return TypeAdapter(annotated)


def _field_errors(exc: ValidationError, messages: dict[str, str]) -> list[FieldError]:
    """One entry per problem, with a dotted path; ``include_context=False`` keeps exceptions out of the body."""
    return [
        FieldError(
            field=".".join(str(part) for part in error["loc"]) or None,
            message=messages.get(error["type"], error["msg"]),
        )
        for error in exc.errors(include_context=False, include_url=False, include_input=False)
    ]


def _json_body() -> Any:
    """The body as JSON, numbers with fractions as exact ``Decimal`` (so 0.1 stays 0.1; NaN reaches the rules).

    JSON between systems is UTF-8 (RFC 8259 8.1; ``application/json`` has no charset parameter): a body declared
    in another charset is 415, one whose bytes are not UTF-8 (UTF-16, UTF-32, Latin-1...) is malformed JSON, 400,
    with a detail that says so. ``json.loads`` would otherwise guess UTF-16/32 from the bytes and accept them.
    A key given twice in one object is 422 naming it: which value counts would otherwise be a guess.
    """
    if request.mimetype != JSON:
        raise ApiProblem(415, f"Send the body as {JSON}.")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiProblem(415, f"Send the body as {JSON} in UTF-8 (charset={charset} is not accepted).")
    request.max_content_length = min(request.max_content_length or MAX_JSON_BYTES, MAX_JSON_BYTES)
    data = request.get_data()
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiProblem(400, _NOT_UTF8) from exc
    if "\x00" in decoded or decoded.startswith("\ufeff"):  # UTF-16/32 without a BOM, or a byte order mark
        raise ApiProblem(400, _NOT_UTF8)
    try:
        return json.loads(decoded, parse_float=Decimal, parse_constant=Decimal, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise ApiProblem(422, INVALID_DETAIL, errors=[FieldError(field=exc.key, message=_DUPLICATE)]) from exc
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ApiProblem(400, "The body is not valid JSON.") from exc


_NOT_UTF8 = "The body is not valid JSON: it must be encoded as UTF-8, without a byte order mark (RFC 8259 8.1)."
_DUPLICATE = "is given more than once in the same object"


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _image_uploads(most: int) -> list[NewImage]:
    """The ``image`` parts of a multipart body and their ``alt`` texts (none, or one per image, in order).

    The body's size limit was set before anything read it (core/uploads.py); every problem is reported at once.
    """
    if request.mimetype != "multipart/form-data":
        raise ApiProblem(415, "Send the images as multipart/form-data, each in an 'image' part.")
    unknown = (set(request.form) - {"alt"}) | (set(request.files) - {"image"})
    problems = [FieldError(field=name, message="is not a field you can send") for name in sorted(unknown)]
    images = request.files.getlist("image")
    alts = request.form.getlist("alt")
    if not images:
        problems.append(FieldError(field="image", message="is required"))
    elif len(images) > most:
        message = f"send at most {most} image{'s' if most > 1 else ''} here (got {len(images)})"
        problems.append(FieldError(field="image", message=message))
    if images and alts and len(alts) != len(images):
        message = f"give one alt text per image, in the same order ({len(images)} images, {len(alts)} alt texts)"
        problems.append(FieldError(field="alt", message=message))
    if problems:
        raise ApiProblem(422, INVALID_DETAIL, errors=problems)
    return [NewImage(image.stream, alts[index] if alts else None) for index, image in enumerate(images)]


def _query_args() -> dict[str, str]:
    """The query string, strictly: UTF-8, each parameter once, no NUL characters."""
    try:
        pairs = parse_qsl(request.query_string.decode(), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as exc:
        raise ApiProblem(400, "The query string is not valid UTF-8.") from exc
    args: dict[str, str] = {}
    for key, value in pairs:
        if key in args:
            raise ApiProblem(400, f"The query parameter '{key}' is given more than once.")
        args[key] = value
    bad = [FieldError(field=key, message="must not contain NUL characters") for key, v in args.items() if "\x00" in v]
    if bad:
        raise ApiProblem(422, INVALID_DETAIL, errors=bad)
    return args


def _caller(*, required: bool) -> User | None:
    """The user behind ``Authorization: Bearer``; the session cookie is never looked at."""
    if "access_token" in request.args:
        raise AuthenticationFailed("Send the access token in the Authorization header, never in the URL.")
    header = request.headers.get("Authorization")
    if header is None:
        if required:
            raise AuthenticationFailed(NO_TOKEN)
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or " " in token:
        raise AuthenticationFailed(INVALID_TOKEN)
    user = user_for_token(token)
    g.user_id = user.id  # for the request log line, which cannot see a token's user otherwise
    return user
