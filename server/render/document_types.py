"""Every document Testimone produces, in one table. The documents service, the API routes, the
dashboard's buttons, the evidence bundle and `testimone render-samples` all read it.

Adding a document = one `register(DocumentType(...))` here, its template (pdf_templates/<name>.html)
and its strings (the context "<name>" in server/locales/*/LC_MESSAGES/testimone.po, with "label" and
"version"), plus tests.
"""
from dataclasses import dataclass
from datetime import date
from typing import Callable

from markupsafe import Markup

from .. import i18n
from ..domain import legal, profile
from ..trust.clock import clock_report
from . import samples


def _always(_record: dict) -> bool:
    return True


def _no_context(_record: dict, _day: date, _shown: dict, _options: dict) -> dict:
    return {}


@dataclass(frozen=True)
class DocumentType:
    name: str                      # "removal_demand": also the template and strings file names
    kinds: tuple[str, ...]         # the kinds of case that have it
    path: str                      # its file: /api/captures/<id>/<path>, /cases/<id>/files/<path>
    file_stem: str                 # testimone-<file_stem>-<short id>-<date>.pdf; <file_stem>-<lang>.pdf in a bundle
    summary: str                   # one line for the OpenAPI document
    when: Callable[[dict], bool] = _always   # a condition on the case's state, beyond its kind
    refusal: str | None = None     # the 409 message's key ("api" context) when it does not apply
    main: bool = False             # the case's main document (document.pdf) for its kinds
    in_bundle: bool = False        # carried, signed, in the evidence bundle
    superseded_by: str | None = None  # the dashboard hides it once that document applies
    options: tuple[str, ...] = ()  # query options the document takes (server/api/documents.py parses them)
    context: Callable[[dict, date, dict, dict], dict] = _no_context  # (record, day, shown, options) -> values
    # Kept by the business, so it may say what the tool is; documents for third parties never do.
    internal: Callable[[dict], bool] = lambda _record: False
    samples: Callable[[], list[tuple[str, dict]]] = list  # (label, record) for render-samples
    template: str = ""             # default: <name>.html
    catalogue: str = ""            # default: <name> (the .po files' context <name> over "document")
    label: str = "label"           # the key of the dashboard's button in its catalogue

    def __post_init__(self):
        object.__setattr__(self, "template", self.template or f"{self.name}.html")
        object.__setattr__(self, "catalogue", self.catalogue or self.name)

    def button(self, lang: str) -> str:
        """The dashboard button's text; a document without one shows its name."""
        return i18n.get(self.catalogue, self.label, lang) or self.name.replace("_", " ")

    def applies(self, record: dict) -> bool:
        return record["kind"] in self.kinds and self.when(record)

    def refusal_for(self, record: dict) -> tuple[str, dict]:
        """The 409 message (key and values in the "api" context) when it does not apply to the case."""
        if self.refusal:
            return self.refusal, {}
        return "document.wrong_kind", {"document": self.name.replace("_", " "), "kinds": ", ".join(self.kinds),
                                       "case": record["id"], "kind": record["kind"]}


TYPES: dict[str, DocumentType] = {}


def register(document: DocumentType) -> DocumentType:
    TYPES[document.name] = document
    return document


def get(name: str) -> DocumentType | None:
    return TYPES.get(name)


def by_path(path: str) -> DocumentType | None:
    return next((d for d in TYPES.values() if d.path == path), None)


def main_for(record: dict) -> DocumentType:
    """The case's main document: the first one marked main that applies to it (a withdrawn testimonial's
    is its takedown checklist), else the first for its kind (which then says why it does not apply)."""
    mains = [d for d in TYPES.values() if d.main and record["kind"] in d.kinds]
    return next((d for d in mains if d.when(record)), mains[0])


def for_case(record: dict) -> list[DocumentType]:
    """The documents this case has, without those another one supersedes (the dashboard's buttons)."""
    have = [d for d in TYPES.values() if d.applies(record)]
    names = {d.name for d in have}
    return [d for d in have if d.superseded_by not in names]


# -- what each document adds to the template's values -----------------------------------------------

def _withdrawal(record: dict) -> dict | None:
    return (record.get("consent") or {}).get("withdrawal")


# Above this difference between the server's and the browser's clocks, the incident report warns.
CLOCK_WARNING_SECONDS = 60
# Every event a case's history may hold, translated in the incident_report context ("event.<code>").
EVENTS = ("evidence.added", "clock.recorded", "timestamp.pending", "timestamp.stamped", "witness.capture",
          "witness.recheck", "action.recorded", "case.updated", "consent.answered", "consent.withdrawn",
          "placement.added", "placement.removed")
