"""Cases: capture, read, list, and every step of their life (consent, placements, withdrawal, offence
steps, the date of knowledge, signals, authors).

Each step validates what the owner entered (schemas checked here, rules in server/domain/cases.py),
runs the rule inside store.update (one serialised, journaled write with its history event) and returns
plain data. The API and the dashboard's forms call these same functions.
"""
import copy
import secrets
from datetime import date

from jsonschema import Draft202012Validator

from ..domain import cases, kinds, schemas
from ..domain.errors import Invalid, NotFound
from ..domain.integrity import sha256_hex
from ..domain.schemas import BASE64, DATE, OPTIONAL_URL, check_date, check_url, decode_file, text, validate
from ..domain.vocabulary import (ACTION_TYPES, ATTRIBUTIONS, CHANNELS, LANGUAGES, PURPOSES, RECEIVED_VIA, SIGNALS,
                                 TARGETS)
from ..render import pdf
from ..store import iso_utc, utc_now

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
    "attribution": {"enum": ATTRIBUTIONS},
    "received_via": {"enum": RECEIVED_VIA},
    "received_at": DATE,
    "evidence": EVIDENCE,
})
PLACEMENT_SCHEMA = _object(["channel", "published_at"], {
    "channel": {"enum": CHANNELS}, "url": OPTIONAL_URL, "description": text(1000), "published_at": DATE})
PLACEMENT_PATCH_SCHEMA = _object(["removed_at"], {"removed_at": DATE, "evidence": EVIDENCE})
REVOCATION_SCHEMA = _object(["received_at", "received_via"], {
    "received_at": DATE, "received_via": {"enum": RECEIVED_VIA}})
ACTION_SCHEMA = _object(["type", "date"], {
    "type": {"enum": ACTION_TYPES}, "date": DATE, "reference": text(500), "notes": text(5000),
    "due": {"anyOf": [DATE, {"type": "null"}],
            "description": "removal_demand_sent only: the compliance date written in the demand"}})
CASE_PATCH_SCHEMA = _object([], {
    "known_since": DATE, "reason": {"type": "string", "minLength": 1, "maxLength": 1000},
    "signals": {"type": "array", "items": {"enum": SIGNALS}, "uniqueItems": True},
    "target": {"enum": TARGETS, "description": "who the content targets: the business, a named person, both"},
    "target_person": {"type": ["string", "null"], "maxLength": 200, "description": "the person, when targeted"},
    "false_statements": {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 1000},
                         "description": "passages of the content the user says are false statements of fact"},
    "recipient_language": {"enum": list(LANGUAGES), "description": "the language of the case's documents"}},
    minProperties=1)

VALIDATORS = {name: Draft202012Validator(schema) for name, schema in {
    "consent": CONSENT_SCHEMA, "placement": PLACEMENT_SCHEMA, "placement_patch": PLACEMENT_PATCH_SCHEMA,
    "revocation": REVOCATION_SCHEMA, "action": ACTION_SCHEMA, "case_patch": CASE_PATCH_SCHEMA}.items()}


def today() -> date:
    return schemas.today_in_italy()  # through the module: tests pin it there


# -- reading ----------------------------------------------------------------------------------------

def load(store, case_id: str) -> dict:
    """The case's record, or NotFound."""
    record = store.get(case_id)
    if record is None:
        raise NotFound("id", "case.unknown", id=case_id)
    return record


def get(store, case_id: str) -> dict:
    """The case with its deadlines as of today (an open deadline turns missed with time alone)."""
    return cases.refresh_deadlines(load(store, case_id), today())


def list_cases(store, **filters) -> tuple[list[dict], str | None]:
    """A page of cases, newest first (filters: kind, status, platform, q, limit, cursor; permalink and
    text_sha256 find earlier captures of the same comment)."""
    records, next_cursor = store.list(**filters)
    for record in records:
        cases.refresh_deadlines(record, today())
    return records, next_cursor


def author(store, profile_url: str) -> dict:
    """Every case of one author profile, and the risk signals ticked across them."""
    check_url(profile_url, "profile_url")
    view = cases.author_view(profile_url, store.by_author(profile_url))
    for record in view["cases"]:
        cases.refresh_deadlines(record, today())
    return view


# -- capture ----------------------------------------------------------------------------------------

def initial_state(fields: dict) -> dict:
    """The fields of a new case that change over its life (also for a case the store rebuilds).
    `background` stays "queued" until the background worker has done its work on the case (timestamp,
    clock, witness): kept in the record, the queue survives a restart."""
    kind = kinds.KINDS[fields["kind"]]
    return {"status": kind.statuses[0], **kind.start(fields, today()), "background": "queued"}


def capture(store, body: dict, after_capture=(), **delivery) -> dict:
    """Validate a capture and store it durably; then hand it to the background work (`after_capture`).
    `delivery` (the Idempotency-Key's hash) goes into the canonical record, so that a record rebuilt
    from capture.json still answers a retry with its case."""
    fields, files = schemas.capture_from_body(body)
    fields.update(delivery)
    state = initial_state(fields)
    operator = (store.get_setting("profile") or {}).get("capture_operator")
    if operator:  # named only when the user said who captures (a setting; later the logged-in operator)
        state["captured_by"] = operator
    record = store.create_capture(fields, files, **state)
    for hook in after_capture:
        record = hook(record) or record
    return record


