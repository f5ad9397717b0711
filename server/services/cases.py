"""Cases: capture, read, list, and every step of their life (consent, placements, withdrawal, offence
steps, the date of knowledge, signals, authors).

Each step validates what the owner entered (schemas checked here, rules in server/domain/cases.py),
runs the rule inside store.update (one serialised, journaled write with its history event) and returns
plain data. The API and the dashboard's forms call these same functions.
"""
import secrets
from datetime import date

from jsonschema import Draft202012Validator

from ..domain import cases, kinds, schemas
from ..domain.errors import Invalid, NotFound
from ..domain.integrity import sha256_hex
from ..domain.schemas import BASE64, DATE, OPTIONAL_URL, check_date, check_url, decode_file, text, validate
from ..domain.vocabulary import ACTION_TYPES, ATTRIBUTIONS, CHANNELS, PURPOSES, RECEIVED_VIA, SIGNALS
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
    "signals": {"type": "array", "items": {"enum": SIGNALS}, "uniqueItems": True}}, minProperties=1)

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
        raise NotFound("id", f"No case with id '{case_id}'.")
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


def all_records(store) -> list[dict]:
    records, cursor = [], None
    while True:
        page, cursor = store.list(limit=200, cursor=cursor)
        records += page
        if cursor is None:
            return records


def author(store, profile_url: str) -> dict:
    """Every case of one author profile, and the risk signals ticked across them."""
    check_url(profile_url, "profile_url")
    view = cases.author_view(profile_url, all_records(store))
    for record in view["cases"]:
        cases.refresh_deadlines(record, today())
    return view


# -- capture ----------------------------------------------------------------------------------------

def capture(store, body: dict, after_capture=()) -> dict:
    """Validate a capture and store it durably; then hand it to the background work (`after_capture`)."""
    fields, files = schemas.capture_from_body(body)
    kind = kinds.KINDS[fields["kind"]]
    state = {"status": kind.statuses[0], **kind.start(fields, today())}
    record = store.create_capture(fields, files, **state)
    for hook in after_capture:
        record = hook(record) or record
    return record


# -- steps --------------------------------------------------------------------------------------------

def _decode_evidence(obj: dict | None, field: str) -> tuple[bytes, str] | None:
    return (decode_file(obj, field), obj["media_type"]) if obj else None


def _store_evidence(store, case_id: str, prefix: str, decoded: tuple[bytes, str] | None) -> dict | None:
    if decoded is None:
        return None
    data, media_type = decoded
    name = f"{prefix}-{secrets.token_hex(4)}.{EVIDENCE_TYPES[media_type]}"
    entry = store.add_evidence(case_id, name, data, media_type)
    return {"name": entry["name"], "sha256": entry["sha256"]}


def _now() -> str:
    return iso_utc(utc_now())


def _dry_run(store, case_id: str, step) -> dict:
    """Run a step on a copy first: a refused step must not leave an evidence file behind."""
    record = load(store, case_id)
    step(record)
    return record


def record_consent(store, case_id: str, body: dict) -> dict:
    validate(VALIDATORS["consent"], body)
    check_date(body["received_at"], "received_at", not_future=True)
    decoded = _decode_evidence(body.get("evidence"), "evidence")
    now = _now()
    _dry_run(store, case_id, lambda record: cases.record_consent(record, body, None, now))
    evidence = _store_evidence(store, case_id, "consent", decoded)
    return store.update(case_id, lambda record: cases.record_consent(record, body, evidence, now),
                        "consent.answered", decision=body["decision"],
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
    _dry_run(store, case_id, lambda record: cases.remove_placement(record, placement_id, body["removed_at"], None))
    evidence = _store_evidence(store, case_id, f"removal-{placement_id}", decoded)
    return store.update(
        case_id, lambda record: cases.remove_placement(record, placement_id, body["removed_at"], evidence),
        "placement.removed", placement=placement_id, removed_at=body["removed_at"],
        evidence=evidence and evidence["sha256"])


def withdraw(store, case_id: str, body: dict) -> dict:
    validate(VALIDATORS["revocation"], body)
    check_date(body["received_at"], "received_at", not_future=True)
    now = _now()
    current = load(store, case_id)
    files = cases.personal_files(current)
    cases.withdraw(current, body, now)  # dry run: store.erase deletes the files before it applies the change
    record = store.erase(case_id, list(files), lambda record: cases.withdraw(record, body, now),
                         "consent.withdrawn", received_at=body["received_at"],
                         received_via=body["received_via"], erased=files)
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
    """A new date of knowledge (with the reason) and/or the risk signals."""
    validate(VALIDATORS["case_patch"], body)
    if "known_since" in body and "reason" not in body:
        raise Invalid("reason", "'reason' is required when 'known_since' changes.")
    if "reason" in body and "known_since" not in body:
        raise Invalid("reason", "'reason' goes with a new 'known_since'.")
    check_date(body.get("known_since"), "known_since", not_future=True)
    day, now = today(), _now()

    def step(record):
        if "known_since" in body:
            cases.change_known_since(record, body["known_since"], body["reason"], day, now)
        if "signals" in body:
            cases.set_signals(record, body["signals"])

    before = load(store, case_id)
    details = {"signals": body["signals"]} if "signals" in body else {}
    if "known_since" in body:  # the reason is the owner's own words: in the record; its hash in the audit log
        details.update({"known_since_from": before.get("known_since"), "known_since_to": body["known_since"],
                        "reason_sha256": sha256_hex(body["reason"].encode())})
    return store.update(case_id, step, "case.updated", **details)
