"""The OpenAPI 3.1 document: shared components here, each API module's paths in its OPENAPI_PATHS
(or, when they depend on a registry, its openapi_paths())."""
import importlib
import pkgutil

from .. import __version__
from ..domain.schemas import CAPTURE_SCHEMA
from ..domain.vocabulary import KINDS, PLATFORMS

NULLABLE_TEXT = {"type": ["string", "null"]}
NULLABLE_URL = {"type": ["string", "null"]}

COMPONENTS = {
    "securitySchemes": {"pairingToken": {"type": "http", "scheme": "bearer",
                                         "description": "The pairing token printed by `testimone token`."}},
    "schemas": {
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message", "field"],
                                     "properties": {"code": {"type": "string"},
                                                    "message": {"type": "string", "description":
                                                                "English, or Italian when Accept-Language prefers it"},
                                                    "field": NULLABLE_TEXT}}},
        },
        "CaptureInput": CAPTURE_SCHEMA,
        "Links": {"type": "object", "required": ["self", "document", "dashboard"],
                  "properties": {name: {"type": "string"} for name in ("self", "document", "dashboard")}},
        "CaptureCreated": {
            "type": "object", "required": ["id", "kind", "sha256", "captured_at", "status", "links"],
            "properties": {"id": {"type": "string"}, "kind": {"enum": KINDS},
                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                           "captured_at": {"type": "string", "format": "date-time"},
                           "status": {"type": "string"}, "links": {"$ref": "#/components/schemas/Links"},
                           "advice": {"type": "array", "items": {"type": "string"},
                                      "description": "offences: contact the customer first; escalate only "
                                                     "what is false, insulting or blackmail"}},
        },
        "Evidence": {
            "type": "object", "required": ["name", "media_type", "size", "sha256"],
            "properties": {"name": {"type": "string"}, "media_type": {"type": "string"},
                           "size": {"type": "integer", "minimum": 0},
                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
        },
        "Author": {"type": "object", "properties": {"name": NULLABLE_TEXT, "profile_url": NULLABLE_URL}},
        "CaseSummary": {
            "type": "object",
            "required": ["id", "kind", "status", "platform", "author", "text", "captured_at", "page_url", "links"],
            "properties": {
                "id": {"type": "string"}, "kind": {"enum": KINDS}, "status": {"type": "string"},
                "platform": {"enum": PLATFORMS}, "author": {"$ref": "#/components/schemas/Author"},
                "text": NULLABLE_TEXT, "rating": {"type": ["integer", "null"]},
                "captured_at": {"type": "string"}, "page_url": {"type": ["string", "null"]},
                "permalink": NULLABLE_URL, "deadlines": {"type": "array"},
                "links": {"$ref": "#/components/schemas/Links"},
            },
        },
        "CaseList": {
            "type": "object", "required": ["items", "next_cursor"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/CaseSummary"}},
                           "next_cursor": NULLABLE_TEXT},
        },
        "Case": {
            "type": "object",
            "required": ["id", "kind", "status", "platform", "page_url", "permalink", "author", "text",
                         "rating", "posted_at", "posted_at_text", "captured_at", "sha256", "evidence",
                         "history"],
            "properties": {
                "id": {"type": "string"}, "kind": {"enum": KINDS}, "status": {"type": "string"},
                "platform": {"enum": PLATFORMS}, "page_url": {"type": ["string", "null"]},
                "permalink": NULLABLE_URL, "author": {"$ref": "#/components/schemas/Author"},
                "text": NULLABLE_TEXT, "title": NULLABLE_TEXT, "rating": {"type": ["integer", "null"]},
                "posted_at": NULLABLE_TEXT, "posted_at_text": NULLABLE_TEXT, "captured_at": {"type": "string"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "evidence": {"type": "array", "items": {"$ref": "#/components/schemas/Evidence"}},
                "history": {"type": "array", "items": {"type": "object", "required": ["at", "event"]}},
                "testimonial": {"type": ["object", "null"]}, "offence": {"type": ["object", "null"]},
                "known_since": NULLABLE_TEXT, "deadlines": {"type": "array"},
                "links": {"$ref": "#/components/schemas/Links"},
            },
        },
    },
}


def error_responses(*statuses: int) -> dict:
    reasons = {400: "Invalid request: the error names the field", 401: "Missing or wrong pairing token",
               403: "Host not allowed", 404: "No such case", 409: "Not allowed in the case's state",
               413: "Body too large", 503: "Too many documents being made: retry after Retry-After seconds",
               507: "Disk full: nothing was stored"}
    return {str(status): {"description": reasons[status],
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for status in statuses}


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document() -> dict:
    from .. import api

    paths = {}
    for module in pkgutil.iter_modules(api.__path__):
        area = importlib.import_module(f"{api.__name__}.{module.name}")
        area_paths = area.openapi_paths() if hasattr(area, "openapi_paths") else getattr(area, "OPENAPI_PATHS", {})
        for path, operations in area_paths.items():
            paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Testimone API", "version": __version__,
                 "description": "Local API of Testimone (127.0.0.1 only). See docs/api.md."},
        "servers": [{"url": "http://127.0.0.1:8765"}],
        "security": [{"pairingToken": []}],
        "paths": dict(sorted(paths.items())),
        "components": COMPONENTS,
    }
