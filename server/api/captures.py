"""Captures: health, create, list, read one, and the OpenAPI document."""
import re

from flask import current_app, jsonify, request

from .. import __version__
from ..domain import kinds
from ..domain.errors import Invalid
from ..domain.legal import ADVICE
from ..domain.schemas import check_url, parse_json_body
from ..domain.vocabulary import KINDS, PLATFORMS
from ..services import cases, idempotency
from ..store import decode_cursor, get_store
from . import bp, only_parameters, whole_number
from .openapi import document, error_responses, json_response

MAX_LIMIT = 200
SUMMARY_TEXT = 280


def links(case_id: str) -> dict:
    return {"self": f"/api/captures/{case_id}", "document": f"/api/captures/{case_id}/document.pdf",
            "dashboard": f"/cases/{case_id}"}


def summary(record: dict) -> dict:
    """A case in a list: its text cut short, its deadlines as refreshed by the service."""
    text = record.get("text") or ""
    return {
        "id": record["id"], "kind": record["kind"], "status": record["status"],
        "platform": record["platform"], "author": record["author"],
        "text": text if len(text) <= SUMMARY_TEXT else text[:SUMMARY_TEXT - 1] + "…",
        "rating": record.get("rating"), "captured_at": record["captured_at"],
        "page_url": record["page_url"], "permalink": record.get("permalink"),
        "deadlines": record.get("deadlines", []), "links": links(record["id"]),
    }


@bp.get("/health")
def health():
    return jsonify({"status": "ok", "version": __version__})


@bp.post("/captures")
def create_capture():
    key = idempotency.key_digest(request.headers.get(idempotency.HEADER))
    body = parse_json_body(request.get_data(cache=False))
    hooks = current_app.extensions.get("testimone.on_capture", [])
    if key is None:
        record = cases.capture(get_store(), body, hooks)
    else:
        record, replayed = current_app.extensions["testimone.deliveries"].capture_once(
            key, lambda: cases.capture(get_store(), body, hooks, **{idempotency.RECORD_FIELD: key}))
        if replayed:  # a retry whose first answer was lost: the same case again
            return jsonify(_created(record)), 200, {"Location": links(record["id"])["self"],
                                                    "Idempotent-Replayed": "true"}
    return jsonify(_created(record)), 201, {"Location": links(record["id"])["self"]}


def _created(record: dict) -> dict:
    answer = {"id": record["id"], "kind": record["kind"], "sha256": record["sha256"],
              "captured_at": record["captured_at"], "status": record["status"], "links": links(record["id"])}
    if kinds.of(record).advice:  # a negative but legitimate review is not an offence: say so every time
        answer["advice"] = ADVICE[record["language"]]
    return answer


def _choice(name: str, allowed: list[str]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in allowed:
        raise Invalid(name, "field.choice", allowed=", ".join(allowed))
    return value


LIST_PARAMETERS = {"kind", "status", "platform", "q", "limit", "cursor", "permalink", "text_sha256"}


@bp.get("/captures")
def list_captures():
    only_parameters(*LIST_PARAMETERS)
    limit = whole_number("limit", 50, MAX_LIMIT)
    cursor = request.args.get("cursor")
    if cursor is not None:
        try:
            decode_cursor(cursor)
        except ValueError:
            raise Invalid("cursor", "parameter.cursor") from None
    q = request.args.get("q")
    if q is not None and len(q) > 200:
        raise Invalid("q", "field.too_long", limit=200)
    status = request.args.get("status")
    if status is not None and (len(status) > 40 or not status.replace("_", "").isalpha()):
        raise Invalid("status", "parameter.status")
    permalink = request.args.get("permalink")
    check_url(permalink, "permalink")
    text_sha256 = request.args.get("text_sha256")
    if text_sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", text_sha256):
        raise Invalid("text_sha256", "parameter.sha256")
    records, next_cursor = cases.list_cases(
        get_store(), kind=_choice("kind", KINDS), status=status, platform=_choice("platform", PLATFORMS),
        q=q or None, limit=limit, cursor=cursor, permalink=permalink, text_sha256=text_sha256)
    return jsonify({"items": [summary(record) for record in records], "next_cursor": next_cursor})


@bp.get("/captures/<case_id>")
def get_capture(case_id: str):
    record = cases.get(get_store(), case_id)
    record["links"] = links(case_id)
    return jsonify(record)


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document())


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}

OPENAPI_PATHS = {
    "/api/health": {"get": {
        "summary": "Is the server up? (no token needed)", "security": [],
        "responses": {"200": json_response("Up", {"type": "object", "required": ["status", "version"],
                                                  "properties": {"status": {"const": "ok"},
                                                                 "version": {"type": "string"}}}),
                      **error_responses(403)}}},
    "/api/captures": {
        "post": {
            "summary": "Store a capture (testimonial or offence) with its evidence",
            "parameters": [{"name": idempotency.HEADER, "in": "header", "required": False,
                            "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{8,200}$"},
                            "description": "One per capture, the same on every retry: a retry whose answer "
                                           "was lost gets the case already made (200) instead of a second one"}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CaptureInput")}}},
            "responses": {"201": json_response("Stored durably", _ref("CaptureCreated")),
                          "200": json_response("Already stored under this Idempotency-Key: the same case",
                                               _ref("CaptureCreated")),
                          **error_responses(400, 401, 403, 413, 507)}},
        "get": {
            "summary": "List cases, newest first",
            "parameters": [
                _query("kind", {"enum": KINDS}, "Only this kind"),
                _query("status", {"type": "string", "maxLength": 40}, "Only this status"),
                _query("platform", {"enum": PLATFORMS}, "Only this platform"),
                _query("q", {"type": "string", "maxLength": 200}, "Text in the author's name or the comment"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Page size (default 50)"),
                _query("cursor", {"type": "string"}, "`next_cursor` of the previous page"),
                _query("permalink", {"type": "string", "format": "uri", "maxLength": 4096},
                       "Earlier captures of the comment at this address (\"already captured on …\")"),
                _query("text_sha256", {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                       "Earlier captures whose text has this SHA-256 (UTF-8), when the comment has no address;"
                       " with `permalink`, either matches. Erased cases never match"),
            ],
            "responses": {"200": json_response("A page of cases", _ref("CaseList")),
                          **error_responses(400, 401, 403)}}},
    "/api/captures/{case_id}": {"get": {
        "summary": "One case: record, evidence with hashes, history", "parameters": [CASE_ID],
        "responses": {"200": json_response("The case", _ref("Case")), **error_responses(401, 403, 404)}}},
    "/api/openapi.json": {"get": {
        "summary": "This document",
        "responses": {"200": json_response("OpenAPI 3.1", {"type": "object"}), **error_responses(401, 403)}}},
}
