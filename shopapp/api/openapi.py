"""The OpenAPI 3.1 document, generated from the registered operations and their pydantic models,
and a plain HTML page of it (rendered on the server: no CDN, no JavaScript)."""

from __future__ import annotations

import functools
import json
import re
import sys
from typing import Any

from flask import jsonify, render_template
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from werkzeug.http import HTTP_STATUS_CODES

from shopapp.api import bp
from shopapp.api.errors import PREFIX, PROBLEM_JSON
from shopapp.api.fields import ID_MAX, TEXT_RULE
from shopapp.api.operations import JSON, OPERATIONS, Operation
from shopapp.api.patterns import text_pattern
from shopapp.api.schemas import Problem
from shopapp.config import DEFAULT_IMAGE_PIXELS, DEFAULT_UPLOAD_BYTES
from shopapp.core.client_limits import action_of
from shopapp.core.uploads import size_label
from shopapp.products.models import ALT_MAX

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"<(?:[^:<>]+:)?(\w+)>")
_ALWAYS = (500,)
_WITH_BODY = (400, 413, 415, 422)
_WITH_QUERY = (400, 422)  # every operation refuses unknown or malformed query parameters
_DESCRIPTIONS = {
    400: "The body is not valid JSON, or the query string is malformed.",
    401: "No, malformed, expired or revoked access token.",
    403: "The caller can see the resource but does not own it.",
    404: "No such resource, or not visible to the caller.",
    409: "Conflicts with existing data (a duplicate, or still in use), or restores something not deleted; for carts"
    " and orders: not enough stock, a changed total, or a step the order's status does not allow.",
    412: "If-Match was given and is stale; nothing was written.",
    413: "The body is too large.",
    415: "The body is not of the media type the operation takes.",
    422: "Well-formed but invalid values; errors lists each one.",
    429: "Too many attempts for this account, or requests of this kind from this address; retry after Retry-After"
    " seconds.",
    500: "Unexpected server error (details are logged, never sent).",
}
_ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Always Bearer."}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
}
_FILE = {
    "type": "string",
    "format": "binary",  # OpenAPI 3.0's spelling, which generated clients still read as "send a file"
    "contentMediaType": "application/octet-stream",
    "description": "A JPEG, PNG or WebP image (decided by its content, not its name), at most"
    f" {size_label(DEFAULT_UPLOAD_BYTES)} and {DEFAULT_IMAGE_PIXELS // 1_000_000} megapixels unless the server"
    " sets other limits (MAX_UPLOAD_BYTES, MAX_IMAGE_PIXELS).",
}
_ALT = {
    "type": "string",
    "pattern": text_pattern(ALT_MAX).source,
    "description": "Alt text; the product's name if omitted or empty. " + TEXT_RULE.format(max_length=ALT_MAX),
}
_IMAGE_TYPES = {"contentType": "image/jpeg, image/png, image/webp, application/octet-stream"}


def _upload_schema(images: int) -> dict[str, Any]:
    """The multipart body of an upload: one ``image`` file, or up to ``images`` of them with an alt text each."""
    if images == 1:
        properties: dict[str, Any] = {"image": _FILE, "alt": _ALT}
    else:
        properties = {
            "image": {"type": "array", "items": _FILE, "minItems": 1, "maxItems": images},
            "alt": {
                "type": "array",
                "items": _ALT,
                "maxItems": images,
                "description": "None, or one alt text per image in the same order.",
            },
        }
    return {
        "schema": {"type": "object", "properties": properties, "required": ["image"], "additionalProperties": False},
        "encoding": {"image": _IMAGE_TYPES},
    }


_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the copy being edited; if the product changed since, the answer is 412.",
    "schema": {"type": "string", "examples": ['"1-3"']},
}


@functools.cache
def openapi_document() -> dict[str, Any]:
    """Built once: the operations and models are fixed when the package is imported."""
    _, defs = models_json_schema(_models(), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        for method in op.methods:
            paths.setdefault(PREFIX + _PATH_PARAM.sub(r"{\1}", op.rule), {})[method.lower()] = _operation(op, method)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ShopApp API",
            "version": "1.0.0",
            "description": "JSON API v1 of the ShopApp marketplace catalog. Errors are RFC 9457 problem details.",
        },
        # Relative: the paths already start with /api/v1, on whichever host serves this document.
        "servers": [{"url": "/", "description": "The server this document is served from."}],
        "tags": _tags(),
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _tags() -> list[dict[str, str]]:
    """One tag per API module, described by the module's docstring."""
    modules = {op.tag: op.module for op in OPERATIONS}
    return [
        {"name": tag, "description": _first_paragraph(sys.modules[module].__doc__)}
        for tag, module in sorted(modules.items())
    ]


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    models: dict[type[BaseModel], JsonSchemaMode] = {Problem: "serialization"}
    for op in OPERATIONS:
        if op.body is not None:
            models[op.body] = "validation"
        if op.response is not None:
            models[op.response] = "serialization"
    return list(models.items())


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _operation(op: Operation, method: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": _operation_id(op, method),
        "summary": op.summary,
        "description": op.description,
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": {str(op.status): _success(op), **_errors(op)},
    }
    if op.body is not None:
        spec["requestBody"] = {"required": op.body_required, "content": {JSON: {"schema": _ref(op.body)}}}
    if op.images:
        spec["requestBody"] = {"required": True, "content": {"multipart/form-data": _upload_schema(op.images)}}
    # Every operation says who may call it; none means anyone (a token sent anyway is still checked).
    spec["security"] = {"required": [{"bearerAuth": []}], "optional": [{}, {"bearerAuth": []}], "none": []}[op.auth]
    return spec


