"""Evidence: the bundle of a case, verification of the whole data directory, the second-witness recheck."""
from flask import Response, current_app, jsonify, request

from ..render import bundle
from ..services import evidence
from ..store import get_store
from ..trust.witness import OUTCOMES
from . import bp, only_parameters
from .captures import CASE_ID
from .openapi import error_responses, json_response


@bp.get("/captures/<case_id>/bundle.zip")
def case_bundle(case_id: str):
    files = evidence.bundle(get_store(), case_id, tsa_url=current_app.config.get("TSA_URL") or "")
    return Response(bundle.to_zip(files, case_id), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="testimone-{case_id}.zip"'})


@bp.get("/verify")
def verify_all():
    only_parameters("case", "mode", "since")
    return jsonify(evidence.verify(get_store(), request.args.get("case"), request.args.get("mode", "incremental"),
                                   request.args.get("since")))


@bp.post("/captures/<case_id>/recheck")
def recheck(case_id: str):
    """Fetch the case's own stored permalink again (never a URL from the request)."""
    return jsonify(evidence.recheck(get_store(), case_id, current_app.config))


TEXT = {"type": "string"}
WITNESS_SUMMARY = {
    "type": "object",
    "required": ["at", "reason", "outcome", "status", "addresses", "text_present", "file", "sha256", "message"],
    "properties": {
        "at": TEXT, "reason": {"enum": ["capture", "recheck"]},
        "outcome": {"enum": list(OUTCOMES)},
        "status": {"type": ["integer", "null"]}, "addresses": {"type": "array", "items": TEXT},
        "text_present": {"type": ["boolean", "null"]}, "body_sha256": {"type": ["string", "null"]},
        "tls_verified": {"type": ["boolean", "null"]}, "file": TEXT, "sha256": TEXT,
        "message": {"type": "object", "required": ["it", "en"], "properties": {"it": TEXT, "en": TEXT}},
    },
}
VERIFY_REPORT = {
    "type": "object", "required": ["ok", "checked", "problems", "cases"],
    "properties": {
        "ok": {"type": "boolean"},
        "checked": {"type": "object", "required": ["cases", "files", "audit_lines"],
                    "properties": {name: {"type": "integer", "minimum": 0}
                                   for name in ("cases", "files", "audit_lines")}},
        "mode": {"enum": ["incremental", "full"]},
        "since": {"type": ["string", "null"], "format": "date"},
        "hashed": {"type": "object", "description": "What this run hashed or walked (the rest was unchanged)",
                   "properties": {name: {"type": "integer", "minimum": 0} for name in ("files", "audit_lines")}},
        "unchanged": {"type": "object", "description": "Incremental: cases and files whose size and mtime are "
                      "those they had when they last verified, not hashed again; since: the oldest such check",
                      "properties": {"cases": {"type": "integer", "minimum": 0},
                                     "files": {"type": "integer", "minimum": 0},
                                     "since": {"type": ["string", "null"]}}},
        "last_full": {"type": ["string", "null"], "description": "When the last full verify ran"},
        "problems": {"type": "array", "items": TEXT},
        "notes": {"type": "array", "items": TEXT, "description": "Not failures: audit lines after the last anchor"},
        "cases": {"type": "object", "additionalProperties": {"type": "array", "items": TEXT}},
    },
}

OPENAPI_PATHS = {
    "/api/captures/{case_id}/bundle.zip": {"get": {
        "summary": "Evidence bundle: files as stored, capture.json, signed PDF, audit events, manifest, "
                   "SHA256SUMS, VERIFY.txt, verify.py",
        "parameters": [CASE_ID],
        "responses": {"200": {"description": "The bundle (zip)",
                              "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                      **error_responses(401, 403, 404, 503)}}},
    "/api/verify": {"get": {
        "summary": "Recompute the stored hashes, walk the audit chain, check timestamps",
        "parameters": [{"name": "case", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "Only this case, hashed in full"},
                       {"name": "mode", "in": "query", "required": False,
                        "schema": {"enum": ["incremental", "full"], "default": "incremental"},
                        "description": "incremental: hash only files whose size or mtime changed since they last "
                                       "verified, walk the audit chain from its last verified line (a quick "
                                       "check); full: hash everything, walk the whole chain (the proof)"},
                       {"name": "since", "in": "query", "required": False,
                        "schema": {"type": "string", "format": "date"},
                        "description": "Only cases captured or changed on or after this date, hashed in full"}],
        "responses": {"200": json_response("The report; ok is false when anything fails", VERIFY_REPORT),
                      **error_responses(400, 401, 403, 404)}}},
    "/api/captures/{case_id}/recheck": {"post": {
        "summary": "Second witness: fetch the case's stored permalink again; is the comment still there?",
        "parameters": [CASE_ID],
        "responses": {"200": json_response("What the server saw (stored as evidence witness-N.json)",
                                           WITNESS_SUMMARY),
                      **error_responses(401, 403, 404)}}},
}
