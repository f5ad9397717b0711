"""Deadlines and the legal vocabulary of an offence case (docs/legal.md). Pure functions, no I/O.

Testimone gives information, not legal advice: each deadline carries the rule it was counted by and
says so in plain words, readings the law leaves open are flagged `uncertain`, and a due date on a
Saturday, Sunday or Italian public holiday is flagged with the working day before it (no extension
is counted on: the cautious reading). Its words are in the gettext catalogues, context "legal"
(server/i18n.py); the tables below are built from them.
"""
import calendar
import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from .. import i18n
from .vocabulary import LANGUAGES, OFFENCE_CATEGORIES

QUERELA_MONTHS = 3          # art. 124 c.p.
STALKING_MONTHS = 6         # art. 612-bis c.p., fourth paragraph
CIVIL_DAMAGES_YEARS = 5     # art. 2947 c.c.
REMOVAL_DEMAND_DAYS = 7     # common practice is 7-15 days; the letter's default; the owner may set another date

# Categories whose content may be prosecuted on the victim's complaint (querela, 3 months).
# "insult" means an insulting *post*: read later, with the victim absent, it is defamation
# (Cass. I 409/2024). An insult exchanged live is ingiuria, a civil wrong since d.lgs. 7/2016.
QUERELA_CATEGORIES = {"defamation", "insult", "fake_review", "threat_or_blackmail"}
STALKING_CATEGORIES = {"harassment"}

# The action that satisfies a deadline when it is taken on or before the due date.
MET_BY = {"querela": "complaint_filed", "querela_stalking": "complaint_filed", "removal_demand": "resolved"}

BASIS = {
    "querela": "art. 124 c.p.; art. 595 c.p.",
    "querela_stalking": "art. 124 c.p.; art. 612-bis c.p.",
    "civil_damages": "art. 2947 c.c.",
    "removal_demand": "artt. 1334-1335 c.c.",
}

# {value: {lang: text}}, from the catalogues ("deadline.querela", "category.insult"...).
LABELS = i18n.table("legal", "deadline", BASIS)
CATEGORY_LABELS = i18n.table("legal", "category", OFFENCE_CATEGORIES)
STATUS_LABELS = i18n.table("legal", "status", ("open", "met", "missed"))
# Why a category gets (or does not get) a querela, worded as docs/legal.md asks: cautiously.
CATEGORY_NOTES = i18n.table("legal", "note", OFFENCE_CATEGORIES)
# The seed's advice, shown whenever the owner takes the offence path.
ADVICE = {lang: i18n.numbered("legal", "advice", lang) for lang in LANGUAGES}

# The possible legal qualifications the incident report details for each category; the others are
# named in one line (the lawyer may still see them in the facts). Keys "q.*" of the incident_report context in the catalogues.
QUALIFICATIONS = ("defamation", "insult", "extortion", "stalking", "civil", "criticism")
RELEVANT = {
    "defamation": ("defamation", "civil", "criticism"),
    "fake_review": ("defamation", "civil", "criticism"),
    "insult": ("insult", "defamation", "civil"),
    "threat_or_blackmail": ("extortion", "defamation", "civil"),
    "harassment": ("stalking", "defamation", "civil"),
    "other": ("civil", "criticism"),
}