def _operation_id(op: Operation, method: str) -> str:
    return op.endpoint if len(op.methods) == 1 else f"{op.endpoint}_{method.lower()}"


def _links(op: Operation) -> dict[str, Any]:
    """From a create (201 on a collection) to what can use the new row, its id taken from the answer.

    OpenAPI links tell clients, and schemathesis' stateful run, how calls chain: POST /shops, then
    GET/PATCH/DELETE /shops/{shop_id} with ``$response.body#/id``, and POST /products with that id as
    ``shop_id`` in the body. Restore is left out: it is a 409 for a live row, and after a delete
    schemathesis expects the row to stay gone. So is a shop's bulk edit: it names products, and a new shop has
    none, so it answers 404 for them, which would read as the shop being gone.
    """
    if op.status != 201 or _PATH_PARAM.search(op.rule):
        return {}
    new_id = "$response.body#/id"
    links: dict[str, Any] = {}
    item_param = None
    for other in OPERATIONS:
        params = _PATH_PARAM.findall(other.rule)
        if len(params) == 1 and other.rule.startswith(op.rule + "/<"):
            item_param = params[0]
            if not other.endpoint.startswith("restore_") and other.endpoint != "bulk_edit_products":
                for method in other.methods:
                    target = _operation_id(other, method)
                    links[target] = {"operationId": target, "parameters": {f"path.{item_param}": new_id}}
    for other in OPERATIONS:
        creates = other.status == 201 and other.body is not None and not _PATH_PARAM.search(other.rule)
        if item_param and creates and item_param in other.body.model_fields:  # type: ignore[union-attr]
            target = _operation_id(other, "POST")
            links[target] = {"operationId": target, "requestBody": {item_param: new_id}}
    return links


def _parameters(op: Operation) -> list[dict[str, Any]]:
    id_schema = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
    params = [{"name": n, "in": "path", "required": True, "schema": id_schema} for n in _PATH_PARAM.findall(op.rule)]
    for name, schema in op.query.model_json_schema().get("properties", {}).items():
        description = schema.pop("description", None)
        param = {"name": name, "in": "query", "required": False, "schema": schema}
        params.append({**param, "description": description} if description else param)
    if 412 in op.errors:
        params.append(_IF_MATCH)
    params.extend(op.headers)
    return params


def _success(op: Operation) -> dict[str, Any]:
    if op.response is None:
        success: dict[str, Any] = {"description": "Done; no content."}
    else:
        success = {"description": HTTP_STATUS_CODES[op.status], "content": {JSON: {"schema": _ref(op.response)}}}
    if op.etag:
        success["headers"] = {"ETag": {"schema": {"type": "string"}, "description": "Send it back in If-Match."}}
    if links := _links(op):
        success["links"] = links
    return success


def _errors(op: Operation) -> dict[str, Any]:
    codes = set(op.errors) | set(_ALWAYS)
    if op.body is not None or op.images:
        codes |= set(_WITH_BODY)
    codes |= set(_WITH_QUERY)
    if op.auth != "none":
        codes.add(401)
    if _PATH_PARAM.search(op.rule):
        codes.add(404)
    if any(action_of(f"api.{op.endpoint}", method) for method in op.methods):  # a limit per client address
        codes.add(429)
    return {
        str(code): {
            "description": _DESCRIPTIONS[code],
            "content": {PROBLEM_JSON: {"schema": _ref(Problem)}},
            **({"headers": _ERROR_HEADERS[code]} if code in _ERROR_HEADERS else {}),
        }
        for code in sorted(codes)
    }


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return jsonify(openapi_document())


def schema_label(schema: dict[str, Any]) -> str:
    """A short human reading of a JSON Schema, for the docs page: ``array of ProductOut``, ``integer | null``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(schema_label(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if schema.get("type") == "array":
        return "array of " + schema_label(schema.get("items", {}))
    label = str(schema.get("type", "any"))
    if "minimum" in schema or "maximum" in schema:
        label += f" ({schema.get('minimum', '…')} to {schema.get('maximum', '…')})"
    return label


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    spec = openapi_document()
    return render_template("api/docs.html", spec=spec, label=schema_label)
