"""PDF documents: consent request, incident report, removal demand, takedown checklist.

Pure rendering, no store: callers pass the case record (server-contract.md shape), the business
profile and the screenshot bytes. Templates, stylesheet, fonts and strings live in pdf_templates/.

Safety: Jinja autoescapes everything, so captured content is only ever text. WeasyPrint gets a URL
fetcher that serves files under pdf_templates/ and data: URIs and refuses anything else with a
logged warning, so even markup that slipped through could not make it read a file or the network.

Determinism: the PDF's dates come from the record, never from the clock, so the same inputs give
the same bytes; that is also what makes the in-memory cache safe.
"""
import base64
import ctypes
import ctypes.util
import hashlib
import io
import json
import logging
import mimetypes
import re
import threading
import tomllib
from collections import OrderedDict
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo

import jinja2
import weasyprint
from markupsafe import Markup, escape
from PIL import Image
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..domain import legal, profile as business_profile
from ..trust.clock import clock_report

LOGGER = logging.getLogger("testimone.documents")

TEMPLATE_DIR = (Path(__file__).resolve().parents[2] / "pdf_templates").resolve()
BASE_URL = TEMPLATE_DIR.as_uri() + "/"
DOCUMENTS = ("consent_request", "incident_report", "removal_demand", "takedown")
LANGUAGES = ("it", "en")
FILE_KINDS = {"consent_request": "consent-request", "incident_report": "incident-report",
              "removal_demand": "removal-demand", "takedown": "takedown"}
LOCAL_ZONE = "Europe/Rome"
DEFAULT_DEADLINE_DAYS = legal.REMOVAL_DEMAND_DAYS
CACHE_SIZE = 64
# Bump when this module changes what it puts in the templates; the template files are hashed anyway.
RENDERER_VERSION = "1"


class DocumentError(ValueError):
    """The document does not apply to this case (e.g. a removal demand for a testimonial)."""


# -- assets and strings -------------------------------------------------------------------------

