"""Documents: the PDF of a case (rendered, signed, its download audited), what to know before sending a
removal demand, the business profile the documents are signed with, and the sample documents.

Which documents exist, and for which cases: server/render/document_types.py.
"""
import hashlib
from datetime import date
from pathlib import Path
from typing import NamedTuple

from ..domain import legal, profile
from ..domain.errors import Invalid, NotAllowed, NotFound
from ..domain.vocabulary import LANGUAGES
from ..render import document_types, pdf, samples
from ..trust.signing import sign_pdf
from . import cases

class Document(NamedTuple):
    pdf: bytes
    filename: str
    missing_profile_fields: list[str]


def business_profile(store) -> dict:
    return profile.complete(store.get_setting("profile"))


def save_profile(store, data) -> dict:
    clean = profile.validate(data)
    store.put_setting("profile", clean)
    return clean


def _language(record: dict, stored_profile: dict, lang: str | None) -> str:
    if lang is None:  # the case's recipient language, else the profile's (not the review's own language)
        return record.get("recipient_language") or stored_profile["default_language"] or "it"
    if lang not in LANGUAGES:
        raise Invalid("lang", "lang.unknown")
    return lang


def language(store, record: dict) -> str:
    """The language a case's documents go out in when nobody asks for another."""
    return _language(record, business_profile(store), None)


def _document_type(record: dict, name: str | None) -> document_types.DocumentType:
    kind = document_types.main_for(record) if name is None else document_types.get(name)
    if kind is None:
        raise NotFound("document", "document.unknown", name=name)
    if not kind.applies(record):
        key, values = kind.refusal_for(record)
        raise NotAllowed("kind", key, code="not_applicable", **values)
    return kind


def _screenshot(store, record: dict) -> bytes | None:
    for item in record.get("evidence", []):
        if item["name"].startswith("screenshot.") and item["media_type"] in ("image/png", "image/jpeg"):
            return store.read_evidence(record["id"], item["name"])
    return None


def document(store, case_id: str, name: str | None = None, lang: str | None = None, *, tsa_url: str = "",
             audit: bool = True, **options) -> Document:
    """The signed PDF `name` of a case (None: the case's main document), in `lang` (None: the case's
    language, else the profile's). Every download is an audit event (ids and hashes only)."""
    record = cases.load(store, case_id)
    name = _document_type(record, name).name
    stored_profile = business_profile(store)
    lang = _language(record, stored_profile, lang)
    today = cases.today()
    signed = sign_pdf(pdf.render(name, record, stored_profile, lang, _screenshot(store, record), issued_on=today,
                                 **options), store=store, tsa_url=tsa_url)
    if audit:
        store.audit("document.downloaded", case_id, document=name, lang=lang,
                    sha256=hashlib.sha256(signed).hexdigest(), **options)
    return Document(signed, pdf.filename(name, record, today), profile.missing_fields(stored_profile))


def removal_demand_warnings(store, case_id: str, lang: str | None = None) -> dict:
    record = cases.load(store, case_id)
    if not document_types.get("removal_demand").applies(record):
        raise NotAllowed("kind", "document.no_removal_demand", code="not_applicable", case=case_id)
    stored_profile = business_profile(store)
    lang = _language(record, stored_profile, lang)
    return {"warnings": legal.removal_demand_warnings(record.get("platform"), lang),
            "missing_profile_fields": profile.missing_fields(stored_profile)}


def sample_cases() -> list[tuple[str, dict, str]]:
    """(document, record, label) for every sample document, as each document type lists them."""
    return [(kind.name, record, label) for kind in document_types.TYPES.values() for label, record in kind.samples()]


def render_samples(out_dir) -> list[Path]:
    """Write every sample document in Italian and English to out_dir; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shot = samples.screenshot()
    written = []
    for name, record, label in sample_cases():
        image = shot if any(e["name"] == "screenshot.png" for e in record["evidence"]) else None
        for lang in LANGUAGES:
            path = out / f"{label}.{lang}.pdf"
            path.write_bytes(pdf.render(name, record, samples.PROFILE, lang, image, issued_on=date(2026, 11, 24)))
            written.append(path)
    return written
