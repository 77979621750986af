"""Routes that describe themselves, and the OpenAPI 3.1 document built from them.

The app is plain Starlette (a framework layer per request measured at half the throughput
here), so each route declares its request and response schemas as pydantic models next to the
handler, and this module assembles `/openapi.json` from those declarations.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Doc:
    """A response documented for one status."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str = "application/json"
    headers: Sequence[str] = ()


@dataclass(frozen=True)
class Endpoint:
    path: str
    method: str
    handler: Handler
    summary: str
    tag: str
    request: type[BaseModel] | None = None
    request_media_types: Sequence[str] = ("application/json",)
    responses: dict[int, Doc] = field(default_factory=dict)
    bearer: bool = False
    basic: bool = False
    parameters: Sequence[dict[str, Any]] = ()
    documented: bool = True

    def route(self) -> Route:
        return Route(self.path, self.handler, methods=[self.method])


def query_param(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


def header_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


def build_openapi(
    endpoints: Sequence[Endpoint], *, title: str, version: str, server: str
) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        if not endpoint.documented:
            continue
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "operationId": f"{endpoint.method.lower()}{endpoint.path}".replace("/", "_")
            .replace("{", "")
            .replace("}", "")
            .replace(".", "_")
            .replace("-", "_"),
            "responses": {
                str(status): _response(doc, schemas) for status, doc in endpoint.responses.items()
            },
        }
        if endpoint.parameters:
            operation["parameters"] = list(endpoint.parameters)
        if endpoint.request is not None:
            schema = _schema_ref(endpoint.request, schemas)
            operation["requestBody"] = {
                "required": True,
                "content": {media: {"schema": schema} for media in endpoint.request_media_types},
            }
        security: list[dict[str, list[str]]] = []
        if endpoint.bearer:
            security.append({"bearer": []})
        if endpoint.basic:
            security.append({"basic": []})
        if security:
            operation["security"] = security
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
    }


def _response(doc: Doc, schemas: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": doc.description}
    if doc.model is not None:
        response["content"] = {doc.media_type: {"schema": _schema_ref(doc.model, schemas)}}
    elif doc.media_type != "application/json":
        response["content"] = {doc.media_type: {"schema": {"type": "string"}}}
    if doc.headers:
        response["headers"] = {name: {"schema": {"type": "string"}} for name in doc.headers}
    return response


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = copy.deepcopy(model_schema(model))
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


@functools.cache
def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema with references into the document's components.

    Generating it is pydantic's slowest path and the same few models describe hundreds of
    responses (the error shape alone is on almost every one), so each model's schema is made
    once per process; callers get it through `_schema_ref`, which copies it before use."""
    return model.model_json_schema(ref_template="#/components/schemas/{model}")
