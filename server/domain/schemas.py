"""What a valid request looks like: JSON Schemas (also published in the OpenAPI document) and the
checks a schema cannot express (base64, bytes matching their media type, dates, URL schemes).

Every failure raises Invalid naming the offending field as a dotted path.
"""
import binascii
import json
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pybase64
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .errors import Invalid
from .vocabulary import KINDS, LANGUAGES, OFFENCE_CATEGORIES, PLATFORMS, PURPOSES, platform_of

MAX_TEXT = 20_000
LEGAL_TIME_ZONE = ZoneInfo("Europe/Rome")
# Bounds for dates sent by pages and browsers, a day inside the years so that any offset stays in range.
EARLIEST_DAY = date(1970, 1, 2)
LATEST_DAY = date(2100, 12, 30)
CLIENT_TIMES = ("captured_at_client", "screenshot_at_client", "sent_at_client")
MAX_DEPTH = 32  # the deepest valid body nests 4 levels

SCREENSHOT_TYPES = ["image/png", "image/jpeg", "image/webp"]
SNAPSHOT_TYPES = ["multipart/related", "text/html"]


def text(max_length: int) -> dict:
    return {"type": ["string", "null"], "maxLength": max_length}


URL = {"type": "string", "maxLength": 4096, "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+[^\s]*$",
       "description": "an absolute http(s) URL"}
OPTIONAL_URL = {"anyOf": [URL, {"type": "null"}]}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "YYYY-MM-DD"}
BASE64 = {"type": "string", "minLength": 1, "description": "standard base64"}

CAPTURE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "page_url", "text"],
    "properties": {
        "kind": {"enum": KINDS},
        "page_url": URL,
        "permalink": OPTIONAL_URL,
        "platform": {"enum": PLATFORMS + [None]},
        "author": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {"name": text(300), "profile_url": OPTIONAL_URL,
                           "badge": text(100), "entered_by_user": {"type": ["boolean", "null"]}},
        },
        "text": {"type": "string", "maxLength": MAX_TEXT},
        "title": text(1000),
        "rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        "posted_at": {"type": ["string", "null"], "maxLength": 64, "description": "ISO 8601 date-time"},
        "posted_at_text": text(200),
        "visit_date_text": text(200),
        "post": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {"author": text(300), "url": OPTIONAL_URL, "text": text(MAX_TEXT)},
        },
        "machine_translated": {"type": ["boolean", "null"]},
        "truncated": {"type": ["boolean", "null"], "description": "the site still hid part of the text"},
        "owner_response": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {"text": text(MAX_TEXT), "posted_at_text": text(200)},
        },
        "comment_html": text(2_000_000),
        "screenshot": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["media_type", "data"],
            "properties": {
                "media_type": {"enum": SCREENSHOT_TYPES},
                "data": BASE64,
                "rect": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "required": ["x", "y", "width", "height"],
                    "properties": {name: {"type": "number", "minimum": -1e6, "maximum": 1e6}
                                   for name in ("x", "y", "width", "height")},
                },
            },
        },
        "page_snapshot": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["media_type", "data"],
            "properties": {"media_type": {"enum": SNAPSHOT_TYPES}, "data": BASE64},
        },
        "context": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "captured_at_client": text(64),
                # The browser's clock when it took the screenshot, and when it sent this request (a
                # capture from the offline queue is sent later: the clock check compares at delivery).
                "screenshot_at_client": text(64),
                "sent_at_client": text(64),
                "queued": {"type": ["boolean", "null"], "description": "delivered from the offline queue"},
                "timezone": text(64),
                "user_agent": text(1000),
                "extension_version": text(32),
                "server_ip": text(64),
                "language": {"enum": [*LANGUAGES, None]},
            },
        },
        "testimonial": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "purposes": {"type": "array", "items": {"enum": PURPOSES}, "uniqueItems": True},
                "photo": {"type": "boolean"},
            },
        },
        "offence": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["category"],
            "properties": {
                "category": {"enum": OFFENCE_CATEGORIES},
                "known_since": {"anyOf": [DATE, {"type": "null"}]},
                "notes": text(5000),
            },
        },
    },
}

