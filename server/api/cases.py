"""Case workflows: consent, placements, withdrawal, offence steps, signals, authors, the deadlines feed.

The rules live in server/domain/cases.py and server/domain/legal.py; this module validates the request, runs the
rule inside store.update (one serialised, journaled write with its history event) and answers.
"""
import secrets

from flask import Response, jsonify, request
from jsonschema import Draft202012Validator

from ..domain import cases, legal
from ..render import pdf as documents
from ..render.ics import deadlines_feed
from ..errors import ApiError
from ..domain.integrity import sha256_hex
from .openapi import error_responses, json_response
from ..domain.schemas import (BASE64, DATE, OPTIONAL_URL, PURPOSES, check_date, check_url, decode_base64,
                       parse_json_body, text, today_in_italy, validate)
from ..store import get_store, iso_utc, utc_now
from . import bp, only_parameters, query_token_allowed
from .captures import CASE_ID, links, load_case, summary

# Files an owner attaches as proof (a customer's reply, a screenshot of a removed page).
EVIDENCE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "application/pdf": "pdf",
                  "text/plain": "txt", "message/rfc822": "eml"}
EVIDENCE = {"type": ["object", "null"], "additionalProperties": False, "required": ["media_type", "data"],
            "properties": {"media_type": {"enum": list(EVIDENCE_TYPES)}, "data": BASE64}}


def _object(required: list[str], properties: dict, **extra) -> dict:
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties,
            **extra}


CONSENT_SCHEMA = _object(["decision", "purposes", "photo", "attribution", "received_via", "received_at"], {
    "decision": {"enum": ["granted", "partial", "denied"]},
    "purposes": _object(PURPOSES, {p: {"type": "boolean"} for p in PURPOSES}),
    "photo": {"type": "boolean"},
    "attribution": {"enum": cases.ATTRIBUTIONS},
    "received_via": {"enum": cases.RECEIVED_VIA},
    "received_at": DATE,
    "evidence": EVIDENCE,
})
PLACEMENT_SCHEMA = _object(["channel", "published_at"], {
    "channel": {"enum": cases.CHANNELS}, "url": OPTIONAL_URL, "description": text(1000), "published_at": DATE})
PLACEMENT_PATCH_SCHEMA = _object(["removed_at"], {"removed_at": DATE, "evidence": EVIDENCE})
REVOCATION_SCHEMA = _object(["received_at", "received_via"], {
    "received_at": DATE, "received_via": {"enum": cases.RECEIVED_VIA}})
ACTION_SCHEMA = _object(["type", "date"], {
    "type": {"enum": cases.ACTION_TYPES}, "date": DATE, "reference": text(500), "notes": text(5000),
    "due": {"anyOf": [DATE, {"type": "null"}],
            "description": "removal_demand_sent only: the compliance date written in the demand"}})
CASE_PATCH_SCHEMA = _object([], {
    "known_since": DATE, "reason": {"type": "string", "minLength": 1, "maxLength": 1000},
    "signals": {"type": "array", "items": {"enum": cases.SIGNALS}, "uniqueItems": True}}, minProperties=1)

VALIDATORS = {name: Draft202012Validator(schema) for name, schema in {
    "consent": CONSENT_SCHEMA, "placement": PLACEMENT_SCHEMA, "placement_patch": PLACEMENT_PATCH_SCHEMA,
    "revocation": REVOCATION_SCHEMA, "action": ACTION_SCHEMA, "case_patch": CASE_PATCH_SCHEMA}.items()}


def _signature_ok(media_type: str, data: bytes) -> bool:
    signatures = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff", "application/pdf": b"%PDF-"}
    if media_type in signatures:
        return data.startswith(signatures[media_type])
    if media_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    try:  # text/plain, message/rfc822: readable text
        return "\x00" not in data.decode("utf-8")
    except UnicodeDecodeError:
        return False


