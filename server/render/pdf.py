"""PDF documents: consent request, incident report, removal demand, takedown checklist.

Pure rendering, no store: callers pass the case record (the shape GET /api/captures/<id> returns, docs/api.md), the business
profile and the screenshot bytes. Templates, stylesheet and fonts live in pdf_templates/; the strings in the
gettext catalogues (server/i18n.py): a document's context, over the "document" context every one shares.

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
from collections import OrderedDict
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape
from PIL import Image

from .. import i18n
from ..domain import legal, profile as business_profile
from ..domain import vocabulary
from ..domain.vocabulary import LANGUAGES
from . import document_types, pool

LOGGER = logging.getLogger("testimone.documents")

TEMPLATE_DIR = (Path(__file__).resolve().parents[2] / "pdf_templates").resolve()
BASE_URL = TEMPLATE_DIR.as_uri() + "/"
LOCAL_ZONE = "Europe/Rome"
CACHE_SIZE = 64
# Bump when this module changes what it puts in the templates; the template files are hashed anyway.
RENDERER_VERSION = "1"


class DocumentError(ValueError):
    """The document does not apply to this case (e.g. a removal demand for a testimonial)."""


# -- assets and strings -------------------------------------------------------------------------

@lru_cache(maxsize=1)
def template_version() -> str:
    """Hash of every file under pdf_templates/, the catalogues and the renderer version: part of each cache key."""
    digest = hashlib.sha256(RENDERER_VERSION.encode())
    for path in sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file()):
        digest.update(path.relative_to(TEMPLATE_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    for lang in LANGUAGES:
        digest.update(lang.encode() + b"\0" + i18n.po_path(lang).read_bytes())
    return digest.hexdigest()[:12]


def string(catalogue: str, key: str, lang: str) -> str | None:
    """A document's text: its own context's (catalogue), else the one every document shares ("document")."""
    found = i18n.get(catalogue, key, lang)
    return found if found is not None else i18n.get("document", key, lang)


@lru_cache(maxsize=256)
def _asset(path: Path) -> bytes:
    return path.read_bytes()


def template_only_fetcher():
    """WeasyPrint's URL fetcher for documents. WeasyPrint is imported with the first document, not before:
    the server process only routes requests (the render workers make the PDFs), and loading it there
    cost about 0.9 s of every start and 40 MB."""
    return _fetcher_class()()


@lru_cache(maxsize=None)
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

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

    return TemplateOnlyFetcher


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
    month = i18n.text("document", f"month.{day.month}", lang)
    number = "1°" if lang == "it" and day.day == 1 else str(day.day)  # Italian writes "1° dicembre"
    return f"{number} {month} {day.year}"


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
    day_word = i18n.text("document", "duration.days" if days != 1 else "duration.day", lang)
    parts = [(days, f"{days} {day_word}"), (hours, f"{hours} h"), (minutes, f"{minutes} min"),
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
            "local": _format_instant(instant.astimezone(ZoneInfo(zone)), lang), "zone": zone,
            "day": instant.astimezone(ZoneInfo(zone)).date().isoformat()}


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


# -- what every document shows ------------------------------------------------------------------

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
    shot = _timestamps(context.get("screenshot_at_client"), zone, lang)
    browser_clock = i18n.text("document", "browser_clock", lang)
    return {"zone": zone, "posted": posted, "captured": captured, "context": context, "shot": shot,
            "shot_when": f"{shot['utc']} ({browser_clock})" if shot else (captured or {}).get("utc", ""),
            "short_id": record["id"][-6:], "sha256": record.get("sha256") or "",
            "author": record.get("author") or {}, "offence": record.get("offence") or {},
            "testimonial": record.get("testimonial") or {}}


def _platform(catalogue: str, platform: str, lang: str) -> str:
    """The platform's name from the catalogue; a platform added since shows as its own name."""
    return string(catalogue, f"platform.{platform}", lang) or vocabulary.label({}, platform, lang)


