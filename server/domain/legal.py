"""Deadlines and the legal vocabulary of an offence case (docs/legal.md). Pure functions, no I/O.

Testimone gives information, not legal advice: each deadline carries the rule it was counted by and
says so in plain words, readings the law leaves open are flagged `uncertain`, and a due date on a
Saturday, Sunday or Italian public holiday is flagged with the working day before it (no extension
is counted on: the cautious reading).
"""
import calendar
import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

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

LABELS = {
    "querela": {"it": "Termine per la querela", "en": "Deadline for the criminal complaint (querela)"},
    "querela_stalking": {"it": "Termine per la querela (atti persecutori)",
                         "en": "Deadline for the criminal complaint (stalking)"},
    "civil_damages": {"it": "Prescrizione del risarcimento", "en": "Limitation for civil damages"},
    "removal_demand": {"it": "Scadenza della diffida", "en": "Removal demand: compliance date"},
}

CATEGORY_LABELS = {
    "insult": {"it": "insulto", "en": "insult"},
    "defamation": {"it": "diffamazione", "en": "defamation"},
    "threat_or_blackmail": {"it": "minaccia o ricatto", "en": "threat or blackmail"},
    "fake_review": {"it": "recensione falsa", "en": "fake review"},
    "harassment": {"it": "molestie", "en": "harassment"},
    "other": {"it": "altro", "en": "other"},
}

STATUS_LABELS = {
    "open": {"it": "aperto", "en": "open"},
    "met": {"it": "rispettato", "en": "met"},
    "missed": {"it": "scaduto", "en": "missed"},
}

# Why a category gets (or does not get) a querela, worded as docs/legal.md asks: cautiously.
CATEGORY_NOTES = {
    "insult": {
        "it": "Un insulto pubblicato e letto in seguito, in tua assenza, può essere diffamazione (art. 595 c.p.; "
              "Cass. I 409/2024). Un insulto scambiato in diretta è ingiuria: non è più reato (d.lgs. 7/2016), "
              "solo illecito civile, senza querela né termine di 3 mesi.",
        "en": "An insult posted and read later, while you were absent, may be defamation (art. 595 c.p.; "
              "Cass. I 409/2024). An insult exchanged live is ingiuria: no longer a crime (d.lgs. 7/2016), only "
              "a civil wrong, with no criminal complaint and no 3-month term.",
    },
    "defamation": {
        "it": "Diffamazione (art. 595 c.p.), procedibile solo a querela; su Facebook è un «mezzo di pubblicità» "
              "(c.3).",
        "en": "Defamation (art. 595 c.p.) is prosecuted only on the victim's complaint; Facebook counts as "
              "\"other means of publicity\" (para. 3).",
    },
    "fake_review": {
        "it": "Una recensione che attribuisce fatti falsi può essere diffamazione (art. 595 c.p.). Una critica "
              "vera e misurata è lecita.",
        "en": "A review that states false facts may be defamation (art. 595 c.p.). True, measured criticism "
              "is lawful.",
    },
    "threat_or_blackmail": {
        "it": "«Sconto o recensione negativa» può essere tentata estorsione (artt. 56, 629 c.p.): procedibile "
              "d'ufficio, senza termine, da denunciare subito. Il termine di querela indicato vale per l'eventuale "
              "contenuto diffamatorio. La qualificazione spetta all'avvocato.",
        "en": "\"Discount or a bad review\" may be attempted extortion (artt. 56, 629 c.p.): prosecuted without "
              "a complaint, no term, report it at once. The querela deadline shown covers any defamatory "
              "content. The classification is the lawyer's.",
    },
    "harassment": {
        "it": "Atti persecutori (art. 612-bis c.p.) solo se ne ricorrono gli effetti (ansia o paura durature, "
              "abitudini cambiate): querela entro 6 mesi. Le molestie ripetute possono essere art. 660 c.p.",
        "en": "Stalking (art. 612-bis c.p.) only where its effects are present (lasting anxiety or fear, "
              "changed habits): complaint within 6 months. Repeated nuisance may be art. 660 c.p.",
    },
    "other": {
        "it": "Nessun termine penale calcolato: chiedi all'avvocato come qualificare il fatto.",
        "en": "No criminal deadline computed: ask your lawyer how to classify the facts.",
    },
}

