"""Every document Testimone produces, in one table. The documents service, the API routes, the
dashboard's buttons, the evidence bundle and `testimone render-samples` all read it.

Adding a document = one `register(DocumentType(...))` here, its template (pdf_templates/<name>.html)
and its strings (pdf_templates/strings/<name>.toml), plus tests.
"""
from dataclasses import dataclass
from datetime import date
from typing import Callable

from ..domain import legal
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
    label: dict                    # the dashboard's button, {"it": ..., "en": ...}
    summary: str                   # one line for the OpenAPI document
    when: Callable[[dict], bool] = _always   # a condition on the case's state, beyond its kind
    refusal: str | None = None     # the 409 message when it does not apply (default: names the kinds)
    main: bool = False             # the case's main document (document.pdf) for its kinds
    in_bundle: bool = False        # carried, signed, in the evidence bundle
    superseded_by: str | None = None  # the dashboard hides it once that document applies
    options: tuple[str, ...] = ()  # query options the document takes (server/api/documents.py parses them)
    context: Callable[[dict, date, dict, dict], dict] = _no_context  # (record, day, shown, options) -> values
    samples: Callable[[], list[tuple[str, dict]]] = list  # (label, record) for render-samples
    template: str = ""             # default: <name>.html
    catalogue: str = ""            # default: <name> (pdf_templates/strings/<name>.toml over common.toml)

    def __post_init__(self):
        object.__setattr__(self, "template", self.template or f"{self.name}.html")
        object.__setattr__(self, "catalogue", self.catalogue or self.name)

    def applies(self, record: dict) -> bool:
        return record["kind"] in self.kinds and self.when(record)

    def refusal_for(self, record: dict) -> str:
        return self.refusal or (f"A {self.name.replace('_', ' ')} is for {' or '.join(self.kinds)} cases; "
                                f"case {record['id']} is a {record['kind']}.")


TYPES: dict[str, DocumentType] = {}


def register(document: DocumentType) -> DocumentType:
    TYPES[document.name] = document
    return document


def get(name: str) -> DocumentType | None:
    return TYPES.get(name)


def by_path(path: str) -> DocumentType | None:
    return next((d for d in TYPES.values() if d.path == path), None)


def main_for(record: dict) -> DocumentType:
    return next(d for d in TYPES.values() if d.main and record["kind"] in d.kinds)


def for_case(record: dict) -> list[DocumentType]:
    """The documents this case has, without those another one supersedes (the dashboard's buttons)."""
    have = [d for d in TYPES.values() if d.applies(record)]
    names = {d.name for d in have}
    return [d for d in have if d.superseded_by not in names]


# -- what each document adds to the template's values -----------------------------------------------

def _withdrawal(record: dict) -> dict | None:
    return (record.get("consent") or {}).get("withdrawal")


def _deadlines(record: dict, issued_on: date) -> list[dict]:
    """The record's deadlines (computed by server/domain/legal.py when the case was updated), else computed now."""
    if record.get("deadlines") is not None:
        return record["deadlines"]
    known = record.get("known_since") or (record.get("offence") or {}).get("known_since")
    category = (record.get("offence") or {}).get("category", "other")
    if not known:
        return []
    try:
        known_day = date.fromisoformat(known)
    except ValueError:
        return []
    return legal.compute_deadlines(category, known_day, record.get("actions", []), issued_on)


def _incident_report(record: dict, day: date, shown: dict, _options: dict) -> dict:
    clock = record.get("clock") or clock_report(record)
    utc = {name: (shown["stamp"](clock.get(name)) or {}).get("utc") for name in ("server", "client")}
    return {"deadlines": _deadlines(record, day),
            "clock": {**clock, "server_text": utc["server"], "client_text": utc["client"]}}


def _removal_demand(_record: dict, _day: date, _shown: dict, options: dict) -> dict:
    return {"deadline_days": options.get("deadline_days", legal.REMOVAL_DEMAND_DAYS)}


def _takedown(record: dict, _day: date, _shown: dict, _options: dict) -> dict:
    placements = record.get("placements") or []
    return {"withdrawal": _withdrawal(record), "placements": placements,
            "pending": [p for p in placements if not p.get("removed_at")],
            "last_removed": max((p["removed_at"] for p in placements if p.get("removed_at")), default=None)}


register(DocumentType(
    "consent_request", kinds=("testimonial",), path="consent-request.pdf", file_stem="consent-request",
    label={"it": "Richiesta di consenso (PDF)", "en": "Consent request (PDF)"},
    summary="Consent request for the author of a testimonial", main=True, in_bundle=True,
    superseded_by="takedown", samples=lambda: [("consent_request", samples.testimonial())]))
register(DocumentType(
    "incident_report", kinds=("offence",), path="incident-report.pdf", file_stem="incident-report",
    label={"it": "Relazione sull'episodio (PDF)", "en": "Incident report (PDF)"},
    summary="Incident report of an offence case, with its evidence and deadlines", main=True, in_bundle=True,
    context=_incident_report, samples=lambda: [("incident_report", samples.offence())]))
register(DocumentType(
    "removal_demand", kinds=("offence",), path="removal-demand.pdf", file_stem="removal-demand",
    label={"it": "Diffida (PDF)", "en": "Removal demand (PDF)"},
    summary="Formal removal demand (diffida), offence cases only", options=("deadline_days",),
    context=_removal_demand, samples=lambda: [("removal_demand", samples.offence())]))
register(DocumentType(
    "takedown", kinds=("testimonial",), path="takedown.pdf", file_stem="takedown",
    label={"it": "Conferma di rimozione (PDF)", "en": "Takedown confirmation (PDF)"},
    summary="Takedown checklist, or the confirmation for the author once every placement is removed",
    when=lambda record: _withdrawal(record) is not None,
    refusal="Only a testimonial whose consent was withdrawn has a takedown checklist.", context=_takedown,
    samples=lambda: [("takedown_pending", samples.withdrawn(complete=False)),
                     ("takedown_done", samples.withdrawn(complete=True))]))
