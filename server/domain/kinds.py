"""What differs between a testimonial and an offence, kept with the kind: its part of a capture, its
statuses, what it starts with, its legal deadlines, whether answers carry the advice. Its documents are
in server/render/document_types.py (each names its kinds); its dashboard panels in templates/case.html.
"""
from dataclasses import dataclass
from datetime import date
from typing import Callable

from . import legal, vocabulary
from .errors import Invalid
from .schemas import check_date


def _testimonial_part(part: dict | None, _today: date) -> dict:
    part = part or {}
    return {"purposes": part.get("purposes", []), "photo": part.get("photo", False)}


def _offence_part(part: dict | None, today: date) -> dict:
    if part is None:
        raise Invalid("offence", "offence.required")
    check_date(part.get("known_since"), "offence.known_since", not_future=True)
    return {"category": part["category"], "notes": part.get("notes"),
            "known_since": part.get("known_since") or today.isoformat()}


def _offence_deadlines(record: dict, today: date) -> list[dict]:
    return legal.compute_deadlines(record["offence"]["category"], date.fromisoformat(record["known_since"]),
                                   record.get("actions", []), today, legal.publication_date(record))


def _offence_start(fields: dict, today: date) -> dict:
    known_since = fields["offence"]["known_since"]
    return {"known_since": known_since, "deadlines": legal.compute_deadlines(
        fields["offence"]["category"], date.fromisoformat(known_since), [], today, legal.publication_date(fields))}


@dataclass(frozen=True)
class Kind:
    name: str                      # also the name of its part of a capture ({"offence": {...}})
    statuses: tuple[str, ...]      # the first is a new case's
    part: Callable[[dict | None, date], dict]  # its part of a capture, checked and completed (or Invalid)
    start: Callable[[dict, date], dict] = lambda fields, today: {}  # further fields a new case starts with
    deadlines: Callable[[dict, date], list[dict]] | None = None  # its legal deadlines, as of a day
    settled: tuple[str, ...] = ()  # statuses whose deadlines no longer matter (the calendar leaves them out)
    advice: bool = False           # every answer repeats legal.ADVICE (a bad review is not an offence)


KINDS = {kind.name: kind for kind in (
    Kind("testimonial", tuple(vocabulary.TESTIMONIAL_STATUSES), _testimonial_part),
    Kind("offence", tuple(vocabulary.OFFENCE_STATUSES), _offence_part, start=_offence_start,
         deadlines=_offence_deadlines, settled=("resolved",), advice=True),
)}


def of(record: dict) -> Kind:
    return KINDS[record["kind"]]