# -- steps --------------------------------------------------------------------------------------------

def _decode_evidence(obj: dict | None, field: str) -> tuple[bytes, str] | None:
    return (decode_file(obj, field), obj["media_type"]) if obj else None


def _evidence_file(prefix: str, decoded: tuple[bytes, str] | None) -> tuple[list, dict | None]:
    """The file to attach to the step's write, and the {name, sha256} the record cites (or none)."""
    if decoded is None:
        return [], None
    data, media_type = decoded
    name = f"{prefix}-{secrets.token_hex(4)}.{EVIDENCE_TYPES[media_type]}"
    return [(name, data, media_type)], {"name": name, "sha256": sha256_hex(data)}


def _now() -> str:
    return iso_utc(utc_now())


def record_consent(store, case_id: str, body: dict) -> dict:
    validate(VALIDATORS["consent"], body)
    check_date(body["received_at"], "received_at", not_future=True)
    decoded = _decode_evidence(body.get("evidence"), "evidence")
    now = _now()
    load(store, case_id)  # NotFound first; a refused step writes nothing: store.update checks before it writes
    attach, evidence = _evidence_file("consent", decoded)
    return store.update(case_id, lambda record: cases.record_consent(record, body, evidence, now),
                        "consent.answered", attach=attach, decision=body["decision"],
                        granted=[p for p in PURPOSES if body["purposes"][p]], photo=body["photo"],
                        received_via=body["received_via"], received_at=body["received_at"],
                        evidence=evidence and evidence["sha256"])


def add_placement(store, case_id: str, body: dict) -> dict:
    validate(VALIDATORS["placement"], body)
    check_url(body.get("url"), "url")
    check_date(body["published_at"], "published_at", not_future=True)
    now = _now()
    load(store, case_id)
    added = {}

    def step(record):
        added.update(cases.add_placement(record, body, now))

    record = store.update(case_id, step, "placement.added", channel=body["channel"],
                          published_at=body["published_at"])
    return {"id": added["id"], "placement": added, "status": record["status"]}


def remove_placement(store, case_id: str, placement_id: str, body: dict) -> dict:
    validate(VALIDATORS["placement_patch"], body)
    check_date(body["removed_at"], "removed_at", not_future=True)
    decoded = _decode_evidence(body.get("evidence"), "evidence")
    load(store, case_id)
    attach, evidence = _evidence_file(f"removal-{placement_id}", decoded)
    return store.update(
        case_id, lambda record: cases.remove_placement(record, placement_id, body["removed_at"], evidence),
        "placement.removed", attach=attach, placement=placement_id, removed_at=body["removed_at"],
        evidence=evidence and evidence["sha256"])


def withdraw(store, case_id: str, body: dict) -> dict:
    validate(VALIDATORS["revocation"], body)
    check_date(body["received_at"], "received_at", not_future=True)
    now = _now()
    load(store, case_id)
    # What to erase is decided under the store lock: a consent reply stored a moment earlier is erased too.
    record = store.erase(case_id, lambda record: cases.withdraw(record, body, now)["erasure"]["erased"],
                         "consent.withdrawn", received_at=body["received_at"], received_via=body["received_via"])
    pdf.forget(case_id)  # the cached PDFs print the erased text
    return {"id": case_id, "status": record["status"], "erased": record["erasure"]["erased"],
            "to_take_down": cases.active_placements(record)}


def record_action(store, case_id: str, body: dict) -> dict:
    validate(VALIDATORS["action"], body)
    check_date(body["date"], "date", not_future=True)
    check_date(body.get("due"), "due")
    day, now = today(), _now()
    load(store, case_id)
    return store.update(case_id, lambda record: cases.record_action(record, body, day, now),
                        "action.recorded", type=body["type"], date=body["date"])


def update_case(store, case_id: str, body: dict) -> dict:
    """A new date of knowledge (with the reason), the risk signals, who is targeted, the statements the user
    marks as false facts, the documents' language."""
    validate(VALIDATORS["case_patch"], body)
    if "known_since" in body and "reason" not in body:
        raise Invalid("reason", "reason.required")
    if "reason" in body and "known_since" not in body:
        raise Invalid("reason", "reason.alone")
    check_date(body.get("known_since"), "known_since", not_future=True)
    day, now = today(), _now()

    def step(record):
        if "known_since" in body:
            cases.change_known_since(record, body["known_since"], body["reason"], day, now)
        if "signals" in body:
            cases.set_signals(record, body["signals"])
        cases.set_document_fields(record, body)

    before = load(store, case_id)
    step(copy.deepcopy(before))  # refusals before anything is written
    details = {"signals": body["signals"]} if "signals" in body else {}
    # Ids and counts only: names and quotes are the owner's words, kept in the record.
    details.update({k: body[k] for k in ("target", "recipient_language") if k in body})
    if "false_statements" in body:
        details["false_statements"] = len(body["false_statements"])
    if "known_since" in body:  # the reason is the owner's own words: in the record; its hash in the audit log
        details.update({"known_since_from": before.get("known_since"), "known_since_to": body["known_since"],
                        "reason_sha256": sha256_hex(body["reason"].encode())})
    return store.update(case_id, step, "case.updated", **details)
