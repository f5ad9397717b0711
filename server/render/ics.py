"""The deadlines feed (iCalendar, RFC 5545): pure, no I/O.

Calendar apps often sync to a cloud service, so an event names the case by its short id and category,
never the author or the words of the post.

The feed is written here rather than with the `icalendar` library: it uses a handful of properties, and
the library spent about 1.1 ms per event (half of it folding lines one character at a time), which made
a feed of a few thousand open deadlines take seconds (docs/performance.md). The tests read every feed
back with `icalendar`, so what is written here is checked against an independent parser.
"""
import hashlib
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import holidays

from .. import i18n
from ..domain import kinds, legal
from ..domain.vocabulary import LANGUAGES, label

REMINDER_DAYS = (14, 7)  # docs/legal.md: remind at D-14 and D-7


def text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks escaped. (Chained
    replace: str.translate with a table looks up every character, 10 times slower on a description.)"""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "")
            .replace("\n", "\\n"))


def fold(line: str) -> bytes:
    """One content line (§3.1): at most 75 octets a line, continued after CRLF and a space, never
    cutting a UTF-8 character in two."""
    data = line.encode()
    if len(data) <= 75:  # most lines
        return data + b"\r\n"
    lines, start, width = [], 0, 75
    while len(data) - start > width:
        end = start + width
        while data[end] & 0xC0 == 0x80:  # a continuation byte: step back to the character's start
            end -= 1
        lines.append(data[start:end])
        start, width = end, 74  # the leading space counts
    lines.append(data[start:])
    return b"\r\n ".join(lines) + b"\r\n"


@lru_cache(maxsize=1)
def version() -> str:
    """What a kept event's text depends on besides its case: this module, the deadline rules and their
    words (the catalogues), and the holiday calendar. Kept events of another version are not used."""
    digest = hashlib.sha256(f"holidays {holidays.__version__}".encode())
    for path in (__file__, legal.__file__, kinds.__file__, *(i18n.po_path(lang) for lang in LANGUAGES)):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:12]


def head(lang: str) -> bytes:
    """The calendar's opening lines, before its events."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Testimone//Deadlines//IT", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{text(i18n.text('calendar', 'title', lang))}",
             # How often subscribed clients should refresh (RFC 7986, and the older name Outlook and Google read).
             "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H"]
    return b"".join(fold(line) for line in lines)


TAIL = fold("END:VCALENDAR")


def event(record: dict, deadline: dict, lang: str, base_url: str, stamp: datetime) -> bytes:
    """One open deadline as an all-day event with two reminders. `stamp` (DTSTAMP) is when the event was
    written: in a published feed (no METHOD) it says when its information was last revised (RFC 5545
    §3.8.7.2), so an event written once and kept keeps its stamp."""
    due = date.fromisoformat(deadline["due"])
    link = f"{base_url}/cases/{record['id']}"
    category = label(legal.CATEGORY_LABELS, record["offence"]["category"], lang)
    summary = text(f"{label(legal.LABELS, deadline['kind'], lang)} — {i18n.text('calendar', 'case', lang)} {record['id'][-6:]} "
                   f"({category})")
    description = text("\n".join([legal.explain(deadline, lang), deadline["basis"], link, legal.DISCLAIMER[lang]]))
    lines = ["BEGIN:VEVENT", f"UID:{record['id']}-{deadline['kind']}@testimone.localhost",
             f"DTSTAMP:{stamp.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}",
             f"DTSTART;VALUE=DATE:{due:%Y%m%d}", f"DTEND;VALUE=DATE:{due + timedelta(days=1):%Y%m%d}",
             f"SUMMARY:{summary}", f"DESCRIPTION:{description}", f"URL:{link}", "TRANSP:TRANSPARENT"]
    for days in REMINDER_DAYS:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{summary}", f"TRIGGER:-P{days}D", "END:VALARM"]
    lines.append("END:VEVENT")
    return b"".join(fold(line) for line in lines)


def deadlines_feed(deadlines, lang: str, base_url: str) -> bytes:
    """A whole feed of (record, open deadline) pairs, written now (the server keeps events instead:
    server/services/deadlines.py)."""
    stamp = datetime.now(timezone.utc)
    return head(lang) + b"".join(event(record, deadline, lang, base_url, stamp) for record, deadline in deadlines) + TAIL