def _decode_evidence(obj: dict | None, field: str) -> tuple[bytes, str] | None:
    if not obj:
        return None
    data = decode_base64(obj["data"], f"{field}.data")
    if not _signature_ok(obj["media_type"], data):
        raise ApiError(400, "media_type_mismatch", f"'{field}.data' is not {obj['media_type']} (the bytes do "
                                                   "not match the media type).", f"{field}.media_type")
    return data, obj["media_type"]


def _evidence_file(prefix: str, decoded: tuple[bytes, str] | None) -> tuple[list, dict | None]:
    """The file to attach to the step's write, and the {name, sha256} the record cites (or none)."""
    if decoded is None:
        return [], None
    data, media_type = decoded
    name = f"{prefix}-{secrets.token_hex(4)}.{EVIDENCE_TYPES[media_type]}"
    return [(name, data, media_type)], {"name": name, "sha256": sha256_hex(data)}


def _now() -> str:
    return iso_utc(utc_now())


def case_answer(record: dict) -> dict:
    record["links"] = links(record["id"])
    if record["kind"] == "offence":
        cases.refresh_deadlines(record, today_in_italy())
        record["advice"] = legal.ADVICE[record.get("language") or "it"]
    return record


# -- steps: a body in, the stored result out. The routes below and the dashboard's forms share them. --

def consent_step(case_id: str, body: dict) -> dict:
    validate(VALIDATORS["consent"], body)
    check_date(body["received_at"], "received_at", not_future=True)
    decoded = _decode_evidence(body.get("evidence"), "evidence")
    now = _now()
    load_case(case_id)  # 404 first; a refused step (409/400) writes nothing: store.update checks before it writes
    attach, evidence = _evidence_file("consent", decoded)
    record = get_store().update(case_id, lambda record: cases.record_consent(record, body, evidence, now),
                                "consent.answered", attach=attach, decision=body["decision"],
                                granted=[p for p in PURPOSES if body["purposes"][p]], photo=body["photo"],
                                received_via=body["received_via"], received_at=body["received_at"],
                                evidence=evidence and evidence["sha256"])
    return case_answer(record)


def placement_step(case_id: str, body: dict) -> dict:
    validate(VALIDATORS["placement"], body)
    check_url(body.get("url"), "url")
    check_date(body["published_at"], "published_at", not_future=True)
    now = _now()
    load_case(case_id)
    added = {}

    def step(record):
        added.update(cases.add_placement(record, body, now))

    record = get_store().update(case_id, step, "placement.added", channel=body["channel"],
                                published_at=body["published_at"])
    return {"id": added["id"], "placement": added, "status": record["status"]}


def removal_step(case_id: str, placement_id: str, body: dict) -> dict:
    validate(VALIDATORS["placement_patch"], body)
    check_date(body["removed_at"], "removed_at", not_future=True)
    decoded = _decode_evidence(body.get("evidence"), "evidence")
    load_case(case_id)
    attach, evidence = _evidence_file(f"removal-{placement_id}", decoded)
    record = get_store().update(
        case_id, lambda record: cases.remove_placement(record, placement_id, body["removed_at"], evidence),
        "placement.removed", attach=attach, placement=placement_id, removed_at=body["removed_at"],
        evidence=evidence and evidence["sha256"])
    return case_answer(record)


def revocation_step(case_id: str, body: dict) -> dict:
    validate(VALIDATORS["revocation"], body)
    check_date(body["received_at"], "received_at", not_future=True)
    now = _now()
    load_case(case_id)
    # What to erase is decided under the store lock: a consent reply stored a moment earlier is erased too.
    record = get_store().erase(case_id, lambda record: cases.withdraw(record, body, now)["erasure"]["erased"],
                               "consent.withdrawn", received_at=body["received_at"],
                               received_via=body["received_via"])
    documents.forget(case_id)  # the cached PDFs print the erased text
    return {"id": case_id, "status": record["status"], "erased": record["erasure"]["erased"],
            "to_take_down": cases.active_placements(record)}


def action_step(case_id: str, body: dict) -> dict:
    validate(VALIDATORS["action"], body)
    check_date(body["date"], "date", not_future=True)
    check_date(body.get("due"), "due")
    today, now = today_in_italy(), _now()
    load_case(case_id)
    record = get_store().update(case_id, lambda record: cases.record_action(record, body, today, now),
                                "action.recorded", type=body["type"], date=body["date"])
    return case_answer(record)


