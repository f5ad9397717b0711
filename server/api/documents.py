"""PDF downloads and the business profile they are signed with.

The documents service (server/services/documents.py) picks the inputs, renders, signs and audits;
these routes parse the query and shape the answer.
"""
import re

from flask import Response, current_app, jsonify, request

from ..domain import legal, profile
from ..domain.errors import Invalid
from ..domain.schemas import parse_json_body
from ..domain.vocabulary import LANGUAGES
from ..render import document_types
from ..services import documents
from ..store import get_store
from . import bp
from .captures import CASE_ID
from .openapi import error_responses, json_response

MIN_DEADLINE_DAYS, MAX_DEADLINE_DAYS = 1, 60


def _deadline_days() -> int:
    raw = request.args.get("deadline_days")
    if raw is None:
        return legal.REMOVAL_DEMAND_DAYS
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not MIN_DEADLINE_DAYS <= int(raw) <= MAX_DEADLINE_DAYS:
        raise Invalid("deadline_days", "parameter.deadline_days", min=MIN_DEADLINE_DAYS, max=MAX_DEADLINE_DAYS)
    return int(raw)


def _pdf(case_id: str, name: str | None, **options) -> Response:
    document = documents.document(get_store(), case_id, name, request.args.get("lang"),
                                  tsa_url=current_app.config.get("TSA_URL") or "", **options)
    response = Response(document.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response.headers["X-Testimone-Missing-Profile-Fields"] = ",".join(document.missing_profile_fields)
    response.headers["Cache-Control"] = "no-store"
    return response


OPTIONS = {"deadline_days": _deadline_days}  # how each document option is read from the query


@bp.get("/captures/<case_id>/document.pdf")
def case_document(case_id: str):
    """The case's main document (server/render/document_types.py: main)."""
    return _pdf(case_id, None)


def _document_view(kind: document_types.DocumentType):
    def view(case_id: str):
        options = {name: OPTIONS[name]() for name in kind.options}
        return _pdf(case_id, kind.name, **options)
    view.__name__ = f"document_{kind.name}"
    return view


@bp.record
def document_routes(state) -> None:
    """A route for every registered document type, added as each app is built."""
    for kind in document_types.TYPES.values():
        state.add_url_rule(f"/captures/<case_id>/{kind.path}", f"document_{kind.name}", _document_view(kind),
                           methods=["GET"])


@bp.get("/captures/<case_id>/removal-demand/warnings")
def removal_demand_warnings(case_id: str):
    answer = documents.removal_demand_warnings(get_store(), case_id, request.args.get("lang"))
    return jsonify({"warnings": answer["warnings"], "deadline_days": _deadline_days(),
                    "missing_profile_fields": answer["missing_profile_fields"]})


def _profile_answer(stored: dict) -> dict:
    return {"profile": stored, "missing_fields": profile.missing_fields(stored)}


@bp.get("/profile")
def get_profile():
    return jsonify(_profile_answer(documents.business_profile(get_store())))


@bp.put("/profile")
def put_profile():
    return jsonify(_profile_answer(documents.save_profile(get_store(), parse_json_body(request.get_data()))))


_PDF = {"description": "The PDF", "content": {"application/pdf": {"schema": {"type": "string",
                                                                            "format": "binary"}}}}
_LANG = {"name": "lang", "in": "query", "required": False, "schema": {"enum": list(LANGUAGES)},
         "description": "Language (default: the record's, then the profile's)"}
_DAYS = {"name": "deadline_days", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": MIN_DEADLINE_DAYS, "maximum": MAX_DEADLINE_DAYS},
         "description": "Days to comply after receipt (default 7)"}
_SCHEMA_ONLY = {k: v for k, v in profile.SCHEMA.items() if k != "$schema"}
_PROFILE = {"type": "object", "required": ["profile", "missing_fields"],
            "properties": {"profile": _SCHEMA_ONLY, "missing_fields": {"type": "array",
                                                                           "items": {"enum": list(profile.REQUIRED)}}}}
_OPTION_PARAMETERS = {"deadline_days": _DAYS}


def openapi_paths() -> dict:
    """The routes of this module, with one per registered document type (read by server/api/openapi.py)."""
    documents_paths = {
        f"/api/captures/{{case_id}}/{kind.path}": {"get": {
            "summary": kind.summary,
            "parameters": [CASE_ID, _LANG] + [_OPTION_PARAMETERS[name] for name in kind.options],
            "responses": {"200": _PDF, **error_responses(400, 401, 403, 404, 409, 503)}}}
        for kind in document_types.TYPES.values()}
    return {**documents_paths, **_OPENAPI_PATHS}


_OPENAPI_PATHS = {
    "/api/captures/{case_id}/document.pdf": {"get": {
        "summary": "Consent request (testimonial) or incident report (offence)", "parameters": [CASE_ID, _LANG],
        "responses": {"200": _PDF, **error_responses(400, 401, 403, 404, 503)}}},
    "/api/captures/{case_id}/removal-demand/warnings": {"get": {
        "summary": "What the user must know before sending the removal demand (not printed in it)",
        "parameters": [CASE_ID, _LANG, _DAYS],
        "responses": {"200": json_response("Warnings", {
            "type": "object", "required": ["warnings", "deadline_days", "missing_profile_fields"],
            "properties": {"warnings": {"type": "array", "items": {"type": "string"}},
                           "deadline_days": {"type": "integer"},
                           "missing_profile_fields": {"type": "array", "items": {"type": "string"}}}}),
                      **error_responses(400, 401, 403, 404, 409)}}},
    "/api/profile": {
        "get": {"summary": "The business profile and the required fields still missing",
                "responses": {"200": json_response("Profile", _PROFILE), **error_responses(401, 403)}},
        "put": {"summary": "Replace the business profile (null or absent fields are empty)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _SCHEMA_ONLY}}},
                "responses": {"200": json_response("Saved", _PROFILE), **error_responses(400, 401, 403)}}},
}