def qualifications(category: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(detailed, named only) qualifications for an offence category."""
    shown = RELEVANT.get(category, RELEVANT["other"])
    return shown, tuple(q for q in QUALIFICATIONS if q not in shown)


# What the user must know before sending a removal demand; never printed in the letter itself.
# Each entry: (platforms it applies to, or None for all; its key, "warning.<key>" in the catalogues).
REMOVAL_DEMAND_WARNINGS = [(None, "capture_first"), (None, "querela_clock"), (None, "no_money"), (None, "how_to_send"),
                           (("facebook",), "facebook_hide"), (("tripadvisor",), "tripadvisor")]


def removal_demand_warnings(platform: str | None, lang: str) -> list[str]:
    return [i18n.text("legal", f"warning.{key}", lang) for platforms, key in REMOVAL_DEMAND_WARNINGS
            if platforms is None or platform in platforms]


DISCLAIMER = i18n.both("legal", "disclaimer")


def add_months(start: date, months: int) -> tuple[date, bool]:
    """The same day-number `months` later on the common calendar, and whether it had to be moved.

    The start day is not counted (art. 14 c.p.), so knowledge on 14 Oct 2016 ends the 3-month term on
    14 Jan 2017. When that day does not exist (30 Nov + 3 months), the term ends on the last day of
    that month; docs/legal.md marks that reading uncertain, so the second value says it was used.
    """
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last)), start.day > last


def non_working(day: date) -> str | None:
    """"saturday", "sunday" or "holiday" (an Italian national public holiday); None on a working day.
    Local patron saints' days are not included: the documents say so."""
    if day.weekday() == 5:
        return "saturday"
    if day.weekday() == 6:
        return "sunday"
    return "holiday" if day in _italian_holidays(day.year, "it_IT") else None


def holiday_name(day: date, lang: str) -> str | None:
    return _italian_holidays(day.year, "it_IT" if lang == "it" else "en_US").get(day)


@functools.lru_cache(maxsize=64)
def _italian_holidays(year: int, language: str):
    """Building a year's table costs about 1 ms; lists compute several deadlines per case."""
    return holidays.country_holidays("IT", years=year, language=language)


def working_day_before(day: date) -> date:
    """The last working day strictly before `day`."""
    day -= timedelta(days=1)
    while non_working(day):
        day -= timedelta(days=1)
    return day


def publication_date(record: dict, zone: str = "Europe/Rome") -> date | None:
    """The day the content was published, in Italy, when the platform gave an exact time."""
    try:
        instant = datetime.fromisoformat(record.get("posted_at") or "")
        return instant.astimezone(ZoneInfo(zone)).date() if instant.tzinfo else instant.date()
    except (ValueError, OverflowError):  # unparsable, or a stored extreme date at the edge of the calendar
        return None


def deadline_status(kind: str, due: date, actions: list[dict], today: date) -> str:
    """`met` when the step the deadline asks for was taken in time, `missed` once it has passed, else `open`."""
    step = MET_BY.get(kind)
    if step and any(a["type"] == step and date.fromisoformat(a["date"]) <= due for a in actions):
        return "met"
    return "missed" if today > due else "open"


def _deadline(kind: str, due: date, uncertain: bool, start: date, actions: list[dict], today: date,
              start_kind: str = "knowledge") -> dict:
    closed = non_working(due)
    return {"kind": kind, "due": due.isoformat(), "basis": BASIS[kind],
            "status": deadline_status(kind, due, actions, today),
            "uncertain": uncertain, "counted_from": start.isoformat(), "counted_from_kind": start_kind,
            "non_working": closed, "file_by": working_day_before(due).isoformat() if closed else None}


def removal_demand_due(sent: date, days: int = REMOVAL_DEMAND_DAYS) -> date:
    return sent + timedelta(days=days)


def compute_deadlines(category: str, known_since: date, actions: list[dict], today: date,
                      published_on: date | None = None) -> list[dict]:
    """Every deadline of an offence case, soonest first.

    The querela runs from knowledge of the fact (art. 124 c.p.; not of its author: a querela may be
    against persons unknown). Civil damages run from the fact itself, i.e. the publication date when
    known (`published_on`), else from knowledge, and `counted_from_kind` says which.
    `actions` are the case's steps (`{"type", "date", "due"?}`); a `removal_demand_sent` step carries
    the compliance date the owner wrote in the diffida as `due` (the latest diffida counts).
    """
    deadlines = []
    if category in QUERELA_CATEGORIES:
        due, moved = add_months(known_since, QUERELA_MONTHS)
        deadlines.append(_deadline("querela", due, moved, known_since, actions, today))
    if category in STALKING_CATEGORIES:
        due, moved = add_months(known_since, STALKING_MONTHS)
        deadlines.append(_deadline("querela_stalking", due, moved, known_since, actions, today))
    # The earlier of the two when both are known (a knowledge date before publication is a data error;
    # the earlier start is the cautious one).
    from_publication = published_on is not None and published_on <= known_since
    civil_start = published_on if from_publication else known_since
    due, moved = add_months(civil_start, CIVIL_DAMAGES_YEARS * 12)
    deadlines.append(_deadline("civil_damages", due, moved, civil_start, actions, today,
                               "publication" if from_publication else "knowledge"))
    demands = [a for a in actions if a["type"] == "removal_demand_sent"]
    if demands:
        latest = max(demands, key=lambda a: a["date"])
        sent = date.fromisoformat(latest["date"])
        due = date.fromisoformat(latest["due"]) if latest.get("due") else removal_demand_due(sent)
        deadlines.append(_deadline("removal_demand", due, False, sent, actions, today))
    return sorted(deadlines, key=lambda d: d["due"])


def _day(value: str, lang: str) -> str:
    day = date.fromisoformat(value)
    return f"{day:%d/%m/%Y}" if lang == "it" else f"{day:%d %b %Y}".lstrip("0")


def non_working_note(deadline: dict, lang: str, day=_day) -> str:
    """"20/02/2027 is a Saturday: file by Friday 19/02/2027.", or "" on a working day."""
    if not deadline.get("non_working"):
        return ""
    due, file_by = date.fromisoformat(deadline["due"]), date.fromisoformat(deadline["file_by"])
    if deadline["non_working"] == "holiday":
        what = i18n.text("legal", "non_working.holiday", lang).format(name=holiday_name(due, lang))
    else:
        what = i18n.text("legal", "non_working.weekday", lang).format(weekday=_weekday(due, lang))
    before = f"{_weekday(file_by, lang)} {day(deadline['file_by'], lang)}"
    return i18n.text("legal", "non_working.note", lang).format(due=day(deadline["due"], lang), what=what, before=before)


def _weekday(day: date, lang: str) -> str:
    return i18n.text("legal", f"weekday.{day.isoweekday()}", lang)


def explain(deadline: dict, lang: str = "it") -> str:
    """How a deadline was counted, in one or two sentences (calendar descriptions, PDFs, the dashboard)."""
    start, due = _day(deadline["counted_from"], lang), _day(deadline["due"], lang)
    kind = deadline["kind"]
    if kind == "removal_demand":
        return i18n.text("legal", "explain.removal_demand", lang).format(start=start, due=due)

    def words(key: str) -> str:
        return i18n.text("legal", f"explain.{key}", lang)

    amount, unit = {"querela": (3, "months"), "querela_stalking": (6, "months"), "civil_damages": (5, "years")}[kind]
    if kind != "civil_damages":
        origin = words("knowledge")
    else:
        origin = words("publication" if deadline.get("counted_from_kind") == "publication" else "knowledge_civil")
    text = words("sentence").format(amount=amount, unit=words(unit), origin=origin.format(start=start), due=due)
    if kind != "civil_damages":
        text += " " + words("hard")
    if deadline["uncertain"]:
        text += " " + words("month_end")
    note = non_working_note(deadline, lang)
    return f"{text} {note}" if note else text
