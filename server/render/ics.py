"""The deadlines feed (iCalendar, RFC 5545) built with the `icalendar` library: pure, no I/O.

Calendar apps often sync to a cloud service, so an event names the case by its short id and category,
never the author or the words of the post.
"""
from datetime import date, datetime, timedelta, timezone

from icalendar import Alarm, Calendar, Event

from ..domain import legal
from ..domain.vocabulary import label

REMINDER_DAYS = (14, 7)  # docs/legal.md: remind at D-14 and D-7
TITLE = {"it": "Testimone — scadenze", "en": "Testimone — deadlines"}
CASE_WORD = {"it": "caso", "en": "case"}


def deadlines_feed(deadlines: list[tuple[dict, dict]], lang: str, base_url: str) -> bytes:
    """The feed of (record, open deadline) pairs, soonest first (server/services/deadlines.py picks them)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Testimone//Deadlines//IT")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", TITLE[lang])
    # How often subscribed clients should refresh (RFC 7986, and the older name Outlook and Google read).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
    for record, deadline in deadlines:
        due = date.fromisoformat(deadline["due"])
        short_id = record["id"][-6:]
        category = label(legal.CATEGORY_LABELS, record["offence"]["category"], lang)
        summary = f"{label(legal.LABELS, deadline['kind'], lang)} — {CASE_WORD[lang]} {short_id} ({category})"
        event = Event()
        event.add("uid", f"{record['id']}-{deadline['kind']}@testimone.localhost")
        event.add("dtstamp", stamp)
        event.add("dtstart", due)
        event.add("dtend", due + timedelta(days=1))
        event.add("summary", summary)
        event.add("description", "\n".join([legal.explain(deadline, lang), deadline["basis"],
                                            f"{base_url}/cases/{record['id']}", legal.DISCLAIMER[lang]]))
        event.add("url", f"{base_url}/cases/{record['id']}")
        event.add("transp", "TRANSPARENT")
        for days in REMINDER_DAYS:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", summary)
            alarm.add("trigger", timedelta(days=-days))
            event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