# The seed's advice, shown whenever the owner takes the offence path.
ADVICE = {
    "it": ["Prima contatta il cliente e prova a rimediare: una recensione negativa ma vera e misurata è critica "
           "legittima, non un reato.",
           "Documenta e fai valere solo ciò che è falso, offensivo o un ricatto."],
    "en": ["First contact the customer and try to put things right: a negative but true and measured review is "
           "legitimate criticism, not an offence.",
           "Document and escalate only what is false, insulting or blackmail."],
}

# The possible legal qualifications the incident report details for each category; the others are
# named in one line (the lawyer may still see them in the facts). Keys of incident_report.toml "q.*".
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
# Each entry: (platforms it applies to, or None for all; Italian; English).
REMOVAL_DEMAND_WARNINGS = [
    (None, "Acquisisci il contenuto con Testimone prima di inviare la diffida (e ogni nuovo commento): "
           "l'autore potrebbe modificarlo o cancellarlo appena la riceve.",
     "Capture the content with Testimone before sending the demand (and every new comment): the author may "
     "edit or delete it as soon as they receive it."),
    (None, "La diffida non ferma il termine per la querela: i 3 mesi dalla notizia del fatto continuano a decorrere.",
     "A removal demand does not stop the querela clock: the 3 months from learning of the fact keep running."),
    (None, "Non subordinare mai la rinuncia alla querela a un pagamento: può essere a sua volta estorsione.",
     "Never make dropping a complaint conditional on money: that can itself be extortion."),
    (None, "Come inviarla: se conosci l'indirizzo dell'autore, PEC o raccomandata con avviso di ricevimento "
           "(la diffida ha effetto quando arriva, artt. 1334–1335 c.c.). Se conosci solo il profilo, mandala "
           "come messaggio privato sulla piattaforma, in allegato o incollata, e fai uno screenshot del "
           "messaggio inviato, con data e ora: è la prova dell'invio. Inviala il giorno stesso in cui la scarichi: "
           "il termine indicato nella lettera parte dalla sua data.",
     "How to send it: if you know the author's address, certified email (PEC) or registered letter with proof "
     "of delivery (the demand takes effect when it arrives, arts. 1334–1335 Civil Code). If you only know the "
     "profile, send it as a private message on the platform, attached or pasted, and take a screenshot of the "
     "sent message showing date and time: that proves it was sent. Send it on the day you download it: the "
     "term in the letter runs from its date."),
    (("facebook",), "Se il commento è sulla pagina della tua attività, nascondilo invece di cancellarlo: "
                    "resta visibile solo all'autore e ai suoi amici e resta come prova; cancellato, la prova sparisce.",
     "If the comment is on your business's own page, hide it instead of deleting it: only the author and their "
     "friends still see it, and it remains as evidence; deleted, the evidence is gone."),
    (("tripadvisor",), "Minacciare chi ha scritto una recensione su Tripadvisor porta Tripadvisor a penalizzare "
                       "l'attività: valuta con l'avvocato se inviare la diffida o segnalare la recensione.",
     "Threatening a Tripadvisor reviewer gets the business penalised by Tripadvisor: discuss with your lawyer "
     "whether to send the demand or to report the review."),
]


def removal_demand_warnings(platform: str | None, lang: str) -> list[str]:
    return [warning[1 if lang == "it" else 2] for warning in REMOVAL_DEMAND_WARNINGS
            if warning[0] is None or platform in warning[0]]


DISCLAIMER = {
    "it": "Testimone fornisce informazioni, non consulenza legale: verifica i termini con il tuo avvocato.",
    "en": "Testimone gives information, not legal advice: check these deadlines with your lawyer.",
}


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


