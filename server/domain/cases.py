"""The life of a case: consent, placements, withdrawal, offence steps, signals (pure functions, no I/O).

Each function takes a record dict (and what the owner entered, already schema-checked), changes the
record in place and returns it; a step the case's kind or state does not allow raises NotAllowed, a value
that contradicts itself Invalid. server/services/cases.py runs them inside store.update, so a refused
step writes nothing.
"""
from datetime import date

from . import kinds, legal
from .errors import Invalid, NotAllowed, NotFound
from .vocabulary import PURPOSES, SIGNALS

CLOSED = {"consent_withdrawn", "taken_down"}

# Evidence that holds the author's words or likeness; a withdrawal deletes all of it.
PERSONAL_FILE_PREFIXES = ("screenshot.", "page.", "comment.", "capture.json", "consent-", "witness-")
# What a record keeps after a withdrawal (docs/security.md, "Erasure after a withdrawal"): enough to prove
# that consent was asked, given and withdrawn, and that the withdrawal was honoured; nothing that names or
# quotes the author, no URL, no image. Every other field is blanked.
KEPT_AFTER_WITHDRAWAL = ("id", "kind", "platform", "language", "captured_at", "posted_at", "sha256", "testimonial",
                         "status", "consent", "placements", "evidence", "history", "erasure", "timestamp",
                         "background", "rebuilt", "witness")
WITNESS_KEPT = ("at", "reason", "outcome", "file", "sha256")


def require_kind(record: dict, kind: str) -> None:
    if record["kind"] != kind:
        raise NotAllowed("kind", "case.wrong_kind", code="wrong_kind", case=record["id"], kind=record["kind"],
                         wanted=kind)


# -- testimonials ---------------------------------------------------------------------------------

def consent(record: dict) -> dict:
    """The consent as it stands; before any answer, the purposes the request asked for are `requested`."""
    if "consent" in record:
        return record["consent"]
    asked = set(record.get("testimonial", {}).get("purposes", []))
    return {"purposes": {p: "requested" if p in asked else "not_requested" for p in PURPOSES},
            "photo": None, "attribution": None, "answers": [], "withdrawal": None}


def active_placements(record: dict) -> list[dict]:
    return [p for p in record.get("placements", []) if not p.get("removed_at")]


def _open_for_consent(record: dict) -> None:
    require_kind(record, "testimonial")
    if record["status"] in CLOSED:
        raise NotAllowed("status", "consent.withdrawn", code="consent_withdrawn")


def record_consent(record: dict, answer: dict, evidence: dict | None, now: str) -> dict:
    """Add the author's answer. Earlier answers stay in `consent.answers` (the log is append-only)."""
    _open_for_consent(record)
    granted = [p for p in PURPOSES if answer["purposes"][p]]
    if answer["decision"] == "denied" and (granted or answer["photo"]):
        raise Invalid("purposes", "consent.denied_grants")
    if answer["decision"] != "denied" and not granted:
        raise Invalid("purposes", "consent.grants_nothing", decision=answer["decision"])
    for placement in active_placements(record):
        channel = placement["channel"]
        if (channel in PURPOSES and channel not in granted) or (channel == "other" and len(granted) < len(PURPOSES)):
            raise NotAllowed(f"purposes.{channel}", "placement.still_published", code="placement_active",
                             placement=placement["id"], channel=channel)
    state = consent(record)
    state["purposes"] = {p: "granted" if answer["purposes"][p] else "denied" for p in PURPOSES}
    state["photo"] = answer["photo"]
    state["attribution"] = answer["attribution"]
    state["answers"].append({**{k: answer[k] for k in ("decision", "purposes", "photo", "attribution",
                                                      "received_via", "received_at")},
                             "evidence": evidence, "recorded_at": now})
    record["consent"] = state
    record["status"] = f"consent_{answer['decision']}"
    return record


def _covers(state: dict, channel: str) -> bool:
    # "other" (a flyer partner, a trade fair...) is covered by no single purpose: only a full consent.
    if channel == "other":
        return all(v == "granted" for v in state["purposes"].values())
    return state["purposes"][channel] == "granted"


def add_placement(record: dict, body: dict, now: str) -> dict:
    """Record where the testimonial is published; returns the new placement."""
    _open_for_consent(record)
    if not _covers(consent(record), body["channel"]):
        raise NotAllowed("channel", "placement.no_consent", code="consent_missing", channel=body["channel"])
    placements = record.setdefault("placements", [])
    placement = {"id": f"p{len(placements) + 1}", "channel": body["channel"], "url": body.get("url"),
                 "description": body.get("description"), "published_at": body["published_at"],
                 "removed_at": None, "removal_evidence": None, "recorded_at": now}
    placements.append(placement)
    return placement


def find_placement(record: dict, placement_id: str) -> dict:
    for placement in record.get("placements", []):
        if placement["id"] == placement_id:
            return placement
    raise NotFound("placement_id", "placement.unknown", case=record["id"], placement=placement_id)


def remove_placement(record: dict, placement_id: str, removed_at: str, evidence: dict | None) -> dict:
    """Mark a placement taken down; after a withdrawal, the last one makes the case `taken_down`."""
    require_kind(record, "testimonial")
    placement = find_placement(record, placement_id)
    if placement["removed_at"]:
        raise NotAllowed("placement_id", "placement.already_removed", code="already_removed",
                         placement=placement_id, removed_at=placement["removed_at"])
    if removed_at < placement["published_at"]:
        raise Invalid("removed_at", "placement.removed_before", published_at=placement["published_at"])
    placement["removed_at"] = removed_at
    placement["removal_evidence"] = evidence
    if record["status"] == "consent_withdrawn" and not active_placements(record):
        record["status"] = "taken_down"
    return placement


