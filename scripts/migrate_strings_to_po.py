"""Run once (issue 9, item 5): move the strings of pdf_templates/strings/*.toml, server/templates/strings.json
and the Python label tables into server/locales/<lang>/LC_MESSAGES/testimone.po. Kept in the history only."""
import json
from datetime import datetime, timezone
import re
import tomllib
from pathlib import Path

from babel.messages.catalog import Catalog

from server import i18n
from server.domain import legal, profile
from server.domain.vocabulary import LANGUAGES
from server.render import ics
from server.trust import witness

ROOT = Path(__file__).resolve().parent.parent
entries = []  # (context, key, {lang: text}, [user comments])


def add(context, key, texts, comments=()):
    assert set(texts) == set(LANGUAGES), (context, key)
    entries.append((context, key, texts, list(comments)))


def flatten(table, prefix=""):
    for key, value in table.items():
        if isinstance(value, dict):
            if "it" in value:
                yield prefix + key, {"it": value["it"], "en": value["en"]}
            yield from flatten({k: v for k, v in value.items() if k not in ("it", "en")}, f"{prefix}{key}.")
        else:
            yield prefix + key, value


# 1. the PDFs: common.toml is the context "document", each document's file its own context
for name in ("common", "consent_request", "incident_report", "removal_demand", "takedown"):
    path = ROOT / "pdf_templates" / "strings" / f"{name}.toml"
    source = path.read_text(encoding="utf-8")
    head = [line[2:] for line in source.splitlines() if line.startswith("# ")] if name != "common" else []
    context = "document" if name == "common" else name
    for key, value in flatten(tomllib.loads(source)):
        if key == "version":
            add(context, key, {lang: value for lang in LANGUAGES},
                [line for line in head if "Bump" not in line] +
                ["The wording's version, printed in the footer: the same in every language. Bump it whenever",
                 "the wording of this document changes, in any language."])
        elif key == "month":
            for number in range(12):
                add(context, f"month.{number + 1}", {lang: value[lang][number] for lang in LANGUAGES})
        else:
            add(context, key, value, head if not any(e[0] == context for e in entries) else ())
add("document", "duration.day", {"it": "giorno", "en": "day"})
add("document", "duration.days", {"it": "giorni", "en": "days"})

# 2. the dashboard
for key, value in json.loads((ROOT / "server" / "templates" / "strings.json").read_text(encoding="utf-8")).items():
    add("dashboard", key, value)

# 3. the document types' buttons
for name, label in {"consent_request": {"it": "Richiesta di consenso (PDF)", "en": "Consent request (PDF)"},
                    "incident_report": {"it": "Relazione sull'episodio (PDF)", "en": "Incident report (PDF)"},
                    "removal_demand": {"it": "Diffida (PDF)", "en": "Removal demand (PDF)"},
                    "takedown": {"it": "Conferma di rimozione (PDF)", "en": "Takedown confirmation (PDF)"}}.items():
    add(name, "label", label, ["The dashboard's button for this document."])

# 4. server/domain/legal.py
for key, texts in legal.LABELS.items():
    add("legal", f"deadline.{key}", texts)
for key, texts in legal.CATEGORY_LABELS.items():
    add("legal", f"category.{key}", texts)
for key, texts in legal.STATUS_LABELS.items():
    add("legal", f"status.{key}", texts)
for key, texts in legal.CATEGORY_NOTES.items():
    add("legal", f"note.{key}", texts, ["Why a category gets (or does not get) a querela: worded cautiously (docs/legal.md)."]
        if key == "insult" else ())
for number in range(len(legal.ADVICE["it"])):
    add("legal", f"advice.{number + 1}", {lang: legal.ADVICE[lang][number] for lang in LANGUAGES},
        ["Shown whenever the owner takes the offence path."] if number == 0 else ())
WARNINGS = ["capture_first", "querela_clock", "no_money", "how_to_send", "facebook_hide", "tripadvisor"]
for name, (platforms, it, en) in zip(WARNINGS, legal.REMOVAL_DEMAND_WARNINGS, strict=True):
    add("legal", f"warning.{name}", {"it": it, "en": en},
        ["What the user must know before sending a removal demand; never printed in the letter."]
        if name == WARNINGS[0] else ())
add("legal", "disclaimer", legal.DISCLAIMER)
for number in range(7):
    add("legal", f"weekday.{number + 1}", {lang: legal.WEEKDAYS[lang][number] for lang in LANGUAGES},
        ["Monday is 1."] if number == 0 else ())
add("legal", "non_working.weekday", {"it": "{weekday}", "en": "a {weekday}"})
add("legal", "non_working.holiday", {"it": "festivo ({name})", "en": "a public holiday ({name})"})
add("legal", "non_working.note",
    {"it": "Il {due} è {what}: non contare su una proroga, agisci entro {before}, l'ultimo giorno lavorativo prima.",
     "en": "{due} is {what}: do not count on an extension, act by {before}, the last working day before it."},
    ["{what} is non_working.weekday or non_working.holiday; {before} is a weekday and a date."])
add("legal", "explain.removal_demand",
    {"it": "Diffida inviata il {start}: data indicata per adeguarsi {due}. Ha effetto dalla ricezione; non sospende "
           "il termine per la querela.",
     "en": "Removal demand sent on {start}: compliance date {due}. It takes effect on receipt; it does not stop the "
           "querela clock."})
for key in legal.EXPLAIN["it"]:
    add("legal", f"explain.{key}", {lang: legal.EXPLAIN[lang][key] for lang in LANGUAGES},
        ["How a deadline was counted: explain.sentence holds the others."] if key == "months" else ())

# 5. server/domain/profile.py, server/trust/witness.py, server/render/ics.py
add("profile", "placeholder", profile.PLACEHOLDER, ["A required field of the business profile left empty, in a PDF."])
for key, texts in profile.FIELD_NAMES.items():
    add("profile", f"field.{key}", texts)
for key, (it, en) in witness.MESSAGES.items():
    add("witness", f"outcome.{key}", {"it": it, "en": en})
add("calendar", "title", ics.TITLE, ["The deadlines feed (iCalendar): its name and the word before a case's short id."])
add("calendar", "case", ics.CASE_WORD)

seen = set()
for context, key, _, _ in entries:
    assert (context, key) not in seen, (context, key)
    seen.add((context, key))

catalogues = {}
for lang in LANGUAGES:
    catalogue = Catalog(locale=lang, domain=i18n.DOMAIN, project="Testimone", version="1",
                        copyright_holder="Testimone", msgid_bugs_address="", fuzzy=False,
                        last_translator="Testimone", language_team="Testimone",
                        creation_date=datetime(2026, 12, 1, tzinfo=timezone.utc),
                        revision_date=datetime(2026, 12, 1, tzinfo=timezone.utc),
                        header_comment="# Testimone's strings: the dashboard, the PDF documents, the API's messages.\n"
                                       "# Edit a msgstr, then run `python -m server.i18n` (docs/translating.md).")
    for context, key, texts, comments in entries:
        catalogue.add(key, texts[lang], context=context, user_comments=comments)
    catalogues[lang] = catalogue
for lang, data in i18n.canonical(catalogues).items():
    i18n.po_path(lang).parent.mkdir(parents=True, exist_ok=True)
    i18n.po_path(lang).write_bytes(data)
    print(i18n.po_path(lang), len(entries))
