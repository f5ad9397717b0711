"""The deadlines feed (iCalendar, RFC 5545): pure, no I/O.

Calendar apps often sync to a cloud service, so an event names the case by its short id and category,
never the author or the words of the post.

The feed is written here rather than with the `icalendar` library: it uses a handful of properties, and
the library spent about 1.1 ms per event (half of it folding lines one character at a time), which made
a feed of a few thousand open deadlines take seconds (docs/performance.md). The tests read every feed
back with `icalendar`, so what is written here is checked against an independent parser.
"""
from datetime import date, datetime, timedelta, timezone

from .. import i18n
from ..domain import legal
from ..domain.vocabulary import label

REMINDER_DAYS = (14, 7)  # docs/legal.md: remind at D-14 and D-7
TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n", "\r": ""})


def text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks escaped."""
    return value.translate(TEXT_ESCAPES)


def fold(line: str) -> bytes:
    """One content line (§3.1): at most 75 octets a line, continued after CRLF and a space, never
    cutting a UTF-8 character in two."""
    data, lines, start, width = line.encode(), [], 0, 75
    while len(data) - start > width:
        end = start + width
        while data[end] & 0xC0 == 0x80:  # a continuation byte: step back to the character's start
            end -= 1
        lines.append(data[start:end])
        start, width = end, 74  # the leading space counts
    lines.append(data[start:])
    return b"\r\n ".join(lines) + b"\r\n"


def deadlines_feed(deadlines, lang: str, base_url: str) -> bytes:
    """The feed of (record, open deadline) pairs, read one at a time (server/services/deadlines.py picks them)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    feed = bytearray()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Testimone//Deadlines//IT", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{text(i18n.text('calendar', 'title', lang))}",
             # How often subscribed clients should refresh (RFC 7986, and the older name Outlook and Google read).
             "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H"]
    for record, deadline in deadlines:
        due = date.fromisoformat(deadline["due"])
        link = f"{base_url}/cases/{record['id']}"
        category = label(legal.CATEGORY_LABELS, record["offence"]["category"], lang)
        summary = text(f"{label(legal.LABELS, deadline['kind'], lang)} — {i18n.text('calendar', 'case', lang)} {record['id'][-6:]} "
                       f"({category})")
        description = text("\n".join([legal.explain(deadline, lang), deadline["basis"], link, legal.DISCLAIMER[lang]]))
        lines += ["BEGIN:VEVENT", f"UID:{record['id']}-{deadline['kind']}@testimone.localhost", f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{due:%Y%m%d}", f"DTEND;VALUE=DATE:{due + timedelta(days=1):%Y%m%d}",
                  f"SUMMARY:{summary}", f"DESCRIPTION:{description}", f"URL:{link}", "TRANSP:TRANSPARENT"]
        for days in REMINDER_DAYS:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{summary}", f"TRIGGER:-P{days}D", "END:VALARM"]
        lines.append("END:VEVENT")
        feed += b"".join(fold(line) for line in lines)  # written as it goes: only one event's lines at a time
        lines = []
    lines.append("END:VCALENDAR")
    feed += b"".join(fold(line) for line in lines)
    return bytes(feed)