_capture_validator = Draft202012Validator(CAPTURE_SCHEMA)


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_json_body(raw: bytes) -> dict:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise Invalid("body", "body.not_json", code="malformed_json", detail=str(error)) from None
    except RecursionError:
        body = None  # nested deeper than the parser can go: refused just below
    if body is None or _depth(body) > MAX_DEPTH:
        raise Invalid("body", "body.too_deep", code="too_deep", depth=MAX_DEPTH)
    if not isinstance(body, dict):
        raise Invalid("body", "body.not_object", code="malformed_json")
    _check_encodable(body, "")
    return body


def _depth(value) -> int:
    """How deeply objects and arrays nest (iterative: a hostile body must not exhaust the stack)."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                break
            pending.extend((child, level) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _check_encodable(value, path: str) -> None:
    """Lone surrogates (\\ud800) parse as JSON but cannot be stored as UTF-8."""
    if isinstance(value, str):
        if value.isascii():  # O(1) in CPython: spares the megabytes of base64
            return
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid(path or "body", "text.invalid_character", code="invalid_text") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_encodable(key, path or "body")
            _check_encodable(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_encodable(item, f"{path}.{index}")


def field_of(error) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        path.append(missing[0])
    elif error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {})
        path.append(next(name for name in error.instance if name not in allowed))
    return ".".join(path) or "body"


PATTERNS = {URL["pattern"]: "field.url", DATE["pattern"]: "field.date_format"}  # else "field.format"
LIMITS = {"maxLength": "field.too_long", "minLength": "field.too_short", "minimum": "field.minimum",
          "maximum": "field.maximum"}


def choices(values) -> str:
    return ", ".join("null" if value is None else str(value) for value in values)


def message_of(error) -> tuple[str, dict]:
    """A schema failure as our own message (key and values), in every language: jsonschema's texts are English."""
    rule, value = error.validator, error.validator_value
    if rule == "required":
        return "field.required", {}
    if rule == "additionalProperties":
        return "field.unknown", {}
    if rule == "pattern":
        return PATTERNS.get(value, "field.format"), {}
    if rule in LIMITS:
        return LIMITS[rule], {"limit": value}
    if rule == "enum":
        return "field.choice", {"allowed": choices(value)}
    if rule == "type":
        return "field.type", {"types": choices([value] if isinstance(value, str) else value)}
    if rule == "uniqueItems":
        return "field.unique", {}
    return "field.invalid", {}


def validate(validator: Draft202012Validator, body: dict) -> None:
    error = best_match(validator.iter_errors(body), key=lambda e: -len(e.absolute_path))
    if error is None:
        return
    key, values = message_of(error)
    raise Invalid(field_of(error), key, **values)


def check_url(value: str | None, field: str) -> None:
    if value is None:
        return
    try:
        parts = urlsplit(value)
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. "http://:]" (an unbalanced IPv6 bracket)
        valid = False
    if not valid:
        raise Invalid(field, "field.url")


def decode_base64(data: str, field: str) -> bytes:
    try:  # pybase64: SIMD, 50x faster than the standard library on a 1 MB snapshot
        decoded = pybase64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(field, "field.base64", code="invalid_base64") from None
    if not decoded:
        raise Invalid(field, "field.empty", code="invalid_base64")
    return decoded


SIGNATURES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff", "application/pdf": b"%PDF-"}
TEXT_TYPES = ("text/html", "text/plain", "message/rfc822")


def _looks_like(media_type: str, data: bytes) -> bool:
    # A few signatures do not justify a dependency (docs/decisions/0002-dependencies.md).
    if media_type in SIGNATURES:
        return data.startswith(SIGNATURES[media_type])
    if media_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if media_type == "multipart/related":  # MHTML: MIME headers naming a multipart/related body
        headers = data[:16384].split(b"\r\n\r\n")[0].split(b"\n\n")[0].lower()
        return b"mime-version:" in headers and b"multipart/related" in headers
    if media_type in TEXT_TYPES:  # readable UTF-8 text
        try:
            return "\x00" not in data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return False