def patch_step(case_id: str, body: dict) -> dict:
    validate(VALIDATORS["case_patch"], body)
    if "known_since" in body and "reason" not in body:
        raise ApiError(400, "invalid_field", "'reason' is required when 'known_since' changes.", "reason")
    if "reason" in body and "known_since" not in body:
        raise ApiError(400, "invalid_field", "'reason' goes with a new 'known_since'.", "reason")
    check_date(body.get("known_since"), "known_since", not_future=True)
    today, now = today_in_italy(), _now()

    def step(record):
        if "known_since" in body:
            cases.change_known_since(record, body["known_since"], body["reason"], today, now)
        if "signals" in body:
            cases.set_signals(record, body["signals"])

    before = load_case(case_id)
    details = {"signals": body["signals"]} if "signals" in body else {}
    if "known_since" in body:  # the reason is the owner's own words: in the record; its hash in the audit log
        details.update({"known_since_from": before.get("known_since"), "known_since_to": body["known_since"],
                        "reason_sha256": sha256_hex(body["reason"].encode())})
    record = get_store().update(case_id, step, "case.updated", **details)
    return case_answer(record)


# -- routes ---------------------------------------------------------------------------------------

def _json() -> dict:
    return parse_json_body(request.get_data(cache=False))


@bp.post("/captures/<case_id>/consent")
def record_consent(case_id: str):
    return jsonify(consent_step(case_id, _json())), 201


@bp.post("/captures/<case_id>/placements")
def add_placement(case_id: str):
    return jsonify(placement_step(case_id, _json())), 201, {"Location": f"/api/captures/{case_id}"}


@bp.patch("/captures/<case_id>/placements/<placement_id>")
def remove_placement(case_id: str, placement_id: str):
    return jsonify(removal_step(case_id, placement_id, _json()))


@bp.post("/captures/<case_id>/revocation")
def revoke_consent(case_id: str):
    return jsonify(revocation_step(case_id, _json()))


@bp.post("/captures/<case_id>/actions")
def record_action(case_id: str):
    return jsonify(action_step(case_id, _json())), 201


@bp.patch("/captures/<case_id>")
def patch_case(case_id: str):
    return jsonify(patch_step(case_id, _json()))


def all_records() -> list[dict]:
    records, cursor = [], None
    while True:
        page, cursor = get_store().list(limit=200, cursor=cursor)
        records += page
        if cursor is None:
            return records


@bp.get("/authors")
def author():
    only_parameters("profile_url")
    profile_url = request.args.get("profile_url")
    if not profile_url:
        raise ApiError(400, "invalid_field", "'profile_url' is required.", "profile_url")
    check_url(profile_url, "profile_url")
    view = cases.author_view(profile_url, all_records())
    view["cases"] = [summary(record) for record in view["cases"]]
    return jsonify(view)


@bp.get("/deadlines.ics")
@query_token_allowed
def deadlines_ics():
    only_parameters("token", "lang")
    lang = request.args.get("lang", "it")
    if lang not in ("it", "en"):
        raise ApiError(400, "invalid_field", "'lang' must be 'it' or 'en'.", "lang")
    feed = deadlines_feed(all_records(), today_in_italy(), lang, request.host_url.rstrip("/"))
    return Response(feed, mimetype="text/calendar",
                    headers={"Content-Disposition": 'inline; filename="testimone-deadlines.ics"'})


