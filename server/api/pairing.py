"""Pairing: the extension proves it may use the API (a one-time code from the dashboard, or the pasted
token) and its origin becomes the only one served from then on (server/security.py)."""
from flask import current_app, jsonify, request

from .. import __version__, security
from ..errors import ApiError
from .openapi import error_responses, json_response
from ..domain.schemas import parse_json_body
from ..store import get_store
from . import PUBLIC_VIEWS, bp, say

PUBLIC_VIEWS.add(security.PAIRING_VIEW)  # it checks the code or the token itself


@bp.post("/pair")
def pair():
    origin = request.headers.get("Origin")
    if not security.is_extension_origin(origin):
        raise ApiError(400, "not_an_extension", say("pairing.not_extension"), "Origin")
    raw = request.get_data()
    code = parse_json_body(raw).get("code") if raw else None
    answer = {"paired": True, "origin": origin, "version": __version__}
    if code is not None:
        codes = current_app.extensions["testimone.pairing_codes"]
        if not isinstance(code, str) or not codes.redeem(code, origin):
            raise ApiError(403, "pairing_code_refused", say("pairing.code_refused"), "code")
        answer["token"] = current_app.config["TOKEN"]
    else:
        security.check_token(current_app.config["TOKEN"])
    security.record_pairing(get_store(), origin)
    return jsonify(answer)


OPENAPI_PATHS = {
    "/api/pair": {"post": {
        "summary": "Pair the calling browser extension: with a one-time code from the dashboard (the answer "
                   "carries the token) or with the pasted token (Authorization: Bearer)",
        "security": [],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"code": {"type": "string", "maxLength": 100}}}}}},
        "responses": {"200": json_response("Paired", {
            "type": "object", "required": ["paired", "origin", "version"],
            "properties": {"paired": {"const": True}, "origin": {"type": "string"}, "version": {"type": "string"},
                           "token": {"type": "string"}}}),
            **error_responses(400, 401, 403)}}},
}