def decode_file(obj: dict, field: str) -> bytes:
    """The bytes of {"media_type", "data" (base64)}, or Invalid when they are not of that media type."""
    data = decode_base64(obj["data"], f"{field}.data")
    if not _looks_like(obj["media_type"], data):
        raise Invalid(f"{field}.media_type", "field.media_type", code="media_type_mismatch", data=f"{field}.data",
                      media_type=obj["media_type"])
    return data


def today_in_italy() -> date:
    return datetime.now(LEGAL_TIME_ZONE).date()


def check_date(value: str | None, field: str, not_future: bool = False) -> None:
    if value is None:
        return
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(field, "field.date") from None
    if not_future and day > today_in_italy():
        raise Invalid(field, "field.future", code="date_in_future")


def check_datetime(value: str | None, field: str) -> None:
    """An ISO 8601 date-time from 1970 to 2100: wide enough for any page date and any wrong browser
    clock, narrow enough that every document can convert it to UTC and print it."""
    if value is None:
        return
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(field, "field.datetime") from None
    if not EARLIEST_DAY <= moment.date() <= LATEST_DAY:
        raise Invalid(field, "field.between", earliest=EARLIEST_DAY, latest=LATEST_DAY)


def infer_platform(url: str) -> str:
    parts = urlsplit(url)
    return platform_of(parts.hostname or "", parts.path)


def capture_from_body(body: dict) -> tuple[dict, dict]:
    """Validate a POST /api/captures body; return (canonical fields, evidence files).

    Nothing is written here: a rejected request leaves no trace.
    """
    validate(_capture_validator, body)
    check_url(body["page_url"], "page_url")
    check_url(body.get("permalink"), "permalink")
    author = body.get("author") or {}
    check_url(author.get("profile_url"), "author.profile_url")
    post = body.get("post") or {}
    check_url(post.get("url"), "post.url")
    check_datetime(body.get("posted_at"), "posted_at")
    context = body.get("context") or {}
    for name in CLIENT_TIMES:
        check_datetime(context.get(name), f"context.{name}")
    from . import kinds  # kinds.py builds on this module's checks

    kind = body["kind"]
    for other in KINDS:
        if other != kind and body.get(other) is not None:
            raise Invalid(other, "field.other_kind", kind=kind)
    part = kinds.KINDS[kind].part(body.get(kind), today_in_italy())

    files = {}
    screenshot = body.get("screenshot")
    if screenshot:
        extension = screenshot["media_type"].split("/")[1].replace("jpeg", "jpg")
        files[f"screenshot.{extension}"] = (decode_file(screenshot, "screenshot"), screenshot["media_type"])
    snapshot = body.get("page_snapshot")
    if snapshot:
        name = "page.mhtml" if snapshot["media_type"] == "multipart/related" else "page.html"
        files[name] = (decode_file(snapshot, "page_snapshot"), snapshot["media_type"])
    if body.get("comment_html"):
        files["comment.html"] = (body["comment_html"].encode("utf-8"), "text/html")

    fields = {
        "kind": kind,
        "platform": body.get("platform") or infer_platform(body["page_url"]),
        "page_url": body["page_url"],
        "permalink": body.get("permalink"),
        "author": {"name": author.get("name"), "profile_url": author.get("profile_url"),
                   **({"badge": author["badge"]} if author.get("badge") else {}),
                   **({"entered_by_user": True} if author.get("entered_by_user") else {})},
        "text": body["text"],
        "title": body.get("title"),
        "rating": body.get("rating"),
        "posted_at": body.get("posted_at"),
        "posted_at_text": body.get("posted_at_text"),
        "visit_date_text": body.get("visit_date_text"),
        "post": ({"author": post.get("author"), "url": post.get("url"), "text": post.get("text")}
                 if post else None),
        "machine_translated": bool(body.get("machine_translated")),
        **({"truncated": True} if body.get("truncated") else {}),
        **({"owner_response": body["owner_response"]} if body.get("owner_response") else {}),
        "language": context.get("language") or "it",
        "context": {**{name: context.get(name) for name in
                       (*CLIENT_TIMES, "timezone", "user_agent", "extension_version", "server_ip", "language")},
                    "queued": bool(context.get("queued"))},
        "screenshot_rect": (screenshot or {}).get("rect"),
        kind: part,
    }
    return fields, files