@lru_cache(maxsize=1)
def template_version() -> str:
    """Hash of every file under pdf_templates/ plus the renderer version: part of each cache key."""
    digest = hashlib.sha256(RENDERER_VERSION.encode())
    for path in sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file()):
        digest.update(path.relative_to(TEMPLATE_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=None)
def catalogue(document: str) -> dict:
    """The document's strings over the common ones: {key: {"it": ..., "en": ...}} (nested keys flattened)."""
    merged = {}
    for name in ("common", document):
        with open(TEMPLATE_DIR / "strings" / f"{name}.toml", "rb") as file:
            merged.update(_flatten(tomllib.load(file)))
    return merged


def _flatten(table: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in table.items():
        if isinstance(value, dict):
            if "it" in value:
                flat[prefix + key] = {"it": value["it"], "en": value["en"]}
            flat.update(_flatten({k: v for k, v in value.items() if k not in ("it", "en")}, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


@lru_cache(maxsize=256)
def _asset(path: Path) -> bytes:
    return path.read_bytes()


class TemplateOnlyFetcher(URLFetcher):
    """Serve pdf_templates/ files and data: URIs; refuse every other URL, and say so in the log."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)  # urllib's DataHandler decodes it in memory
        if url.startswith("file:"):
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if path.is_relative_to(TEMPLATE_DIR) and path.is_file():
                media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, _asset(path), {"Content-Type": media_type})
        LOGGER.warning("Refused to fetch %s: documents load only their own assets and data: URIs", url[:200])
        raise ValueError(f"URL refused by Testimone: {url[:200]}")


def link(url: str | None, text: str | None = None) -> Markup:
    """An <a> only for http(s) URLs (a javascript: or file: link must never become clickable)."""
    if not url:
        return Markup("")
    shown = Markup('<span class="url">{}</span>').format(text or url)
    if urlsplit(url).scheme.lower() in ("http", "https"):
        return Markup('<a href="{}">{}</a>').format(url, shown)
    return shown


def _environment() -> jinja2.Environment:
    # Optional record fields may be absent (older records, erased ones): they render as nothing.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["link"] = link
    return env


ENV = _environment()


# -- formatting ---------------------------------------------------------------------------------

def _parse_instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
        instant.astimezone(timezone.utc)  # a stored 9999-12-31T23:59:59-01:00 cannot be shown: treat as unparsable
    except (ValueError, OverflowError):
        return None
    return instant


def _format_date(day: date, lang: str) -> str:
    months = catalogue("common")["month"][lang]
    number = "1°" if lang == "it" and day.day == 1 else str(day.day)  # Italian writes "1° dicembre"
    return f"{number} {months[day.month - 1]} {day.year}"


MINUS = "\u2212"  # a real minus sign, not a hyphen


def format_number(value: float, lang: str, decimals: int = 0, sign: bool = False) -> str:
    """1.841.207 / −855,5 in Italian; 1,841,207 / −855.5 in English."""
    text = f"{abs(value):,.{decimals}f}"
    if lang == "it":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    if value < 0:
        return MINUS + text
    return f"+{text}" if sign and value > 0 else text


def format_duration(seconds: float, lang: str) -> str:
    """A difference in human units: "14 min 16 s", "10 giorni 18 h", "2,5 s"."""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{format_number(seconds, lang, 1)} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    day_word = ("giorno", "giorni") if lang == "it" else ("day", "days")
    parts = [(days, f"{days} {day_word[days != 1]}"), (hours, f"{hours} h"), (minutes, f"{minutes} min"),
             (rest, f"{rest} s")]
    shown = [text for amount, text in parts if amount][:2]
    return " ".join(shown)


def hash_groups(value: str | None) -> Markup:
    """A SHA-256 in 8 groups of 8 characters that never break inside a group (a wrapped hash read as
    one value with a stray character on the next line)."""
    if not value:
        return Markup("")
    groups = [value[i:i + 8] for i in range(0, len(value), 8)]
    return Markup(" ").join(Markup('<span class="group">{}</span>').format(g) for g in groups)


def place_of(address: str | None) -> str | None:
    """The town of an Italian address ("Via X 12, 30033 Noale (VE)" → "Noale"), for "Noale, 1° dicembre 2026"."""
    match = re.search(r"\b\d{5}\s+([^,()\d]+?)\s*(?:\([A-Za-z]{2}\))?\s*(?:,\s*(?:Italia|Italy))?\s*$", address or "")
    return match[1].strip() if match else None


def _format_instant(instant: datetime, lang: str) -> str:
    return f"{_format_date(instant.date(), lang)}, {instant:%H:%M:%S}"


def _timestamps(value: str | None, zone: str, lang: str) -> dict | None:
    """{"utc": ..., "local": ..., "zone": ...} for an ISO 8601 instant; None when absent or unparsable."""
    instant = _parse_instant(value)
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return {"utc": _format_instant(instant.astimezone(timezone.utc), lang) + " UTC",
            "local": _format_instant(instant.astimezone(ZoneInfo(zone)), lang), "zone": zone}


def _zone(record: dict) -> str:
    zone = (record.get("context") or {}).get("timezone") or LOCAL_ZONE
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError, OSError):
        return LOCAL_ZONE
    return zone


# -- screenshot ---------------------------------------------------------------------------------

def _screenshot(data: bytes | None, rect: dict | None) -> dict | None:
    """A data: URI of the PNG/JPEG screenshot and the comment's rectangle as percentages of the image."""
    if not data:
        return None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        media_type = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        media_type = "image/jpeg"
    else:
        LOGGER.warning("Screenshot omitted: neither PNG nor JPEG")
        return None
    try:
        width, height = Image.open(io.BytesIO(data)).size  # reads the header only
    except Exception:  # a corrupt image is left out, the document still renders
        LOGGER.warning("Screenshot omitted: unreadable image")
        return None
    shot = {"src": f"data:{media_type};base64,{base64.b64encode(data).decode()}", "mark": None}
    if rect and all(isinstance(rect.get(k), (int, float)) for k in ("x", "y", "width", "height")):
        x, y = max(rect["x"], 0), max(rect["y"], 0)
        right, bottom = min(rect["x"] + rect["width"], width), min(rect["y"] + rect["height"], height)
        if right > x and bottom > y:
            shot["mark"] = {"left": 100 * x / width, "top": 100 * y / height,
                            "width": 100 * (right - x) / width, "height": 100 * (bottom - y) / height}
    return shot


# -- what each document shows -------------------------------------------------------------------

def _withdrawal(record: dict) -> dict | None:
    return (record.get("consent") or {}).get("withdrawal")


def applies(document: str, record: dict) -> bool:
    """Whether a document exists for this case: the routes answer 409 otherwise."""
    if document == "consent_request":
        return record["kind"] == "testimonial"
    if document == "takedown":
        return record["kind"] == "testimonial" and _withdrawal(record) is not None
    return record["kind"] == "offence"


def document_for(record: dict) -> str:
    """The main document of a case: consent request for a testimonial, incident report for an offence."""
    return "consent_request" if record["kind"] == "testimonial" else "incident_report"


def _deadlines(record: dict, issued_on: date) -> list[dict]:
    """The deadlines as of the issue date, computed by server/domain/legal.py from the record (a stored list
    may predate the current counting rules)."""
    known = record.get("known_since") or (record.get("offence") or {}).get("known_since")
    category = (record.get("offence") or {}).get("category", "other")
    if not known:
        return record.get("deadlines") or []
    try:
        known_day = date.fromisoformat(known)
    except ValueError:
        return record.get("deadlines") or []
    return legal.compute_deadlines(category, known_day, record.get("actions", []), issued_on,
                                   legal.publication_date(record, _zone(record)))


def _business(profile: dict, lang: str) -> dict:
    """Profile values, with a visible placeholder for each required field that is empty."""
    full = business_profile.complete(profile)
    shown = {}
    for field in business_profile.FIELDS:
        value = full[field]
        if not value and field in business_profile.REQUIRED:
            value = Markup('<span class="placeholder">{}</span>').format(
                business_profile.placeholder(field, lang))
        shown[field] = value
    # Plain text for the running header and PDF metadata, where markup cannot go.
    shown["name_text"] = full["business_name"] or business_profile.placeholder("business_name", lang)
    shown["address_text"] = full["address"]
    return shown


def _record_view(record: dict, lang: str) -> dict:
    zone = _zone(record)
    context = record.get("context") or {}
    posted = _timestamps(record.get("posted_at"), zone, lang)
    captured = _timestamps(record.get("captured_at"), zone, lang)
    return {"zone": zone, "posted": posted, "captured": captured, "context": context,
            "short_id": record["id"][-6:], "sha256": record.get("sha256") or "",
            "author": record.get("author") or {}, "offence": record.get("offence") or {},
            "testimonial": record.get("testimonial") or {}}


def document_date(record: dict, issued_on: date | None) -> date:
    """The date printed as the document's date: the issue date if given, else the capture date."""
    if issued_on:
        return issued_on
    captured = _parse_instant(record.get("captured_at"))
    return captured.astimezone(ZoneInfo(LOCAL_ZONE)).date() if captured else date(1970, 1, 1)


# Documents kept by the business (they carry the one-line "information, not legal advice" note); the
# others go to third parties and say nothing about the tool.
INTERNAL = {"incident_report", "takedown_pending"}
# Above this difference between the server's and the browser's clocks, the incident report warns.
CLOCK_WARNING_SECONDS = 60
# Every event a case's history may hold, translated in incident_report.toml ("event.<code>").
EVENTS = ("evidence.added", "clock.recorded", "timestamp.pending", "timestamp.stamped", "witness.capture",
          "witness.recheck", "action.recorded", "case.updated", "consent.answered", "consent.withdrawn",
          "placement.added", "placement.removed")
# Consent request: how long the captured copy is kept without an answer, and the consent log after use.
CONSENT_ANSWER_DAYS = 30
CONSENT_LOG_YEARS = 10


def render_html(document: str, record: dict, profile: dict | None, lang: str, screenshot: bytes | None = None,
                *, deadline_days: int = DEFAULT_DEADLINE_DAYS, issued_on: date | None = None) -> str:
    """The final HTML handed to WeasyPrint (exposed for the benchmark and the tests)."""
    if document not in DOCUMENTS:
        raise DocumentError(f"Unknown document '{document}'.")
    if lang not in LANGUAGES:
        raise DocumentError(f"Unknown language '{lang}'.")
    if not applies(document, record):
        raise DocumentError(f"A {document.replace('_', ' ')} does not apply to case {record['id']}.")
    strings = catalogue(document)

    def t(key: str, **values) -> Markup:
        # Markup.format escapes every value except placeholders, which are already Markup.
        return escape(strings[key][lang]).format(**values)

    def fmt_date(value: str | None) -> str:
        return _format_date(date.fromisoformat(value[:10]), lang) if value else ""

    day = document_date(record, issued_on)
    created = _parse_instant(record.get("captured_at")) or datetime(1970, 1, 1, tzinfo=timezone.utc)
    view = _record_view(record, lang)
    business = _business(profile, lang)
    context = {
        "lang": lang, "t": t, "record": record, "r": view, "business": business,
        "screenshot": _screenshot(screenshot, record.get("screenshot_rect")),
        "document_version": strings["version"], "template_version": template_version(),
        "date_text": _format_date(day, lang), "created": created.astimezone(timezone.utc).isoformat(),
        "fmt_date": fmt_date, "number": lambda value, decimals=0: format_number(value, lang, decimals),
        "hash": hash_groups,
        "status_label": lambda status: legal.STATUS_LABELS.get(status, {}).get(lang, status),
        "stamp": lambda value: _timestamps(value, view["zone"], lang),
        "platform": t(f"platform.{record.get('platform') or 'other'}"),
        "platform_key": record.get("platform") or "other",
        "internal": document in INTERNAL,
    }
    builders = {"incident_report": _incident_context, "consent_request": _consent_context,
                "removal_demand": _removal_context, "takedown": _takedown_context}
    context.update(builders[document](record, context, day, deadline_days=deadline_days))
    return ENV.get_template(f"{document}.html").render(context)


def _target(record: dict) -> dict:
    """Who the content targets: the business (default), a named person, or both (issue: the querela is
    filed by whoever was offended)."""
    offence = record.get("offence") or {}
    person = offence.get("target_person")
    target = offence.get("target") if offence.get("target") in ("person", "both") and person else "business"
    statements = [s for s in offence.get("false_statements") or [] if s]
    return {"target": target, "target_person": person if target != "business" else None,
            "false_statements": statements}


def _incident_context(record: dict, context: dict, day: date, **_) -> dict:
    lang, t, fmt_date = context["lang"], context["t"], context["fmt_date"]
    deadlines = _deadlines(record, day)
    notes = {d["kind"]: legal.non_working_note(d, lang, day=lambda value, _lang: fmt_date(value)) for d in deadlines}
    category = (record.get("offence") or {}).get("category") or "other"
    shown, others = legal.qualifications(category)
    known = catalogue("incident_report")

    def outcome_label(outcome: str | None) -> Markup:
        key = f"witness_outcome.{outcome}"
        return t(key if key in known else "witness_outcome.error")

    return {**_target(record), "deadlines": deadlines, "non_working_notes": notes, "qualifications": shown,
            "other_names": ", ".join(str(t(f"q_name.{q}")) for q in others),
            "clock": _clock(record, context), "timestamp": record.get("timestamp") or {},
            "witnesses": record.get("witness") or [], "outcome_label": outcome_label,
            "events": _events(record, context, outcome_label),
            "evidence": _evidence_rows(record, t, outcome_label)}


def _clock(record: dict, context: dict) -> dict:
    lang, zone = context["lang"], context["r"]["zone"]
    clock = record.get("clock") or clock_report(record)
    utc = {name: (_timestamps(clock.get(name), zone, lang) or {}).get("utc") for name in ("server", "client")}
    difference = clock.get("difference_seconds")
    shown = {**clock, "server_text": utc["server"], "client_text": utc["client"], "warning": False,
             "threshold": format_duration(CLOCK_WARNING_SECONDS, lang)}
    if difference is not None:
        shown.update(difference_text=format_number(difference, lang, 1, sign=True),
                     human=format_duration(difference, lang), browser_ahead=difference < 0,
                     warning=abs(difference) > CLOCK_WARNING_SECONDS)
    ntp = clock.get("ntp") or {}
    if ntp.get("offset_seconds") is not None:
        shown["ntp_text"] = format_number(ntp["offset_seconds"], lang, 3, sign=True)
    return shown


def _events(record: dict, context: dict, outcome_label) -> list[dict]:
    """History events as translated sentences (the capture has its own row; downloads are not shown)."""
    t = context["t"]
    rows = []
    for event in record.get("history") or []:
        code = str(event.get("event", ""))
        if code == "capture.created" or code.startswith("document."):
            continue
        if code in EVENTS:
            text = t(f"event.{code}", file=event.get("name") or event.get("file") or "",
                     tsa=event.get("tsa") or "", outcome=outcome_label(event.get("outcome")))
        else:
            text = t("event.other")
        rows.append({"when": context["stamp"](event.get("at")), "text": text})
    return rows


EVIDENCE_KINDS = ("screenshot.", "page.", "comment.", "capture.json", "timestamp.tsq", "timestamp.tsr",
                  "timestamp-chain", "witness-", "consent-", "removal-")


def _evidence_rows(record: dict, t, outcome_label) -> list[dict]:
    """The evidence register: each file with what it is (a second-witness report says what it found)."""
    witnesses = {w.get("file"): w for w in record.get("witness") or []}
    rows = []
    for item in record.get("evidence") or []:
        name = item["name"]
        kind = next((k for k in EVIDENCE_KINDS if name.startswith(k)), None)
        if kind == "witness-":
            what = t("file.witness-", outcome=outcome_label((witnesses.get(name) or {}).get("outcome")))
        else:
            what = t(f"file.{kind}") if kind else ""
        rows.append({**item, "what": what})
    return rows


def _consent_context(record: dict, context: dict, day: date, **_) -> dict:
    captured = _parse_instant(record.get("captured_at"))
    captured_day = captured.astimezone(ZoneInfo(LOCAL_ZONE)).date() if captured else day
    inform_by, _ = legal.add_months(captured_day, 1)
    purposes = (record.get("testimonial") or {}).get("purposes") or ["website", "landing_page", "social", "print", "ads"]
    recipients = (["hosting"] if {"website", "landing_page"} & set(purposes) else []) + \
        [p for p in ("social", "print", "ads") if p in purposes]
    accounts = context["business"]["social_accounts"] or Markup('<span class="placeholder">{}</span>').format(
        business_profile.placeholder("social_accounts", context["lang"]))
    return {"purposes": purposes, "recipient_purposes": recipients, "social_accounts": accounts, "captured_day": context["fmt_date"](captured_day.isoformat()),
            "inform_by": context["fmt_date"](inform_by.isoformat()), "informed_in_time": day <= inform_by,
            "answer_days": CONSENT_ANSWER_DAYS, "log_years": CONSENT_LOG_YEARS}


def _with_article(day_text: str, lang: str) -> str:
    """Italian puts the article before a date: "il 1° dicembre", "l'8 dicembre", "l'11 dicembre"."""
    if lang != "it":
        return day_text
    return ("l'" if day_text.startswith(("8 ", "11 ")) else "il ") + day_text


def quoted_list(items: list[str], lang: str) -> str:
    """«A», «B» e «C» / "A", "B" and "C"."""
    marks, conjunction = (("«", "»"), " e ") if lang == "it" else (('"', '"'), " and ")
    quoted = [f"{marks[0]}{item}{marks[1]}" for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + conjunction + quoted[-1]


def _removal_context(record: dict, context: dict, day: date, *, deadline_days: int, **_) -> dict:
    business, target = context["business"], _target(record)
    statements = target["false_statements"]
    names = {"business": [business["name_text"]], "person": [target["target_person"]],
             "both": [business["name_text"], target["target_person"]]}[target["target"]]
    return {**target, "target_text": f" {context['t']('and')} ".join(names), "target_statements": statements,
            "deadline_days": deadline_days,
            "false_statements": quoted_list(statements, context["lang"]) if statements else None,
            "comply_by": _with_article(context["fmt_date"](legal.removal_demand_due(day, deadline_days).isoformat()),
                                       context["lang"]),
            "place": place_of(business["address_text"])}


def _takedown_context(record: dict, context: dict, day: date, **_) -> dict:
    placements = record.get("placements") or []
    pending = [p for p in placements if not p.get("removed_at")]
    # The checklist is the business's own; the confirmation goes to the author.
    return {"internal": bool(pending), "withdrawal": _withdrawal(record), "placements": placements, "pending": pending,
            "last_removed": max((p["removed_at"] for p in placements if p.get("removed_at")), default=None)}


# -- PDF and cache ------------------------------------------------------------------------------

_cache: "OrderedDict[tuple, tuple[str, bytes]]" = OrderedDict()
_cache_lock = threading.Lock()
_render_lock = threading.Lock()


def record_hash(record: dict) -> str:
    """Hash of everything in the record a document may show (download audit events are left out)."""
    shown = {**record, "history": [e for e in record.get("history", [])
                                   if not str(e.get("event", "")).startswith("document.")]}
    canonical = json.dumps(shown, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# Pango asks fontconfig for the generic family "emoji", with colour preferred, for every emoji sequence,
# and the system's rules put a colour font first (Noto Color Emoji, installed on most desktops). Colour
# glyphs are bitmaps: slow to embed and they differ from machine to machine. This rule puts the bundled
# monochrome font (style.css's "Testimone Emoji") first for those requests. Pango applies the rules of
# fontconfig's *current* configuration, not of WeasyPrint's per-document one, hence ctypes and not
# WeasyPrint's FontConfiguration. Text runs never name "emoji", so digits and letters are not affected.
EMOJI_RULE = b"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <match target="pattern">
    <test name="family"><string>emoji</string></test>
    <edit name="family" mode="prepend_first" binding="strong"><string>Testimone Emoji</string></edit>
    <edit name="color" mode="assign" binding="strong"><bool>false</bool></edit>
  </match>
</fontconfig>"""


@lru_cache(maxsize=1)
def prefer_bundled_emoji() -> bool:
    """Add EMOJI_RULE to fontconfig's current configuration, once per process; False if it could not."""
    library = ctypes.util.find_library("fontconfig")
    try:
        fontconfig = ctypes.CDLL(library or "libfontconfig.so.1")
    except OSError:
        LOGGER.warning("fontconfig not found: emoji may render from a system colour font")
        return False
    fontconfig.FcConfigGetCurrent.restype = ctypes.c_void_p
    fontconfig.FcConfigParseAndLoadFromMemory.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    return bool(fontconfig.FcConfigParseAndLoadFromMemory(fontconfig.FcConfigGetCurrent(), EMOJI_RULE, 1))


def write_pdf(html: str) -> bytes:
    """WeasyPrint with the template-only fetcher; the PDF identifier is derived from the content."""
    prefer_bundled_emoji()
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=TemplateOnlyFetcher())
    return document.write_pdf(pdf_identifier=hashlib.sha256(html.encode()).digest()[:16])


def render(document: str, record: dict, profile: dict | None, lang: str, screenshot: bytes | None = None,
           *, deadline_days: int = DEFAULT_DEADLINE_DAYS, issued_on: date | None = None) -> bytes:
    """The PDF bytes, from the cache when nothing that the document shows has changed."""
    key = (template_version(), document, record_hash(record), business_profile.profile_hash(profile), lang,
           hashlib.sha256(screenshot or b"").hexdigest(), deadline_days, issued_on)
    cached = _cached(key)
    if cached is not None:
        return cached
    # One render at a time: WeasyPrint's font machinery is not known to be thread-safe, a local server
    # has one user, and a second request for the same PDF then waits for the first instead of redoing it.
    with _render_lock:
        cached = _cached(key)
        if cached is not None:
            return cached
        html = render_html(document, record, profile, lang, screenshot, deadline_days=deadline_days,
                           issued_on=issued_on)
        pdf = write_pdf(html)
        with _cache_lock:
            _cache[key] = (record["id"], pdf)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return pdf


def _cached(key: tuple) -> bytes | None:
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key][1]
    return None


def forget(case_id: str) -> None:
    """Drop every cached PDF of a case (after an erasure they would still hold the erased text)."""
    with _cache_lock:
        for key in [k for k, (owner, _) in _cache.items() if owner == case_id]:
            del _cache[key]


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def filename(document: str, record: dict, day: date) -> str:
    return f"testimone-{FILE_KINDS[document]}-{record['id'][-6:]}-{day.isoformat()}.pdf"
