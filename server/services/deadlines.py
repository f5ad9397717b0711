"""Deadlines across every case: the soonest ones for the dashboard, and the iCalendar feed."""
from ..domain import kinds
from ..domain.errors import Invalid
from ..domain.vocabulary import LANGUAGES
from ..render import ics
from . import cases


def open_deadlines(store) -> list[tuple[dict, dict]]:
    """(record, deadline) for every open deadline of a case not yet settled, soonest first."""
    today = cases.today()
    found = []
    for record in cases.all_records(store):
        kind = kinds.of(record)
        if not kind.deadlines or record["status"] in kind.settled:
            continue
        found += [(record, d) for d in kind.deadlines(record, today) if d["status"] == "open"]
    return sorted(found, key=lambda item: item[1]["due"])


def feed(store, lang: str, base_url: str) -> bytes:
    """The iCalendar feed of every open deadline; `base_url` makes the links back to the dashboard."""
    if lang not in LANGUAGES:
        raise Invalid("lang", "'lang' must be 'it' or 'en'.")
    return ics.deadlines_feed(open_deadlines(store), lang, base_url)
