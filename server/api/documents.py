"""PDF downloads and the business profile they are signed with.

The PDFs themselves are built by server/render/pdf.py; this module only picks the inputs (record,
profile, screenshot, language, options), answers 409 when a document does not apply to the case,
and records every download as an audit event (ids and hashes only, never content).
"""
import hashlib
import re

from flask import Response, jsonify, request

from ..domain import profile
from ..render import pdf as documents
from ..errors import ApiError
from .openapi import error_responses, json_response
from ..domain.schemas import parse_json_body, today_in_italy
from ..trust.signing import sign_pdf
from ..store import get_store
from . import bp
from .captures import CASE_ID, load_case

MIN_DEADLINE_DAYS, MAX_DEADLINE_DAYS = 1, 60

# Shown to the user before sending a removal demand (LEGAL.md), never printed in the letter itself.
REMOVAL_DEMAND_WARNINGS = {
    "it": [
        "La diffida non ferma il termine per la querela: i 3 mesi dalla piena conoscenza continuano a decorrere.",
        "Non subordinare mai la rinuncia alla querela a un pagamento: può essere a sua volta estorsione.",
        "Minacciare chi ha scritto una recensione su Tripadvisor porta Tripadvisor a penalizzare l'attività.",
        "La diffida ha effetto quando arriva al destinatario (artt. 1334–1335 c.c.): inviala via PEC o "
        "raccomandata con ricevuta di ritorno.",
    ],
    "en": [
        "A removal demand does not stop the querela clock: the 3 months from full knowledge keep running.",
        "Never make dropping a complaint conditional on money: that can itself be extortion.",
        "Threatening a Tripadvisor reviewer gets the business penalised by Tripadvisor.",
        "The demand takes effect when it reaches the addressee (arts. 1334–1335 Civil Code): send it by "
        "certified email (PEC) or registered letter with proof of delivery.",
    ],
}


def _profile() -> dict:
    return profile.complete(get_store().get_setting("profile"))


def _language(record: dict | None, stored_profile: dict) -> str:
    lang = request.args.get("lang")
    if lang is None:
        return (record or {}).get("language") or stored_profile["default_language"] or "it"
    if lang not in documents.LANGUAGES:
        raise ApiError(400, "invalid_field", "'lang' must be 'it' or 'en'.", "lang")
    return lang


def _deadline_days() -> int:
    raw = request.args.get("deadline_days")
    if raw is None:
        return documents.DEFAULT_DEADLINE_DAYS
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not MIN_DEADLINE_DAYS <= int(raw) <= MAX_DEADLINE_DAYS:
        raise ApiError(400, "invalid_field", f"'deadline_days' must be a whole number of days from "
                                             f"{MIN_DEADLINE_DAYS} to {MAX_DEADLINE_DAYS}.", "deadline_days")
    return int(raw)


def _screenshot(record: dict) -> bytes | None:
    for item in record.get("evidence", []):
        if item["name"].startswith("screenshot.") and item["media_type"] in ("image/png", "image/jpeg"):
            return get_store().read_evidence(record["id"], item["name"])
    return None


def _pdf(case_id: str, document: str | None, **options) -> Response:
    record = load_case(case_id)
    document = document or documents.document_for(record)
    if not documents.applies(document, record):
        reason = ("Only a testimonial whose consent was withdrawn has a takedown checklist."
                  if document == "takedown" else
                  f"A {document.replace('_', ' ')} is for {'offence' if record['kind'] == 'testimonial' else 'testimonial'} "
                  f"cases; case {case_id} is a {record['kind']}.")
        raise ApiError(409, "not_applicable", reason, "kind")
    stored_profile = _profile()
    lang = _language(record, stored_profile)
    today = today_in_italy()
    pdf = sign_pdf(documents.render(document, record, stored_profile, lang, _screenshot(record), issued_on=today,
                                    **options))
    get_store().audit("document.downloaded", case_id, document=document, lang=lang,
                      sha256=hashlib.sha256(pdf).hexdigest(), **options)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{documents.filename(document, record, today)}"'
    response.headers["X-Testimone-Missing-Profile-Fields"] = ",".join(profile.missing_fields(stored_profile))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/captures/<case_id>/document.pdf")
def case_document(case_id: str):
    return _pdf(case_id, None)