EVIDENCE_KINDS = ("screenshot.", "page.", "comment.", "capture.json", "timestamp.tsq", "timestamp.tsr",
                  "timestamp-chain", "witness-", "consent-", "removal-")
# Consent request: how long the captured copy is kept without an answer, and the consent log after use.
CONSENT_ANSWER_DAYS = 30
CONSENT_LOG_YEARS = 10


def _deadlines(record: dict, issued_on: date) -> list[dict]:
    """The deadlines as of the issue date, computed by server/domain/legal.py from the record (a stored list
    may predate the current counting rules)."""
    known = record.get("known_since") or (record.get("offence") or {}).get("known_since")
    category = (record.get("offence") or {}).get("category", "other")
    try:
        known_day = date.fromisoformat(known or "")
    except ValueError:
        return record.get("deadlines") or []
    return legal.compute_deadlines(category, known_day, record.get("actions", []), issued_on,
                                   legal.publication_date(record))


def _target(record: dict) -> dict:
    """Who the content targets: the business (default), a named person, or both (the querela is filed by
    whoever was offended), and the statements the user marked as false facts."""
    offence = record.get("offence") or {}
    person = offence.get("target_person")
    target = offence.get("target") if offence.get("target") in ("person", "both") and person else "business"
    return {"target": target, "target_person": person if target != "business" else None,
            "false_statements": [s for s in offence.get("false_statements") or [] if s]}


def _incident_report(record: dict, day: date, shown: dict, _options: dict) -> dict:
    t, lang = shown["t"], shown["lang"]
    deadlines = _deadlines(record, day)
    notes = {d["kind"]: legal.non_working_note(d, lang, day=lambda value, _lang: shown["fmt_date"](value))
             for d in deadlines}
    detailed, others = legal.qualifications((record.get("offence") or {}).get("category") or "other")

    def outcome_label(outcome: str | None):
        key = f"witness_outcome.{outcome}"
        return t(key if shown["has_string"](key) else "witness_outcome.error")

    return {**_target(record), "deadlines": deadlines, "non_working_notes": notes, "qualifications": detailed,
            "other_names": ", ".join(str(t(f"q_name.{q}")) for q in others),
            "clock": _clock(record, shown), "timestamp": record.get("timestamp") or {},
            "witnesses": record.get("witness") or [], "outcome_label": outcome_label,
            "events": _events(record, shown, outcome_label), "evidence": _evidence_rows(record, t, outcome_label)}


def _clock(record: dict, shown: dict) -> dict:
    clock = record.get("clock") or clock_report(record)
    utc = {name: (shown["stamp"](clock.get(name)) or {}).get("utc") for name in ("server", "client")}
    difference = clock.get("difference_seconds")
    view = {**clock, "server_text": utc["server"], "client_text": utc["client"], "warning": False,
            "threshold": shown["duration"](CLOCK_WARNING_SECONDS)}
    if difference is not None:
        view.update(difference_text=shown["number"](difference, 1, True), human=shown["duration"](difference),
                    browser_ahead=difference < 0, warning=abs(difference) > CLOCK_WARNING_SECONDS)
    ntp = clock.get("ntp") or {}
    if ntp.get("offset_seconds") is not None:
        view["ntp_text"] = shown["number"](ntp["offset_seconds"], 3, True)
    return view


def _events(record: dict, shown: dict, outcome_label) -> list[dict]:
    """History events as translated sentences (the capture has its own row; downloads are not shown)."""
    t = shown["t"]
    rows = []
    for event in record.get("history") or []:
        code = str(event.get("event", ""))
        if code == "capture.created" or code.startswith("document."):
            continue
        if code in EVENTS:
            text = t(f"event.{code}", file=event.get("name") or event.get("file") or "",
                     tsa=event.get("tsa") or "", outcome=outcome_label(event.get("outcome")))
        else:
            text = t("event.other")
        rows.append({"when": shown["stamp"](event.get("at")), "text": text})
    return rows


def _evidence_rows(record: dict, t, outcome_label) -> list[dict]:
    """The evidence register: each file with what it is (a second-witness report says what it found)."""
    witnesses = {w.get("file"): w for w in record.get("witness") or []}
    rows = []
    for item in record.get("evidence") or []:
        kind = next((k for k in EVIDENCE_KINDS if item["name"].startswith(k)), None)
        if kind == "witness-":
            what = t("file.witness-", outcome=outcome_label((witnesses.get(item["name"]) or {}).get("outcome")))
        else:
            what = t(f"file.{kind}") if kind else ""
        rows.append({**item, "what": what})
    return rows