def _json_body(name: str, schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


CASE = {"$ref": "#/components/schemas/Case"}
PLACEMENT_ID = {"name": "placement_id", "in": "path", "required": True,
                "schema": {"type": "string", "maxLength": 64}}
PLACEMENT = {"type": "object", "required": ["id", "channel", "published_at", "removed_at"],
             "properties": {"id": {"type": "string"}, "channel": {"enum": cases.CHANNELS},
                            "url": {"type": ["string", "null"]}, "description": {"type": ["string", "null"]},
                            "published_at": {"type": "string"}, "removed_at": {"type": ["string", "null"]}}}

OPENAPI_PATHS = {
    "/api/captures/{case_id}/consent": {"post": {
        "summary": "Record the author's answer to the consent request (per purpose; earlier answers are kept)",
        "parameters": [CASE_ID], "requestBody": _json_body("Consent", CONSENT_SCHEMA),
        "responses": {"201": json_response("The case with its consent log", CASE),
                      **error_responses(400, 401, 403, 404, 409, 413)}}},
    "/api/captures/{case_id}/placements": {"post": {
        "summary": "Record where the testimonial is published (refused without consent for that channel)",
        "parameters": [CASE_ID], "requestBody": _json_body("Placement", PLACEMENT_SCHEMA),
        "responses": {"201": json_response("The placement", {
            "type": "object", "required": ["id", "placement", "status"],
            "properties": {"id": {"type": "string"}, "placement": PLACEMENT, "status": {"type": "string"}}}),
            **error_responses(400, 401, 403, 404, 409, 413)}}},
    "/api/captures/{case_id}/placements/{placement_id}": {"patch": {
        "summary": "Mark a placement removed (after a withdrawal, the last one makes the case taken_down)",
        "parameters": [CASE_ID, PLACEMENT_ID], "requestBody": _json_body("Removal", PLACEMENT_PATCH_SCHEMA),
        "responses": {"200": json_response("The case", CASE), **error_responses(400, 401, 403, 404, 409, 413)}}},
    "/api/captures/{case_id}/revocation": {"post": {
        "summary": "The author withdrew consent: erase the personal content now, list placements to take down",
        "parameters": [CASE_ID], "requestBody": _json_body("Withdrawal", REVOCATION_SCHEMA),
        "responses": {"200": json_response("What was erased and what is still published", {
            "type": "object", "required": ["id", "status", "erased", "to_take_down"],
            "properties": {"id": {"type": "string"}, "status": {"type": "string"},
                           "erased": {"type": "object", "additionalProperties": {"type": "string"}},
                           "to_take_down": {"type": "array", "items": PLACEMENT}}}),
            **error_responses(400, 401, 403, 404, 409, 413)}}},
    "/api/captures/{case_id}/actions": {"post": {
        "summary": "Record an offence step; the status follows the latest step, deadlines are recomputed",
        "parameters": [CASE_ID], "requestBody": _json_body("Step", ACTION_SCHEMA),
        "responses": {"201": json_response("The case", CASE), **error_responses(400, 401, 403, 404, 409, 413)}}},
    "/api/captures/{case_id}": {"patch": {
        "summary": "Change the date of knowledge (with a reason; deadlines recomputed) or the risk signals",
        "parameters": [CASE_ID], "requestBody": _json_body("Change", CASE_PATCH_SCHEMA),
        "responses": {"200": json_response("The case", CASE), **error_responses(400, 401, 403, 404, 409, 413)}}},
    "/api/authors": {"get": {
        "summary": "Every case of one author profile, and the risk signals ticked across them",
        "parameters": [{"name": "profile_url", "in": "query", "required": True,
                        "schema": {"type": "string", "maxLength": 4096}}],
        "responses": {"200": json_response("The author", {
            "type": "object", "required": ["profile_url", "names", "cases", "signals"],
            "properties": {"profile_url": {"type": "string"}, "names": {"type": "array"},
                           "cases": {"type": "array", "items": {"$ref": "#/components/schemas/CaseSummary"}},
                           "signals": {"type": "object"}}}),
            **error_responses(400, 401, 403)}}},
    "/api/deadlines.ics": {"get": {
        "summary": "Every open deadline as an iCalendar feed (the token may be passed as ?token=)",
        "parameters": [{"name": "token", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "The pairing token, for calendar clients that cannot send headers"},
                       {"name": "lang", "in": "query", "required": False, "schema": {"enum": ["it", "en"]}}],
        "responses": {"200": {"description": "iCalendar (RFC 5545)",
                              "content": {"text/calendar": {"schema": {"type": "string"}}}},
                      **error_responses(400, 401, 403)}}},
}
