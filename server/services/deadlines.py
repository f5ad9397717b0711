"""Deadlines across every case: the soonest ones for the dashboard, and the iCalendar feed."""
from ..domain import cases as case_rules
from ..domain.errors import Invalid
from ..render import ics
from . import cases


def open_deadlines(store) -> list[tuple[dict, dict]]:
    """(record, deadline) for every open deadline of an offence case not yet resolved, soonest first."""
    today = cases.today()
    found = []
    for record in cases.all_records(store):
        if record["kind"] != "offence" or record["status"] == "resolved":
            continue
        case_rules.refresh_deadlines(record, today)
        found += [(record, d) for d in record["deadlines"] if d["status"] == "open"]
    return sorted(found, key=lambda item: item[1]["due"])


def feed(store, lang: str, base_url: str) -> bytes:
    """The iCalendar feed of every open deadline; `base_url` makes the links back to the dashboard."""
    if lang not in ("it", "en"):
        raise Invalid("lang", "'lang' must be 'it' or 'en'.")
    return ics.deadlines_feed(open_deadlines(store), lang, base_url)