@bp.get("/captures/<case_id>/removal-demand.pdf")
def removal_demand(case_id: str):
    days = _deadline_days()
    return _pdf(case_id, "removal_demand", deadline_days=days)


@bp.get("/captures/<case_id>/removal-demand/warnings")
def removal_demand_warnings(case_id: str):
    record = load_case(case_id)
    if not documents.applies("removal_demand", record):
        raise ApiError(409, "not_applicable", f"Case {case_id} is a testimonial: it has no removal demand.", "kind")
    stored_profile = _profile()
    lang = _language(record, stored_profile)
    return jsonify({"warnings": REMOVAL_DEMAND_WARNINGS[lang], "deadline_days": _deadline_days(),
                    "missing_profile_fields": profile.missing_fields(stored_profile)})


@bp.get("/captures/<case_id>/takedown.pdf")
def takedown(case_id: str):
    return _pdf(case_id, "takedown")


def _profile_answer(stored: dict) -> dict:
    return {"profile": stored, "missing_fields": profile.missing_fields(stored)}


@bp.get("/profile")
def get_profile():
    return jsonify(_profile_answer(_profile()))


@bp.put("/profile")
def put_profile():
    body = parse_json_body(request.get_data())
    try:
        clean = profile.validate(body)
    except profile.ProfileError as error:
        raise ApiError(400, "invalid_field", error.message, error.field) from None
    get_store().put_setting("profile", clean)
    return jsonify(_profile_answer(clean))


_PDF = {"description": "The PDF", "content": {"application/pdf": {"schema": {"type": "string",
                                                                            "format": "binary"}}}}
_LANG = {"name": "lang", "in": "query", "required": False, "schema": {"enum": list(documents.LANGUAGES)},
         "description": "Language (default: the record's, then the profile's)"}
_DAYS = {"name": "deadline_days", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": MIN_DEADLINE_DAYS, "maximum": MAX_DEADLINE_DAYS},
         "description": "Days to comply after receipt (default 7)"}
_SCHEMA_ONLY = {k: v for k, v in profile.SCHEMA.items() if k != "$schema"}
_PROFILE = {"type": "object", "required": ["profile", "missing_fields"],
            "properties": {"profile": _SCHEMA_ONLY, "missing_fields": {"type": "array",
                                                                           "items": {"enum": list(profile.REQUIRED)}}}}
OPENAPI_PATHS = {
    "/api/captures/{case_id}/document.pdf": {"get": {
        "summary": "Consent request (testimonial) or incident report (offence)", "parameters": [CASE_ID, _LANG],
        "responses": {"200": _PDF, **error_responses(400, 401, 403, 404)}}},
    "/api/captures/{case_id}/removal-demand.pdf": {"get": {
        "summary": "Formal removal demand (diffida), offence cases only", "parameters": [CASE_ID, _LANG, _DAYS],
        "responses": {"200": _PDF, **error_responses(400, 401, 403, 404, 409)}}},
    "/api/captures/{case_id}/removal-demand/warnings": {"get": {
        "summary": "What the user must know before sending the removal demand (not printed in it)",
        "parameters": [CASE_ID, _LANG, _DAYS],
        "responses": {"200": json_response("Warnings", {
            "type": "object", "required": ["warnings", "deadline_days", "missing_profile_fields"],
            "properties": {"warnings": {"type": "array", "items": {"type": "string"}},
                           "deadline_days": {"type": "integer"},
                           "missing_profile_fields": {"type": "array", "items": {"type": "string"}}}}),
                      **error_responses(400, 401, 403, 404, 409)}}},
    "/api/captures/{case_id}/takedown.pdf": {"get": {
        "summary": "Takedown checklist, or the confirmation for the author once every placement is removed",
        "parameters": [CASE_ID, _LANG], "responses": {"200": _PDF, **error_responses(400, 401, 403, 404, 409)}}},
    "/api/profile": {
        "get": {"summary": "The business profile and the required fields still missing",
                "responses": {"200": json_response("Profile", _PROFILE), **error_responses(401, 403)}},
        "put": {"summary": "Replace the business profile (null or absent fields are empty)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _SCHEMA_ONLY}}},
                "responses": {"200": json_response("Saved", _PROFILE), **error_responses(400, 401, 403)}}},
}