def _consent_request(record: dict, day: date, shown: dict, _options: dict) -> dict:
    captured = shown["stamp"](record.get("captured_at"))
    captured_day = date.fromisoformat(captured["day"]) if captured else day
    inform_by, _ = legal.add_months(captured_day, 1)
    purposes = (record.get("testimonial") or {}).get("purposes") or ["website", "landing_page", "social", "print", "ads"]
    recipients = (["hosting"] if {"website", "landing_page"} & set(purposes) else []) + \
        [p for p in ("social", "print", "ads") if p in purposes]
    accounts = shown["business"]["social_accounts"] or Markup('<span class="placeholder">{}</span>').format(
        profile.placeholder("social_accounts", shown["lang"]))
    return {"purposes": purposes, "recipient_purposes": recipients, "social_accounts": accounts,
            "captured_day": shown["fmt_date"](captured_day.isoformat()),
            "inform_by": shown["fmt_date"](inform_by.isoformat()), "informed_in_time": day <= inform_by,
            "answer_days": CONSENT_ANSWER_DAYS, "log_years": CONSENT_LOG_YEARS}


def _with_article(day_text: str, lang: str) -> str:
    """Italian puts the article before a date: "il 1° dicembre", "l'8 dicembre", "l'11 dicembre"."""
    if lang != "it":
        return day_text
    return ("l'" if day_text.startswith(("8 ", "11 ")) else "il ") + day_text


def quoted_list(items: list[str], lang: str) -> str:
    """«A», «B» e «C» / "A", "B" and "C"."""
    marks, conjunction = (("«", "»"), " e ") if lang == "it" else (('"', '"'), " and ")
    quoted = [f"{marks[0]}{item}{marks[1]}" for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + conjunction + quoted[-1]


def _removal_demand(record: dict, day: date, shown: dict, options: dict) -> dict:
    target, lang = _target(record), shown["lang"]
    days = options.get("deadline_days", legal.REMOVAL_DEMAND_DAYS)
    statements = target["false_statements"]
    names = {"business": [shown["business"]["name_text"]], "person": [target["target_person"]],
             "both": [shown["business"]["name_text"], target["target_person"]]}[target["target"]]
    return {**target, "target_text": f" {shown['t']('and')} ".join(names), "target_statements": statements,
            "false_statements": quoted_list(statements, lang) if statements else None, "deadline_days": days,
            "comply_by": _with_article(shown["fmt_date"](legal.removal_demand_due(day, days).isoformat()), lang)}


def _takedown(record: dict, _day: date, _shown: dict, _options: dict) -> dict:
    placements = record.get("placements") or []
    return {"withdrawal": _withdrawal(record), "placements": placements,
            "pending": [p for p in placements if not p.get("removed_at")],
            "last_removed": max((p["removed_at"] for p in placements if p.get("removed_at")), default=None)}


register(DocumentType(
    "consent_request", kinds=("testimonial",), path="consent-request.pdf", file_stem="consent-request",
    summary="Consent request for the author of a testimonial", main=True, in_bundle=True,
    superseded_by="takedown", context=_consent_request, when=lambda record: _withdrawal(record) is None,
    refusal="document.consent_withdrawn",
    samples=lambda: [("consent_request", samples.testimonial())]))
register(DocumentType(
    "incident_report", kinds=("offence",), path="incident-report.pdf", file_stem="incident-report",
    summary="Incident report of an offence case, with its evidence and deadlines", main=True, in_bundle=True,
    context=_incident_report, internal=lambda _record: True, samples=lambda: [("incident_report", samples.offence())]))
register(DocumentType(
    "removal_demand", kinds=("offence",), path="removal-demand.pdf", file_stem="removal-demand",
    summary="Formal removal demand (diffida), offence cases only", options=("deadline_days",),
    context=_removal_demand, samples=lambda: [("removal_demand", samples.offence())]))
register(DocumentType(
    "takedown", kinds=("testimonial",), path="takedown.pdf", file_stem="takedown", main=True,
    summary="Takedown checklist, or the confirmation for the author once every placement is removed",
    when=lambda record: _withdrawal(record) is not None,
    refusal="document.no_takedown", context=_takedown,
    # The checklist is the business's own; once every placement is removed it is the author's confirmation.
    internal=lambda record: any(not p.get("removed_at") for p in record.get("placements") or []),
    samples=lambda: [("takedown_pending", samples.withdrawn(complete=False)),
                     ("takedown_done", samples.withdrawn(complete=True))]))