WEEKDAYS = {"it": ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"],
            "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}


def non_working_note(deadline: dict, lang: str, day=_day) -> str:
    """"20/02/2027 is a Saturday: file by Friday 19/02/2027.", or "" on a working day."""
    if not deadline.get("non_working"):
        return ""
    due, file_by = date.fromisoformat(deadline["due"]), date.fromisoformat(deadline["file_by"])
    what = (f"{WEEKDAYS[lang][due.weekday()]}" if deadline["non_working"] != "holiday" else
            {"it": "festivo ({name})", "en": "a public holiday ({name})"}[lang].format(name=holiday_name(due, lang)))
    before = f"{WEEKDAYS[lang][file_by.weekday()]} {day(deadline['file_by'], lang)}"
    if lang == "it":
        return (f"Il {day(deadline['due'], lang)} è {what}: non contare su una proroga, agisci entro {before}, "
                "l'ultimo giorno lavorativo prima.")
    article = "" if deadline["non_working"] == "holiday" else "a "
    return (f"{day(deadline['due'], lang)} is {article}{what}: do not count on an extension, act by {before}, "
            "the last working day before it.")


EXPLAIN = {
    "it": {"months": "mesi", "years": "anni",
           "knowledge": "dal giorno in cui hai avuto notizia del fatto ({start}), anche se l'autore è ignoto",
           "knowledge_civil": "dal giorno in cui hai avuto notizia del fatto ({start}), perché la data di "
                              "pubblicazione non è nota: se è anteriore, il termine scade prima",
           "publication": "dal giorno della pubblicazione ({start})",
           "sentence": "{amount} {unit} {origin}, senza contare quel giorno: stesso numero del giorno, {due}.",
           "hard": " Termine rigido: nessuna proroga per festivi o ferie.",
           "month_end": " Quel giorno non esiste nel mese di scadenza: indicato l'ultimo giorno del mese "
                        "(da confermare con il tuo avvocato)."},
    "en": {"months": "months", "years": "years",
           "knowledge": "from the day you learned of the fact ({start}), even if the author is unknown",
           "knowledge_civil": "from the day you learned of the fact ({start}), because the publication date is "
                              "not known: if it is earlier, the period ends earlier",
           "publication": "from the day of publication ({start})",
           "sentence": "{amount} {unit} {origin}, not counting that day: same day-number, {due}.",
           "hard": " A hard deadline: no extension for holidays or the summer break.",
           "month_end": " That day does not exist in the final month: the last day of the month is shown "
                        "(to be confirmed by your lawyer)."},
}


def explain(deadline: dict, lang: str = "it") -> str:
    """How a deadline was counted, in one or two sentences (calendar descriptions, PDFs, the dashboard)."""
    start, due = _day(deadline["counted_from"], lang), _day(deadline["due"], lang)
    kind = deadline["kind"]
    if kind == "removal_demand":
        text = {"it": f"Diffida inviata il {start}: data indicata per adeguarsi {due}. Ha effetto dalla "
                      "ricezione; non sospende il termine per la querela.",
                "en": f"Removal demand sent on {start}: compliance date {due}. It takes effect on receipt; it "
                      "does not stop the querela clock."}[lang]
        return text
    words = EXPLAIN[lang]
    amount, unit = {"querela": (3, "months"), "querela_stalking": (6, "months"), "civil_damages": (5, "years")}[kind]
    if kind != "civil_damages":
        origin = words["knowledge"]
    else:
        origin = words["publication" if deadline.get("counted_from_kind") == "publication" else "knowledge_civil"]
    text = words["sentence"].format(amount=amount, unit=words[unit], origin=origin.format(start=start), due=due)
    if kind != "civil_damages":
        text += words["hard"]
    if deadline["uncertain"]:
        text += words["month_end"]
    note = non_working_note(deadline, lang)
    return f"{text} {note}" if note else text