def personal_files(record: dict) -> dict:
    """{file name: sha256} of every file a withdrawal must delete (capture.json holds the text too)."""
    files = {e["name"]: e["sha256"] for e in record["evidence"] if e["name"].startswith(PERSONAL_FILE_PREFIXES)}
    files["capture.json"] = record["sha256"]
    return files


def withdraw(record: dict, body: dict, now: str) -> dict:
    """The author withdrew consent: blank every personal field, keep the proof that it was honoured.

    Kept: KEPT_AFTER_WITHDRAWAL: ids, dates, the consent log (choices, channels and dates, no words of the
    author), the placements, and the hashes of what was erased. The caller deletes the files named by
    personal_files() in the same step.
    """
    _open_for_consent(record)
    erased = personal_files(record)
    state = consent(record)
    state["purposes"] = {p: "withdrawn" if v == "granted" else v for p, v in state["purposes"].items()}
    state["withdrawal"] = {"received_at": body["received_at"], "received_via": body["received_via"],
                           "recorded_at": now}
    record["consent"] = state
    for field in record:
        if field not in KEPT_AFTER_WITHDRAWAL:
            record[field] = None
    record["author"] = {"name": None, "profile_url": None}
    record["witness"] = [{k: w.get(k) for k in WITNESS_KEPT} for w in record.get("witness") or []]
    record["evidence"] = [e for e in record["evidence"] if e["name"] not in erased]
    for answer in state["answers"]:
        if answer["evidence"] and answer["evidence"]["name"] in erased:
            answer["evidence"] = {**answer["evidence"], "erased": True}
    record["erasure"] = {"at": now, "reason": "consent_withdrawn", "erased": erased}
    record["status"] = "taken_down" if not active_placements(record) else "consent_withdrawn"
    return record


# -- offences -------------------------------------------------------------------------------------

def refresh_deadlines(record: dict, today: date) -> dict:
    """Recompute the deadlines of a kind that has them (statuses move from open to missed with time alone)."""
    deadlines = kinds.of(record).deadlines
    if deadlines:
        record["deadlines"] = deadlines(record, today)
    return record


def record_action(record: dict, body: dict, today: date, now: str) -> dict:
    """Add an offence step; the case's status follows the latest step by date."""
    require_kind(record, "offence")
    if body.get("due") and body["type"] != "removal_demand_sent":
        raise Invalid("due", "action.due_alone")
    if body.get("due") and body["due"] <= body["date"]:
        raise Invalid("due", "action.due_early")
    actions = record.setdefault("actions", [])
    action = {"id": f"a{len(actions) + 1}", "type": body["type"], "date": body["date"],
              "reference": body.get("reference"), "notes": body.get("notes"), "recorded_at": now}
    if body["type"] == "removal_demand_sent":
        action["due"] = body.get("due") or legal.removal_demand_due(date.fromisoformat(body["date"])).isoformat()
    actions.append(action)
    latest = max(enumerate(actions), key=lambda item: (item[1]["date"], item[0]))[1]
    record["status"] = latest["type"]
    return refresh_deadlines(record, today)


def change_known_since(record: dict, known_since: str, reason: str, today: date, now: str) -> dict:
    require_kind(record, "offence")
    record.setdefault("known_since_changes", []).append(
        {"from": record["known_since"], "to": known_since, "reason": reason, "recorded_at": now})
    record["known_since"] = known_since
    record["offence"]["known_since"] = known_since
    return refresh_deadlines(record, today)


def set_signals(record: dict, signals: list[str]) -> dict:
    require_kind(record, "offence")
    record["signals"] = [s for s in SIGNALS if s in signals]  # a checklist: one canonical order
    return record


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def set_document_fields(record: dict, body: dict) -> dict:
    """Who the content targets, which statements the user says are false facts (offence cases), and the
    language the documents go out in (any case). Each refusal names its field."""
    offence_only = [field for field in ("target", "target_person", "false_statements") if field in body]
    if offence_only and record["kind"] != "offence":
        raise NotAllowed(offence_only[0], "case.offence_only", code="wrong_kind", case=record["id"],
                         kind=record["kind"])
    if "target" in body or "target_person" in body:
        target = body.get("target", record["offence"].get("target") or "business")
        person = body.get("target_person", record["offence"].get("target_person"))
        person = " ".join(person.split()) if isinstance(person, str) else None
        if target in ("person", "both") and not person:
            raise Invalid("target_person", "target.person_missing", target=target)
        if target == "business" and body.get("target_person"):
            raise Invalid("target_person", "target.person_extra")
        record["offence"]["target"] = target
        record["offence"]["target_person"] = person if target != "business" else None
    if "false_statements" in body:
        text = _plain(" ".join(filter(None, [record.get("title"), record.get("text")])))
        for index, statement in enumerate(body["false_statements"]):
            if _plain(statement) not in text:
                raise Invalid(f"false_statements.{index}", "statement.not_quoted")
        record["offence"]["false_statements"] = [" ".join(s.split()) for s in body["false_statements"]]
    if "recipient_language" in body:
        record["recipient_language"] = body["recipient_language"]
    return record


def author_view(profile_url: str, records: list[dict]) -> dict:
    """Every case of one profile, with how often each signal was ticked across them."""
    mine = [r for r in records if (r.get("author") or {}).get("profile_url") == profile_url]
    names = sorted({r["author"]["name"] for r in mine if r["author"].get("name")})
    counts = {s: sum(s in r.get("signals", []) for r in mine) for s in SIGNALS}
    return {"profile_url": profile_url, "names": names, "cases": mine,
            "signals": {s: n for s, n in counts.items() if n}}
