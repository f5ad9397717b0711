"""Deadlines and the legal vocabulary of an offence case (docs/legal.md). Pure functions, no I/O.

Testimone gives information, not legal advice: each deadline carries the rule it was counted by and
says so in plain words, and readings the law leaves open are flagged `uncertain`.
"""
import calendar
from datetime import date, timedelta

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


def deadline_status(kind: str, due: date, actions: list[dict], today: date) -> str:
    """`met` when the step the deadline asks for was taken in time, `missed` once it has passed, else `open`."""
    step = MET_BY.get(kind)
    if step and any(a["type"] == step and date.fromisoformat(a["date"]) <= due for a in actions):
        return "met"
    return "missed" if today > due else "open"


def _deadline(kind: str, due: date, uncertain: bool, start: date, actions: list[dict], today: date) -> dict:
    return {"kind": kind, "due": due.isoformat(), "basis": BASIS[kind],
            "status": deadline_status(kind, due, actions, today),
            "uncertain": uncertain, "counted_from": start.isoformat()}


def removal_demand_due(sent: date, days: int = REMOVAL_DEMAND_DAYS) -> date:
    return sent + timedelta(days=days)


def compute_deadlines(category: str, known_since: date, actions: list[dict], today: date) -> list[dict]:
    """Every deadline of an offence case, soonest first.

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
    due, moved = add_months(known_since, CIVIL_DAMAGES_YEARS * 12)
    deadlines.append(_deadline("civil_damages", due, moved, known_since, actions, today))
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
    amount = {"querela": (3, "mesi", "months"), "querela_stalking": (6, "mesi", "months"),
              "civil_damages": (5, "anni", "years")}[kind]
    if lang == "it":
        text = (f"{amount[0]} {amount[1]} dal giorno in cui hai avuto piena conoscenza del fatto e dell'autore "
                f"({start}), senza contare quel giorno: stesso numero del giorno, {due}.")
        if kind != "civil_damages":
            text += " Termine rigido: nessuna proroga per festivi o ferie."
        if deadline["uncertain"]:
            text += (" Quel giorno non esiste nel mese di scadenza: indicato l'ultimo giorno del mese "
                     "(da confermare con il tuo avvocato).")
    else:
        text = (f"{amount[0]} {amount[2]} from the day you fully learned of the fact and its author ({start}), "
                f"not counting that day: same day-number, {due}.")
        if kind != "civil_damages":
            text += " A hard deadline: no extension for holidays or the summer break."
        if deadline["uncertain"]:
            text += (" That day does not exist in the final month: the last day of the month is shown "
                     "(to be confirmed by your lawyer).")
    return text
