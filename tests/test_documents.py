"""PDF documents: real WeasyPrint, read back with pdftotext and pypdf.

Every render goes through `render_checked`, which fails on any WeasyPrint or Testimone log warning
unless the test names the refusal it provokes on purpose.
"""
import io
import logging
import re
import subprocess
import threading
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader

from server.domain import profile
from server.render import document_types, pdf as documents, samples
from server.services import documents as document_service

ISSUED = date(2026, 11, 24)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextmanager
def log_guard(expected=()):
    """Fail on any warning from WeasyPrint or Testimone, except those containing an `expected` text."""
    handler = _Collect()
    loggers = [logging.getLogger("weasyprint"), logging.getLogger("testimone")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    unexpected = [m for m in handler.messages if not any(e in m for e in expected)]
    assert not unexpected, unexpected


@pytest.fixture
def provokes_refusals():
    """Requested by a test that makes the fetcher refuse URLs on purpose (it checks the messages itself)."""


@pytest.fixture(autouse=True)
def no_weasyprint_warnings(request):
    """Any warning logged while a test runs fails it (routes included), unless it provokes refusals."""
    if "provokes_refusals" in request.fixturenames:
        yield
        return
    with log_guard():
        yield


def render_checked(document, record, prof=samples.PROFILE, lang="it", shot=None, **options):
    with log_guard():
        return documents.render(document, record, prof, lang, shot, issued_on=ISSUED, **options)


def text_of(pdf: bytes) -> str:
    """The PDF's text with whitespace collapsed (words wrap across lines)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"\s+", " ", out.stdout.decode())


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def link_targets(pdf: bytes) -> list[str]:
    targets = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action and "/URI" in action:
                targets.append(str(action["/URI"]))
    return targets


BUNDLED_FONTS = ("IBM-Plex", "Noto-Sans-Hebrew", "Noto-Sans-Arabic", "Testimone-Emoji")


@pytest.fixture(scope="module")
def sample_pdfs(tmp_path_factory):
    """Every sample document in both languages, written by render_samples (as `testimone render-samples`)."""
    out = tmp_path_factory.mktemp("samples")
    documents.clear_cache()
    with log_guard():
        paths = document_service.render_samples(out)
    return {path.name.removesuffix(".pdf"): path.read_bytes() for path in paths}


def test_render_samples_writes_every_document_in_both_languages(sample_pdfs):
    assert sorted(sample_pdfs) == sorted(f"{label}.{lang}" for _, _, label in document_service.sample_cases()
                                         for lang in ("it", "en"))
    for name, pdf in sample_pdfs.items():
        assert pdf.startswith(b"%PDF-"), name
        reader = PdfReader(io.BytesIO(pdf))
        text = text_of(pdf)
        pages = len(reader.pages)
        label, of = ("Pagina", "di") if name.endswith(".it") else ("Page", "of")
        for number in range(1, pages + 1):
            assert f"{label} {number} {of} {pages}" in text, name
        assert samples.PROFILE["business_name"] in text


def test_only_bundled_fonts_are_embedded(sample_pdfs):
    for name, pdf in sample_pdfs.items():
        fonts = font_names(pdf)
        assert fonts and all(f.startswith(BUNDLED_FONTS) for f in fonts), (name, fonts)


def test_footer_has_document_version_and_record_hash(sample_pdfs):
    for name, pdf in sample_pdfs.items():
        text = squeezed(text_of(pdf))
        version = documents.catalogue(name.split(".")[0].removesuffix("_pending").removesuffix("_done"))["version"]
        assert version in text, name
        assert samples.testimonial()["sha256"] in text or samples.offence()["sha256"] in text, name


# -- fonts: digits from the text fonts, emoji from the bundled font, with or without a colour emoji font --

SYSTEM_FONTS_CONF = Path("/etc/fonts/fonts.conf")
COLOUR_EMOJI = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJI_TEXT = "Voto 10/10 #1 *** © ® 😀 ❤️ 👍🏽 🇮🇹 🍕 — il cuoco è un truffatore"


@pytest.fixture(params=["with colour emoji", "without colour emoji"])
def system_emoji(request, tmp_path, monkeypatch):
    """The system's fonts with Noto Color Emoji present or hidden, through a FONTCONFIG_FILE of the test's own
    (WeasyPrint loads the configuration afresh for every document)."""
    if not COLOUR_EMOJI.is_file():
        pytest.fail(f"{COLOUR_EMOJI} missing: run `bash scripts/system-deps.sh --test`")
    if request.param.startswith("with "):
        select = f"<dir>{COLOUR_EMOJI.parent}</dir>"
    else:
        select = ("<selectfont><rejectfont><pattern><patelt name='color'><bool>true</bool></patelt>"
                  "</pattern></rejectfont></selectfont>")
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
                    f"<fontconfig><include>{SYSTEM_FONTS_CONF}</include>{select}</fontconfig>\n")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    found = subprocess.run(["fc-match", "--format=%{file}", "Noto Color Emoji"], capture_output=True, text=True,
                           check=True).stdout
    assert (found == str(COLOUR_EMOJI)) == request.param.startswith("with "), found  # the selection works
    documents.clear_cache()
    yield
    documents.clear_cache()


def characters_by_font(pdf: bytes) -> dict[str, set[str]]:
    """Which characters each embedded font draws (pypdf reports the font of every text run)."""
    drawn = {}

    def visit(text, matrix, text_matrix, font, size):
        if font and text.strip():
            name = str(font["/BaseFont"]).split("+", 1)[-1]
            drawn.setdefault(name, set()).update(text.strip())

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return drawn


@pytest.mark.parametrize("lang", ["it", "en"])
def test_digits_come_from_the_text_fonts_and_emoji_from_the_bundled_font(system_emoji, lang):
    record = {**samples.offence(), "text": EMOJI_TEXT}
    pdf = render_checked("incident_report", record, lang=lang, shot=samples.screenshot())
    fonts = font_names(pdf)
    assert all(f.startswith(BUNDLED_FONTS) for f in fonts), fonts  # no Noto-Color-Emoji, no system font
    drawn = characters_by_font(pdf)
    emoji_font = {c for name, chars in drawn.items() if "Emoji" in name for c in chars}
    assert {"😀", "🍕"} <= emoji_font
    assert not {c for c in emoji_font if c.isascii() or c in "©®"}, emoji_font
    text_fonts = {c for name, chars in drawn.items() if name.startswith("IBM-Plex") for c in chars}
    assert set("0123456789#*©®") <= text_fonts
    text = text_of(pdf)
    assert "IT01234567897" in text and "10/10 #1 ***" in text and "art. 595" in text


# -- consent request (docs/legal.md "Consent-request PDF") -------------------------------------------

CONSENT = {
    "it": ["1. Chi Le scrive", "Via dei Mulini Immaginari 12", "IT01234567897", "gelso-invento@pec.example",
           "Codice della richiesta 20261123-142701-a3f9c2", "Data della richiesta 24 novembre 2026",
           "tortellini come quelli di una volta", "Facebook", "Marta Esempi",
           "fonte pubblicamente accessibile", "entro un mese", "art. 14 GDPR",
           "Pagine del nostro sito web", "I nostri profili sui social network", "Materiale stampato",
           "Nome e cognome", "Nome e iniziale del cognome", "In forma anonima",
           "Immagine del profilo (scelta separata)", "Testo che verrebbe pubblicato",
           "Fino a quando non revocherò il consenso", "Fino al giorno",
           "art. 6, par. 1, lett. a, GDPR", "Non offriamo sconti, omaggi", "nessun servizio dipende",
           "fuori dall'Unione europea", "accesso", "rettifica", "cancellazione", "limitazione", "portabilità",
           "opporsi", "con la stessa facilità", "stesso canale", "Garante per la protezione dei dati personali",
           "diritto d'autore", "Il silenzio non vale come consenso", "Firma", "CR-2026.11-1"],
    "en": ["1. Who is asking", "Via dei Mulini Immaginari 12", "IT01234567897", "Request ID 20261123-142701-a3f9c2",
           "Date of the request 24 November 2026", "tortellini come quelli di una volta", "Marta Esempi",
           "publicly accessible source", "within one month", "Art. 14 GDPR", "Pages of our website",
           "Our social media accounts", "Printed material", "Full name", "First name and initial of the surname",
           "Anonymously", "Profile picture (a separate choice)", "Text that would be published",
           "Until I withdraw my consent", "Art. 6(1)(a) GDPR", "no discount, gift", "no service depends",
           "outside the European Union", "access", "rectification", "erasure", "restriction", "portability",
           "object", "as easily as you gave it", "same channel", "Garante per la protezione dei dati personali",
           "copyright", "Silence does not count as consent", "Signature", "CR-2026.11-1"],
}


@pytest.mark.parametrize("lang", ["it", "en"])
def test_consent_request_says_what_legal_md_lists(sample_pdfs, lang):
    text = text_of(sample_pdfs[f"consent_request.{lang}"])
    missing = [phrase for phrase in CONSENT[lang] if phrase not in text]
    assert not missing
    # Purposes the business did not ask for are not offered.
    assert ("Pubblicità a pagamento" if lang == "it" else "Paid advertising") not in text


def test_consent_request_has_one_box_per_purpose_and_a_separate_photo_box():
    record = samples.testimonial()
    html = documents.render_html("consent_request", record, samples.PROFILE, "it", None)
    purposes = html.split("<h3>")[0].rsplit('<ul class="choices">', 1)[1]
    assert purposes.count('class="box"') == len(record["testimonial"]["purposes"])
    assert html.count('class="box"') == 3 + 3 + 1 + 1 + 2  # purposes, attribution, photo, edits, duration
    no_photo = documents.render_html("consent_request", {**record, "testimonial": {"purposes": ["website"],
                                                                                  "photo": False}},
                                     samples.PROFILE, "it", None)
    assert "Non Le chiediamo di usare la Sua immagine" in no_photo


# -- incident report (docs/legal.md "Incident-report PDF") -------------------------------------------

INCIDENT = {
    "it": ["1. Parti", "Viaggiatore_Ipotetico88", "https://www.tripadvisor.it/Profile/Viaggiatore_Ipotetico88",
           "Tripadvisor", "2. Cronologia", "Scritta il 18 novembre 2026", "21 novembre 2026",
           "Piena conoscenza", "23 novembre 2026, 14:12:44 UTC", "23 novembre 2026, 15:12:44",
           "ora locale Europe/Rome", "3. Il contenuto", "il cuoco è un truffatore", "Da evitare",
           "Affermazioni di fatto e opinioni", "4. Diffusione", "art. 595, comma 3", "5. Registro delle prove",
           "screenshot.png", "page.mhtml", "comment.html", "Testimone, estensione 0.1.0", "Elena Fittizi",
           "157.240.0.35", "L'indirizzo IP dell'autore non può essere raccolto dall'impresa",
           "Cass. V 8736/2018", "6. Contesto", "Macelleria Esempio", "messaggi di ricatto",
           "7. Possibili qualificazioni giuridiche — da confermare con il legale",
           "€ 1.032", "€ 2.065", "non inferiore a € 516", "Cass. I 24431/2015", "non è più reato",
           "d.lgs. 7/2016", "€ 100 a € 8.000", "€ 200 a € 12.000", "Cass. V 36193/2022", "Cass. I 409/2024",
           "artt. 56 e 629 c.p.", "art. 393 c.p.", "612-bis", "art. 660 c.p.", "Cass. 50099/2015",
           "art. 2947 c.c.", "8. Scadenze calcolate", "21 febbraio 2027", "non dalla pubblicazione",
           "il giorno iniziale non si conta (art. 14 c.p.)", "Nessuna proroga", "21 novembre 2031",
           "La diffida non sospende", "9. Azioni intraprese", "TA-000123", "10. Promemoria per il legale",
           "art. 153-bis c.p.p.", "art. 5 d.lgs. 28/2010", "art. 16", "6 mesi"],
    "en": ["1. Parties", "Viaggiatore_Ipotetico88", "2. Timeline", "Scritta il 18 novembre 2026",
           "21 November 2026", "full knowledge", "23 November 2026, 14:12:44 UTC", "23 November 2026, 15:12:44",
           "local time Europe/Rome", "3. The content", "il cuoco è un truffatore", "Statements of fact",
           "4. Reach", "art. 595(3)", "5. Evidence register", "screenshot.png", "Testimone, extension 0.1.0",
           "157.240.0.35", "The author's IP address cannot be collected by the business", "6. Context",
           "7. Possible legal qualifications — for the lawyer to confirm", "€1,032", "€2,065", "at least €516",
           "no longer a crime", "Legislative Decree 7/2016", "€100 to €8,000", "€200 to €12,000",
           "Cass. V 36193/2022", "Cass. I 409/2024", "arts. 56 and 629", "art. 393", "612-bis", "art. 660",
           "Cass. 50099/2015", "8. Computed deadlines", "21 February 2027", "not from publication",
           "the starting day is not counted (art. 14", "No extension", "21 November 2031",
           "neither suspends nor stops", "9. Steps taken", "TA-000123", "10. Checklist for the lawyer",
           "art. 153-bis", "art. 5 Legislative Decree 28/2010", "Art. 16", "6 months"],
}


@pytest.mark.parametrize("lang", ["it", "en"])
def test_incident_report_says_what_legal_md_lists(sample_pdfs, lang):
    pdf = sample_pdfs[f"incident_report.{lang}"]
    text = text_of(pdf)
    missing = [phrase for phrase in INCIDENT[lang] if phrase not in text]
    assert not missing
    flat = squeezed(text)
    for item in samples.offence()["evidence"]:
        assert item["sha256"] in flat


def test_incident_report_deadlines_are_bold_and_the_screenshot_is_outlined():
    record = samples.offence()
    html = documents.render_html("incident_report", record, samples.PROFILE, "it", samples.screenshot(),
                                 issued_on=ISSUED)
    assert '<div class="due">21 febbraio 2027</div>' in html
    css = (documents.TEMPLATE_DIR / "style.css").read_text()
    assert re.search(r"\.deadline \.due \{[^}]*font-weight: 600", css)
    mark = re.search(r'class="mark" style="left: ([\d.]+)%; top: ([\d.]+)%; width: ([\d.]+)%', html)
    rect, (width, height) = samples.COMMENT_RECT, samples.SCREENSHOT_SIZE
    assert float(mark[1]) == pytest.approx(100 * rect["x"] / width, abs=0.01)
    assert float(mark[2]) == pytest.approx(100 * rect["y"] / height, abs=0.01)
    assert float(mark[3]) == pytest.approx(100 * rect["width"] / width, abs=0.01)


def test_incident_report_computes_deadlines_when_the_record_has_none():
    record = samples.offence()
    del record["deadlines"]
    record.update(known_since="2026-11-30", offence={**record["offence"], "known_since": "2026-11-30"})
    text = text_of(render_checked("incident_report", record))
    assert "28 febbraio 2027" in text  # 30 February does not exist: last day of the month
    assert "Computo incerto, da confermare con il legale" in text


def test_incident_report_timeline_shows_a_corrected_date_of_knowledge():
    record = samples.offence()
    record["known_since_changes"] = [{"from": "2026-11-22", "to": "2026-11-21", "reason": "Letto dal socio",
                                      "recorded_at": "2026-11-23T16:00:00Z"}]
    text = text_of(render_checked("incident_report", record))
    assert "da 22 novembre 2026 a 21 novembre 2026. Motivo: «Letto dal socio»" in text


def test_incident_report_for_blackmail_says_report_at_once():
    record = samples.offence()
    record["offence"] = {**record["offence"], "category": "threat_or_blackmail"}
    text = text_of(render_checked("incident_report", record, lang="en"))
    assert "Attempted extortion: no term, prosecuted ex officio — report at once" in text


# -- removal demand (docs/legal.md "Removal demand") -------------------------------------------------

REMOVAL = {
    "it": ["Mittente", "Trattoria Al Gelso Invento S.n.c.", "Destinatario", "Viaggiatore_Ipotetico88",
           "Oggetto: diffida alla rimozione", "I fatti", "il cuoco è un truffatore", "fatti non veri",
           "art. 595, comma 3, c.p.", "artt. 2043 e 2059 c.c.", "entro 7 giorni dal ricevimento",
           "rimuovere il contenuto", "astenersi dal pubblicare", "rettifica", "nelle sedi civili e penali",
           "Allegati", "Elena Fittizi", "PEC o raccomandata", "24 novembre 2026"],
    "en": ["Sender", "Addressee", "Viaggiatore_Ipotetico88", "Subject: formal demand to remove", "The facts",
           "untrue facts", "art. 595(3)", "arts. 2043 and 2059", "within 7 days of receiving",
           "remove the content", "refrain from publishing", "correction", "civil and criminal action",
           "Attachments", "Elena Fittizi", "registered letter", "24 November 2026"],
}


@pytest.mark.parametrize("lang", ["it", "en"])
def test_removal_demand_says_what_legal_md_lists(sample_pdfs, lang):
    text = text_of(sample_pdfs[f"removal_demand.{lang}"])
    missing = [phrase for phrase in REMOVAL[lang] if phrase.lower() not in text.lower()]
    assert not missing
    # The warnings are for the user, not the addressee; and no money is ever asked for.
    assert "querela" not in text.lower() and "€" not in text
    assert "extortion" not in text.lower() and "estorsione" not in text.lower()


def test_removal_demand_deadline_is_configurable():
    text = text_of(render_checked("removal_demand", samples.offence(), lang="en", deadline_days=12))
    assert "within 12 days of receiving" in text


# -- takedown ------------------------------------------------------------------------------------

def test_takedown_pending_lists_every_placement(sample_pdfs):
    it, en = text_of(sample_pdfs["takedown_pending.it"]), text_of(sample_pdfs["takedown_pending.en"])
    for text in (it, en):
        assert "https://gelso-invento.example/dicono-di-noi" in text
        assert "https://www.instagram.com/p/Sample000" in text
    assert "Revoca del consenso: elenco delle rimozioni" in it and "in attesa" in it
    assert "Rimozioni ancora da completare: 1." in it and "art. 17, par. 2" in it
    assert "Consent withdrawal: takedown checklist" in en and "pending" in en and "Art. 17(2)" in en
    assert "2 dicembre 2026" in it and "email" in it


def test_takedown_done_is_a_confirmation_without_the_erased_text(sample_pdfs):
    it, en = text_of(sample_pdfs["takedown_done.it"]), text_of(sample_pdfs["takedown_done.en"])
    assert "Conferma di rimozione della Sua recensione" in it and "in attesa" not in it
    assert "l'ultima il 3 dicembre 2026" in it and "Garante" in it
    assert "Confirmation that your review has been removed" in en and "pending" not in en
    assert "the last one on 3 December 2026" in en
    for text in (it, en):
        assert "tortellini" not in text and "Marta" not in text


def test_documents_that_do_not_apply_are_refused():
    with pytest.raises(documents.DocumentError):
        documents.render("removal_demand", samples.testimonial(), samples.PROFILE, "it")
    with pytest.raises(documents.DocumentError):
        documents.render("takedown", samples.testimonial(), samples.PROFILE, "it")
    with pytest.raises(documents.DocumentError):
        documents.render("consent_request", samples.offence(), samples.PROFILE, "it")
    with pytest.raises(documents.DocumentError):
        documents.render("incident_report", samples.offence(), samples.PROFILE, "fr")


# -- incomplete profile --------------------------------------------------------------------------

@pytest.mark.parametrize("lang, expected", [
    ("it", ["[ragione sociale da completare]", "[indirizzo da completare]", "[partita IVA da completare]",
            "[PEC da completare]", "[firmatario da completare]"]),
    ("en", ["[business name to be completed]", "[address to be completed]", "[VAT number to be completed]",
            "[signatory to be completed]"]),
])
def test_incomplete_profile_shows_placeholders(lang, expected):
    partial = {"email": "info@example.org"}
    text = text_of(render_checked("removal_demand", samples.offence(), prof=partial, lang=lang))
    assert [p for p in expected if p not in text] == []
    assert profile.missing_fields(partial) == ["business_name", "address", "vat_number", "pec", "signatory_name"]


# -- hostile captured content ----------------------------------------------------------------------

class CountingServer:
    """A loopback HTTP server that counts every request it receives."""

    def __init__(self):
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def hostile_record(url: str) -> dict:
    payload = (f'<img src="file:///etc/hostname"> <link rel="stylesheet" href="{url}/evil.css"> '
               f'<script>fetch("{url}/js")</script> <style>@import url({url}/import.css);</style> '
               f'body {{ background: url({url}/bg.png) }} <iframe src="{url}/frame"></iframe> '
               "Emoji: 😀🍝👍🏽 🇮🇹 · RTL: שלום עולם — مرحبا بالعالم · ")
    record = samples.offence()
    record.update(
        text=payload + "x" * (20000 - len(payload)),
        title=f'<img src="{url}/title.png">',
        author={"name": f'<b onload="x">Nome</b><img src="{url}/author.png">', "profile_url": f"{url}/profile"},
        permalink="javascript:alert(1)",
        posted_at_text=f"<svg><image href='{url}/svg.png'/></svg>",
    )
    record["offence"] = {**record["offence"], "notes": f"url({url}/notes.png) <object data='{url}/obj'>"}
    record["context"] = {**record["context"], "user_agent": f"<img src={url}/ua.png>"}
    return record


@pytest.mark.parametrize("document, lang", [("incident_report", "it"), ("removal_demand", "en")])
def test_hostile_content_is_literal_text_and_fetches_nothing(document, lang):
    with CountingServer() as server:
        record = hostile_record(server.url)
        pdf = render_checked(document, record, lang=lang, shot=samples.screenshot())
        assert server.requests == []
    text = text_of(pdf)
    assert '<img src="file:///etc/hostname">' in text
    assert "<script>" in text and "@import url(" in text and f"url({server.url}/bg.png)" in text
    assert "😀" in text and "שלום" in text and "بالعالم" in text
    run = record["text"].count("x")
    assert squeezed(text).count("x") >= run  # all 20,000 characters are there (page breaks cut the run)
    assert "javascript:" not in " ".join(link_targets(pdf))
    assert all(target.startswith(("http://", "https://")) for target in link_targets(pdf))
    fonts = font_names(pdf)
    assert all(f.startswith(BUNDLED_FONTS) for f in fonts), fonts
    assert any(f.startswith("Testimone-Emoji") for f in fonts) and any(f.startswith("Noto-Sans-Hebrew") for f in fonts)
    # Layout holds: every page keeps its header and numbered footer, and the text flows over pages.
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert 5 <= len(pages) <= 40
    label, of = ("Pagina", "di") if lang == "it" else ("Page", "of")
    for number in range(1, len(pages) + 1):
        assert f"{label} {number} {of} {len(pages)}" in text


def test_fetcher_refuses_files_and_network_and_logs_it(provokes_refusals):
    with CountingServer() as server:
        html = (f'<link rel="stylesheet" href="style.css"><p>ok</p><img src="file:///etc/hostname">'
                f'<img src="{server.url}/a.png"><img src="{documents.BASE_URL}../server/render/pdf.py">'
                f'<div style="background: url({server.url}/b.png)">x</div>')
        with log_guard(expected=("Refused to fetch", "Failed to load")) as messages:
            pdf = documents.write_pdf(html)
        assert server.requests == []
    assert pdf.startswith(b"%PDF-")
    refused = [m for m in messages if m.startswith("Refused to fetch")]
    assert any("file:///etc/hostname" in m for m in refused)
    assert any(f"{server.url}/a.png" in m for m in refused) and any(f"{server.url}/b.png" in m for m in refused)
    assert any("pdf.py" in m for m in refused)  # ../ out of pdf_templates/ is refused
    fetcher = documents.TemplateOnlyFetcher()
    assert fetcher.fetch(documents.BASE_URL + "style.css").read().startswith(b"/*")
    assert fetcher.fetch("data:text/plain;base64,b2s=").read() == b"ok"
    for url in ("file:///etc/hostname", f"{server.url}/c", "ftp://127.0.0.1/x"):
        with log_guard(expected=("Refused to fetch",)), pytest.raises(ValueError):
            fetcher.fetch(url)


# -- cache and determinism ---------------------------------------------------------------------------

def test_cache_returns_identical_bytes_without_rendering_again(monkeypatch):
    documents.clear_cache()
    calls = []
    real = documents.write_pdf
    monkeypatch.setattr(documents, "write_pdf", lambda html: calls.append(1) or real(html))
    record = samples.withdrawn(complete=True)
    first = render_checked("takedown", record)
    again = render_checked("takedown", samples.withdrawn(complete=True))
    assert again == first and len(calls) == 1
    with_download = {**record, "history": record["history"] + [{"at": "2026-12-04T10:00:00Z",
                                                                 "event": "document.downloaded"}]}
    assert render_checked("takedown", with_download) == first and len(calls) == 1
    render_checked("takedown", record, lang="en")
    render_checked("takedown", record, prof={**samples.PROFILE, "phone": None})
    render_checked("takedown", {**record, "status": "consent_withdrawn"})
    assert len(calls) == 4
    documents.forget(record["id"])
    assert render_checked("takedown", record) == first and len(calls) == 5


def test_concurrent_requests_for_one_pdf_render_it_once(monkeypatch):
    documents.clear_cache()
    calls = []
    real = documents.write_pdf
    monkeypatch.setattr(documents, "write_pdf", lambda html: calls.append(1) or real(html))
    results = []

    def download():
        results.append(documents.render("takedown", samples.withdrawn(), samples.PROFILE, "it", issued_on=ISSUED))

    threads = [threading.Thread(target=download) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1 and len(calls) == 1


def test_rendering_is_deterministic_and_dated_from_the_record():
    documents.clear_cache()
    first = render_checked("takedown", samples.withdrawn(complete=False))
    documents.clear_cache()
    second = render_checked("takedown", samples.withdrawn(complete=False))
    assert first == second
    info = PdfReader(io.BytesIO(first)).metadata
    assert info["/CreationDate"].startswith("D:20261123142701")
    assert info["/Author"] == samples.PROFILE["business_name"]


# -- string catalogues ------------------------------------------------------------------------------

def test_every_string_has_both_languages_with_the_same_placeholders():
    for kind in document_types.TYPES.values():
        document = kind.catalogue
        for key, value in documents.catalogue(document).items():
            if key == "version":
                continue
            assert set(value) == {"it", "en"} and all(value.values()), (document, key)
            if isinstance(value["it"], str):
                assert set(re.findall(r"{(\w+)}", value["it"])) == set(re.findall(r"{(\w+)}", value["en"])), key


def test_every_literal_key_used_by_a_template_exists():
    common = set(documents.catalogue("common"))
    for kind in document_types.TYPES.values():
        document = kind.catalogue
        source = (documents.TEMPLATE_DIR / kind.template).read_text()
        keys = set(re.findall(r"t\('([\w.]*\w)'", source))
        assert keys <= set(documents.catalogue(document)), (document, keys - set(documents.catalogue(document)))
    shared = (documents.TEMPLATE_DIR / "_macros.html").read_text() + (documents.TEMPLATE_DIR / "base.html").read_text()
    assert set(re.findall(r"t\('([\w.]*\w)'", shared)) <= common


# -- routes ------------------------------------------------------------------------------------------

from conftest import TOKEN, make_capture  # noqa: E402


def create(client, kind="offence", **overrides) -> str:
    response = client.post("/api/captures", json=make_capture(kind, **overrides))
    assert response.status_code == 201, response.json
    return response.json["id"]


def audit_events(store, event):
    lines = (store.data_dir / "audit.log").read_text().splitlines()
    return [line for line in lines if f'"event":"{event}"' in line]


def test_document_pdf_for_an_offence_is_the_incident_report(client, store):
    case_id = create(client)
    response = client.get(f"/api/captures/{case_id}/document.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(rf'attachment; filename="testimone-incident-report-{case_id[-6:]}-\d{{4}}-\d{{2}}-\d{{2}}\.pdf"',
                        disposition)
    text = text_of(response.data)
    assert "Relazione sull'episodio" in text and "Ottavio Inventato" in text and "il cuoco è un incapace" in text
    assert "[indirizzo da completare]" in text
    assert response.headers["X-Testimone-Missing-Profile-Fields"] == ",".join(profile.REQUIRED)
    events = audit_events(store, "document.downloaded")
    assert len(events) == 1 and case_id in events[0] and "incident_report" in events[0]
    assert "incapace" not in (store.data_dir / "audit.log").read_text()  # ids and hashes, no content


def test_second_download_is_the_same_pdf_and_is_audited_again(client, store):
    case_id = create(client)
    first = client.get(f"/api/captures/{case_id}/document.pdf?lang=en")
    second = client.get(f"/api/captures/{case_id}/document.pdf?lang=en")
    assert first.data == second.data and "Incident report" in text_of(first.data)
    assert len(audit_events(store, "document.downloaded")) == 2


def test_document_pdf_for_a_testimonial_is_the_consent_request(client):
    case_id = create(client, "testimonial")
    response = client.get(f"/api/captures/{case_id}/document.pdf")
    assert "testimone-consent-request-" in response.headers["Content-Disposition"]
    text = text_of(response.data)
    assert "Richiesta di consenso" in text and "Cena splendida, servizio attento" in text


def test_profile_is_used_by_the_documents(client):
    assert client.put("/api/profile", json=samples.PROFILE).status_code == 200
    case_id = create(client)
    response = client.get(f"/api/captures/{case_id}/removal-demand.pdf")
    assert response.headers["X-Testimone-Missing-Profile-Fields"] == ""
    text = text_of(response.data)
    assert "Trattoria Al Gelso Invento" in text and "da completare" not in text


def test_removal_demand_deadline_and_warnings(client):
    case_id = create(client)
    text = text_of(client.get(f"/api/captures/{case_id}/removal-demand.pdf?deadline_days=12").data)
    assert "entro 12 giorni dal ricevimento" in text
    warnings = client.get(f"/api/captures/{case_id}/removal-demand/warnings?lang=en").json
    assert warnings["deadline_days"] == 7
    joined = " ".join(warnings["warnings"])
    assert "does not stop the querela clock" in joined and "extortion" in joined and "Tripadvisor" in joined
    assert "non ferma il termine per la querela" in " ".join(
        client.get(f"/api/captures/{case_id}/removal-demand/warnings").json["warnings"])
    assert "querela" not in text.lower()


@pytest.mark.parametrize("query, field", [
    ("lang=fr", "lang"), ("lang=", "lang"), ("deadline_days=0", "deadline_days"),
    ("deadline_days=61", "deadline_days"), ("deadline_days=abc", "deadline_days"),
    ("deadline_days=7.5", "deadline_days"), ("deadline_days=-3", "deadline_days"),
    ("deadline_days=", "deadline_days"),
])
def test_bad_query_parameters_name_their_field(client, query, field):
    case_id = create(client)
    response = client.get(f"/api/captures/{case_id}/removal-demand.pdf?{query}")
    assert response.status_code == 400 and response.json["error"]["field"] == field


def test_documents_that_do_not_apply_answer_409(client):
    testimonial, offence = create(client, "testimonial"), create(client)
    for path in (f"/api/captures/{testimonial}/removal-demand.pdf",
                 f"/api/captures/{testimonial}/removal-demand/warnings",
                 f"/api/captures/{testimonial}/takedown.pdf", f"/api/captures/{offence}/takedown.pdf"):
        response = client.get(path)
        assert response.status_code == 409 and response.json["error"]["code"] == "not_applicable", path


def test_takedown_after_withdrawal(client):
    case_id = create(client, "testimonial")
    revoked = client.post(f"/api/captures/{case_id}/revocation",
                          json={"received_at": "2026-11-23", "received_via": "email"})
    assert revoked.status_code == 200, revoked.json
    response = client.get(f"/api/captures/{case_id}/takedown.pdf?lang=en")
    assert response.status_code == 200 and "testimone-takedown-" in response.headers["Content-Disposition"]
    text = text_of(response.data)
    assert "Confirmation that your review has been removed" in text and "Cena splendida" not in text


@pytest.mark.parametrize("path", ["document.pdf", "removal-demand.pdf", "takedown.pdf", "removal-demand/warnings"])
def test_unknown_case_is_404_and_no_token_is_401(client, path):
    assert client.get(f"/api/captures/20260101-000000-abcdef/{path}").status_code == 404
    assert client.get(f"/api/captures/20260101-000000-abcdef/{path}",
                      headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_download_from_the_real_server(live_server):
    import json
    import urllib.request

    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    body = json.dumps(make_capture("offence")).encode()
    created = urllib.request.urlopen(urllib.request.Request(f"{live_server.url}/api/captures", body, headers))
    case_id = json.load(created)["id"]
    request = urllib.request.Request(f"{live_server.url}/api/captures/{case_id}/document.pdf?lang=en",
                                     headers=headers)
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        pdf = response.read()
    assert "Incident report" in text_of(pdf)


def test_log_guard_fails_a_test_on_a_weasyprint_warning(provokes_refusals):
    with pytest.raises(AssertionError, match="Refused to fetch"):
        with log_guard():
            documents.write_pdf('<img src="file:///etc/hostname">')


def test_incident_report_shows_server_and_browser_clocks():
    record = samples.offence()
    record = {**record, "captured_at": "2026-11-23T14:12:44.000Z",
              "context": {**record["context"], "captured_at_client": "2026-11-23T14:12:41.500Z"},
              "clock": None}
    text = {lang: text_of(render_checked("incident_report", record, lang=lang)) for lang in ("it", "en")}
    assert "differenza server − browser +2.5 s" in text["it"]
    assert "difference server − browser +2.5 s" in text["en"]
