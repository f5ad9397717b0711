"""Evidence: the bundle of a case, verification of the data directory, the second-witness recheck."""
import logging

from .. import __version__
from ..render import bundle as bundle_files, document_types
from ..trust import anchors, signing
from ..trust.timestamps import TimestampError
from ..trust.witness import witness_case
from . import cases, documents
from .verify import verify as verify_data_dir

log = logging.getLogger(__name__)


def _documents(store, record: dict, tsa_url: str, audit: bool) -> tuple[dict, str | None]:
    """The case's bundled PDFs in its language, exactly as a download gives them (signed, audited, cached)."""
    lang = record.get("language") or (record.get("context") or {}).get("language") or "it"
    pdfs = {}
    for kind in document_types.TYPES.values():
        if not (kind.in_bundle and kind.applies(record)):
            continue
        try:
            document = documents.document(store, record["id"], kind.name, lang, tsa_url=tsa_url, audit=audit)
        except OSError as error:  # WeasyPrint without its system libraries (Pango)
            return {}, f"PDF not included: this install cannot render documents ({error}) / PDF non incluso"
        pdfs[bundle_files.document_name(kind.name, lang)] = document.pdf
    return pdfs, None


def bundle(store, case_id: str, *, tsa_url: str = "", audit: bool = True) -> dict:
    """Every file of the case's evidence bundle, {relative path: bytes}. `audit=False` for a read-only
    view of a data directory another process holds (the PDF download is then not logged)."""
    record = cases.load(store, case_id)
    signing.ensure_identity(store.data_dir, signing.business_name(store))  # signs manifest.json
    pdfs, note = _documents(store, record, tsa_url, audit)
    if tsa_url and audit:  # every export anchors the audit chain, its download events included
        try:
            anchors.anchor_now(store, tsa_url)
        except TimestampError as error:
            log.warning("audit chain not anchored at export: %s", error)
    return bundle_files.build(store, record, pdfs, note, generator=f"Testimone {__version__}")


def verify(store, case_id: str | None = None, mode: str = "incremental", since: str | None = None) -> dict:
    """Stored hashes recomputed (only what changed since the last run unless `mode` is "full"), the audit
    chain walked, timestamps checked (server/services/verify.py)."""
    if case_id is not None:
        cases.load(store, case_id)
    return verify_data_dir(store.data_dir, case_id, mode=mode or "incremental", since=since)


def recheck(store, case_id: str, config) -> dict:
    """Fetch the case's own stored permalink again (never a URL from the request)."""
    cases.load(store, case_id)
    return witness_case(store, case_id, config, reason="recheck")