def document_date(record: dict, issued_on: date | None) -> date:
    """The date printed as the document's date: the issue date if given, else the capture date."""
    if issued_on:
        return issued_on
    captured = _parse_instant(record.get("captured_at"))
    return captured.astimezone(ZoneInfo(LOCAL_ZONE)).date() if captured else date(1970, 1, 1)


def render_html(document: str, record: dict, profile: dict | None, lang: str, screenshot: bytes | None = None,
                *, issued_on: date | None = None, **options) -> str:
    """The final HTML handed to WeasyPrint (exposed for the benchmark and the tests). `options` are the
    document's own (server/render/document_types.py), e.g. deadline_days for the removal demand."""
    kind = document_types.get(document)
    if kind is None:
        raise DocumentError(f"Unknown document '{document}'.")
    if lang not in LANGUAGES:
        raise DocumentError(f"Unknown language '{lang}'.")
    if not kind.applies(record):
        raise DocumentError(f"A {document.replace('_', ' ')} does not apply to case {record['id']}.")
    def t(key: str, **values) -> Markup:
        found = string(kind.catalogue, key, lang)
        if found is None:
            raise KeyError(f"No '{key}' for the {kind.name} in the '{lang}' catalogue")
        # Markup.format escapes every value except placeholders, which are already Markup.
        return escape(found).format(**values)

    def fmt_date(value: str | None) -> str:
        return _format_date(date.fromisoformat(value[:10]), lang) if value else ""

    day = document_date(record, issued_on)
    created = _parse_instant(record.get("captured_at")) or datetime(1970, 1, 1, tzinfo=timezone.utc)
    view = _record_view(record, lang)
    business = _business(profile, lang)
    context = {
        "lang": lang, "t": t, "has_string": lambda key: string(kind.catalogue, key, lang) is not None, "record": record, "r": view,
        "business": business, "screenshot": _screenshot(screenshot, record.get("screenshot_rect")),
        "document_version": i18n.text(kind.catalogue, "version", lang), "template_version": template_version(),
        "date_text": _format_date(day, lang), "created": created.astimezone(timezone.utc).isoformat(),
        "fmt_date": fmt_date, "hash": hash_groups,
        "number": lambda value, decimals=0, sign=False: format_number(value, lang, decimals, sign),
        "duration": lambda seconds: format_duration(seconds, lang),
        "status_label": lambda status: legal.STATUS_LABELS.get(status, {}).get(lang, status),
        "stamp": lambda value: _timestamps(value, view["zone"], lang),
        "platform": _platform(kind.catalogue, record.get("platform") or "other", lang),
        "platform_key": record.get("platform") or "other",
        # Only documents the business keeps say what the tool is (base.html); letters to others never do.
        "internal": kind.internal(record),
        "place": place_of(business["address_text"]),
    }
    context.update(kind.context(record, day, context, options))
    return ENV.get_template(kind.template).render(context)


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
    import weasyprint  # here, not at the top: see template_only_fetcher()

    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=template_only_fetcher())
    return document.write_pdf(pdf_identifier=hashlib.sha256(html.encode()).digest()[:16])


def render(document: str, record: dict, profile: dict | None, lang: str, screenshot: bytes | None = None,
           *, issued_on: date | None = None, **options) -> bytes:
    """The PDF bytes, from the cache when nothing that the document shows has changed."""
    key = (template_version(), document, record_hash(record), business_profile.profile_hash(profile), lang,
           hashlib.sha256(screenshot or b"").hexdigest(), tuple(sorted(options.items())), issued_on)
    cached = _cached(key)
    if cached is not None:
        return cached
    if pool.current() is not None:  # the server: in a worker process (server/render/pool.py)
        pdf = pool.run(write_pdf, render_html(document, record, profile, lang, screenshot, issued_on=issued_on,
                                              **options))
    else:
        # In-process, one render at a time: WeasyPrint's font machinery is not known to be thread-safe.
        with _render_lock:
            cached = _cached(key)
            if cached is not None:
                return cached
            pdf = write_pdf(render_html(document, record, profile, lang, screenshot, issued_on=issued_on, **options))
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
    return f"testimone-{document_types.get(document).file_stem}-{record['id'][-6:]}-{day.isoformat()}.pdf"
