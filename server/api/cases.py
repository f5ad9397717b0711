"""Case workflows: consent, placements, withdrawal, offence steps, signals, authors, the deadlines feed.

Each route parses the request, calls server/services/ and formats the answer.
"""
from flask import jsonify, request, send_file

from ..domain import cases as case_rules, kinds, legal
from ..domain.errors import Invalid
from ..domain.schemas import parse_json_body
from ..domain.vocabulary import CHANNELS, LANGUAGES
from ..services import cases, deadlines
from ..services.cases import (ACTION_SCHEMA, CASE_PATCH_SCHEMA, CONSENT_SCHEMA, PLACEMENT_PATCH_SCHEMA,
                              PLACEMENT_SCHEMA, REVOCATION_SCHEMA)
from ..store import get_store
from . import bp, only_parameters, query_token_allowed, whole_number
from .captures import CASE_ID, links, summary
from .openapi import error_responses, json_response


def case_answer(record: dict) -> dict:
    """The case as a step answers it: with its links and, for an offence, its deadlines and the advice."""
    record["links"] = links(record["id"])
    case_rules.refresh_deadlines(record, cases.today())
    if kinds.of(record).advice:
        record["advice"] = legal.ADVICE[record.get("language") or "it"]
    return record


def _json() -> dict:
    return parse_json_body(request.get_data(cache=False))


@bp.post("/captures/<case_id>/consent")
def record_consent(case_id: str):
    return jsonify(case_answer(cases.record_consent(get_store(), case_id, _json()))), 201


@bp.post("/captures/<case_id>/placements")
def add_placement(case_id: str):
    return (jsonify(cases.add_placement(get_store(), case_id, _json())), 201,
            {"Location": f"/api/captures/{case_id}"})


@bp.patch("/captures/<case_id>/placements/<placement_id>")
def remove_placement(case_id: str, placement_id: str):
    return jsonify(case_answer(cases.remove_placement(get_store(), case_id, placement_id, _json())))


@bp.post("/captures/<case_id>/revocation")
def revoke_consent(case_id: str):
    return jsonify(cases.withdraw(get_store(), case_id, _json()))


@bp.post("/captures/<case_id>/actions")
def record_action(case_id: str):
    return jsonify(case_answer(cases.record_action(get_store(), case_id, _json()))), 201


@bp.patch("/captures/<case_id>")
def patch_case(case_id: str):
    return jsonify(case_answer(cases.update_case(get_store(), case_id, _json())))


@bp.get("/authors")
def author():
    only_parameters("profile_url")
    profile_url = request.args.get("profile_url")
    if not profile_url:
        raise Invalid("profile_url", "field.required")
    view = cases.author(get_store(), profile_url)
    view["cases"] = [summary(record) for record in view["cases"]]
    return jsonify(view)


@bp.get("/deadlines")
def deadlines_due():
    """Open deadlines due within `within` days (the extension's badge): a few, not the whole feed."""
    only_parameters("within")
    within = whole_number("within", 14, deadlines.FEED_DAYS)
    due = deadlines.due_within(get_store(), within)
    return jsonify({"within_days": within, "count": len(due),
                    "deadlines": [{"case_id": record["id"], "kind": deadline["kind"], "due": deadline["due"]}
                                  for record, deadline in due[:100]]})


@bp.get("/deadlines.ics")
@query_token_allowed
def deadlines_ics():
    only_parameters("token", "lang")
    feed, etag = deadlines.kept_feed(get_store(), request.args.get("lang", "it"), request.host_url.rstrip("/"))
    # Sent from its file (the server does not copy megabytes per poll); a client that sends If-None-Match
    # gets 304 while the feed is unchanged.
    return send_file(feed, mimetype="text/calendar", etag=etag, download_name="testimone-deadlines.ics",
                     max_age=None)


def _json_body(name: str, schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


CASE = {"$ref": "#/components/schemas/Case"}
PLACEMENT_ID = {"name": "placement_id", "in": "path", "required": True,
                "schema": {"type": "string", "maxLength": 64}}
PLACEMENT = {"type": "object", "required": ["id", "channel", "published_at", "removed_at"],
             "properties": {"id": {"type": "string"}, "channel": {"enum": CHANNELS},
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
    "/api/deadlines": {"get": {
        "summary": "How many open deadlines fall due within `within` days (today included), and the first 100",
        "parameters": [{"name": "within", "in": "query", "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": deadlines.FEED_DAYS, "default": 14}}],
        "responses": {"200": json_response("Deadlines due soon", {
            "type": "object", "required": ["within_days", "count", "deadlines"],
            "properties": {"within_days": {"type": "integer"}, "count": {"type": "integer"},
                           "deadlines": {"type": "array", "maxItems": 100, "items": {
                               "type": "object", "required": ["case_id", "kind", "due"],
                               "properties": {"case_id": {"type": "string"}, "kind": {"type": "string"},
                                              "due": {"type": "string", "format": "date"}}}}}}),
            **error_responses(400, 401, 403)}}},
    "/api/deadlines.ics": {"get": {
        "summary": "Every open deadline as an iCalendar feed (the token may be passed as ?token=)",
        "parameters": [{"name": "token", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "The pairing token, for calendar clients that cannot send headers"},
                       {"name": "lang", "in": "query", "required": False, "schema": {"enum": list(LANGUAGES)}}],
        "responses": {"200": {"description": "iCalendar (RFC 5545)",
                              "content": {"text/calendar": {"schema": {"type": "string"}}}},
                      **error_responses(400, 401, 403)}}},
}
