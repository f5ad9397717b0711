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

from server import i18n
from server.domain import profile
from server.domain.vocabulary import LANGUAGES
from server.render import document_types, pdf as documents, samples
from server.services import documents as document_service


def catalogue(document: str) -> dict:
    """{key: {lang: text}}: a document's strings over those every document shares (server/render/pdf.py string())."""
    merged = {}
    for context in ("document", document):
        for lang in LANGUAGES:
            for (found, key), text in i18n.messages(lang).items():
                if found == context:
                    merged.setdefault(key, {})[lang] = text
    return merged


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
        version = catalogue(name.split(".")[0].removesuffix("_pending").removesuffix("_done"))["version"]["it"]
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
           "fonte pubblicamente accessibile", "entro un mese", "art. 14, par. 3, GDPR",
           "Pagine del nostro sito web", "I nostri profili social: Facebook, Instagram", "Materiale stampato",
           "Nome e cognome", "Nome e iniziale del cognome", "In forma anonima",
           "Immagine del profilo (scelta separata)", "Testo che verrebbe pubblicato",
           "Fino a quando non revocherò il consenso", "Fino al giorno",
           "art. 6, par. 1, lett. a, GDPR", "Non offriamo sconti, omaggi", "nessun servizio dipende",
           "fuori dall'Unione europea", "accesso", "rettifica", "cancellazione", "limitazione", "portabilità",
           "opporsi", "con la stessa facilità", "stesso canale", "Garante per la protezione dei dati personali",
           "diritto d'autore", "Il silenzio non vale come consenso", "Firma", "CR-2026.12-1"],
    "en": ["1. Who is asking", "Via dei Mulini Immaginari 12", "IT01234567897", "Request ID 20261123-142701-a3f9c2",
           "Date of the request 24 November 2026", "tortellini come quelli di una volta", "Marta Esempi",
           "publicly accessible source", "within one month", "Art. 14(3) GDPR", "Pages of our website",
           "Our social media accounts: Facebook, Instagram", "Printed material", "Full name", "First name and initial of the surname",
           "Anonymously", "Profile picture (a separate choice)", "Text that would be published",
           "Until I withdraw my consent", "Art. 6(1)(a) GDPR", "no discount, gift", "no service depends",
           "outside the European Union", "access", "rectification", "erasure", "restriction", "portability",
           "object", "as easily as you gave it", "same channel", "Garante per la protezione dei dati personali",
           "copyright", "Silence does not count as consent", "Signature", "CR-2026.12-1"],
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
           "Notizia del fatto", "23 novembre 2026, 14:12:44 UTC", "23 novembre 2026, 15:12:44",
           "ora locale Europe/Rome", "3. Il contenuto", "il cuoco è un truffatore", "Da evitare",
           "Affermazioni di fatto e opinioni", "4. Diffusione", "art. 595, comma 3", "5. Registro delle prove",
           "screenshot.png", "page.mhtml", "comment.html", "Testimone, estensione 0.1.0",
           "157.240.0.35", "L'indirizzo IP dell'autore non può essere raccolto dall'impresa",
           "Cass. V 8736/2018", "6. Contesto", "Macelleria Esempio", "messaggi di ricatto",
           "7. Possibili qualificazioni giuridiche — da confermare con il legale",
           "€ 1.032", "€ 2.065", "non inferiore a € 516", "Cass. I 24431/2015", "Cass. 50099/2015",
           "art. 2947 c.c.", "8. Scadenze calcolate", "21 febbraio 2027", "non dalla pubblicazione",
           "il giorno iniziale non si conta (art. 14 c.p.)", "Nessuna proroga", "21 novembre 2031",
           "La diffida non sospende", "9. Azioni intraprese", "TA-000123", "10. Promemoria per il legale",
           "art. 153-bis c.p.p.", "art. 5 d.lgs. 28/2010", "art. 16", "6 mesi"],
    "en": ["1. Parties", "Viaggiatore_Ipotetico88", "2. Timeline", "Scritta il 18 novembre 2026",
           "21 November 2026", "learns of the fact", "23 November 2026, 14:12:44 UTC", "23 November 2026, 15:12:44",
           "local time Europe/Rome", "3. The content", "il cuoco è un truffatore", "Statements of fact",
           "4. Reach", "art. 595(3)", "5. Evidence register", "screenshot.png", "Testimone, extension 0.1.0",
           "157.240.0.35", "The author's IP address cannot be collected by the business", "6. Context",
           "7. Possible legal qualifications — for the lawyer to confirm", "€1,032", "€2,065", "at least €516",
           "Cass. I 24431/2015", "Cass. 50099/2015", "8. Computed deadlines", "21 February 2027", "not from publication",
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
    words = text.split()
    for item in samples.offence()["evidence"]:
        assert all(item["sha256"][i:i + 8] in words for i in range(0, 64, 8))


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
    "it": ["Trattoria Al Gelso Invento S.n.c.", "Bologna, 24 novembre 2026", "Egr. Sig. / Gent.ma Sig.ra",
           "utente del profilo «Viaggiatore_Ipotetico88» su Tripadvisor",
           "Oggetto: diffida alla rimozione", "il cuoco è un truffatore",
           "art. 595, comma 3, c.p.", "artt. 2043 e 2059 c.c.", "entro e non oltre il 1° dicembre 2026",
           "rimuovere il contenuto", "astenersi in futuro dal pubblicare", "breve chiarimento",
           "nelle sedi competenti, civili e penali", "Allegati", "Elena Fittizi, legale rappresentante"],
    "en": ["Bologna, 24 November 2026", "the user of the profile", "Subject: formal demand to remove",
           "art. 595(3)", "arts. 2043 and 2059", "by 1 December 2026 at the latest",
           "remove the content", "refrain from publishing", "short clarification", "civil and criminal courts",
           "Attachments", "Elena Fittizi, legale rappresentante"],
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
    assert "by 6 December 2026 at the latest (12 days from the date of this letter)" in text


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
    fetcher = documents.template_only_fetcher()
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


# -- routes ------------------------------------------------------------------------------------------

from conftest import TOKEN, log_in, make_capture  # noqa: E402


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
    assert "(12 giorni dalla data della presente)" in text
    warnings = client.get(f"/api/captures/{case_id}/removal-demand/warnings?lang=en").json
    assert warnings["deadline_days"] == 7
    joined = " ".join(warnings["warnings"])
    assert "does not stop the querela clock" in joined and "extortion" in joined and "hide it" in joined
    assert "Tripadvisor" not in joined  # a Facebook case gets no Tripadvisor warning
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
    assert "differenza server − browser +2,5 s" in text["it"] and "indietro di 2,5 s" in text["it"]
    assert "difference server − browser +2.5 s" in text["en"] and "2.5 s behind" in text["en"]
    assert "Attenzione" not in text["it"] and "Warning" not in text["en"]  # under the threshold


# -- issue 11: what a lawyer would sign ----------------------------------------------------------------

def html_text(html: str) -> str:
    """The visible text of a document's HTML (the grid tests are logic, not layout: no PDF needed)."""
    import html as html_module
    body = re.sub(r"(?s)<head>.*?</head>|<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html_module.unescape(body))


def offence_case(category="defamation", platform="tripadvisor", offence=None, **changes) -> dict:
    record = samples.offence()
    record.update(platform=platform, offence={**record["offence"], "category": category, **(offence or {})}, **changes)
    return record


DISCLAIMER = {"it": "non consulenza legale", "en": "not legal advice"}


@pytest.mark.parametrize("lang", ["it", "en"])
def test_only_internal_documents_mention_the_tool(sample_pdfs, lang):
    for name in ("removal_demand", "consent_request", "takedown_done"):
        text = text_of(sample_pdfs[f"{name}.{lang}"])
        assert DISCLAIMER[lang] not in text and "Testimone" not in text, name
        assert "Testimone" not in str(PdfReader(io.BytesIO(sample_pdfs[f"{name}.{lang}"])).metadata), name
    for name in ("incident_report", "takedown_pending"):
        assert DISCLAIMER[lang] in text_of(sample_pdfs[f"{name}.{lang}"]), name


CATEGORIES = ["defamation", "insult", "fake_review", "threat_or_blackmail", "harassment", "other"]
PLATFORMS = ["facebook", "tripadvisor", "other"]
# Each statement of the legal section, and the grid cells where it must appear (and nowhere else).
STATEMENTS = {
    "art595": ({"it": "Diffamazione (art. 595 c.p.)", "en": "Defamation (art. 595 Criminal Code)"},
               lambda c, p: c not in ("other",)),
    "facebook_press": ({"it": "La Cassazione ha ritenuto un post su Facebook", "en": "has held a Facebook post"},
                       lambda c, p: c != "other" and p == "facebook"),
    "tripadvisor_press": ({"it": "una recensione su Tripadvisor, leggibile da chiunque",
                           "en": "a Tripadvisor review, readable by anyone"},
                          lambda c, p: c != "other" and p == "tripadvisor"),
    "ingiuria": ({"it": "Ingiuria (ex art. 594 c.p.)", "en": "Insult (former art. 594"}, lambda c, p: c == "insult"),
    "extortion": ({"it": "Tentata estorsione (artt. 56 e 629 c.p.)", "en": "Attempted extortion (arts. 56 and 629"},
                  lambda c, p: c == "threat_or_blackmail"),
    "management_center": ({"it": "Management Center", "en": "Management Center"},
                          lambda c, p: c == "threat_or_blackmail" and p == "tripadvisor"),
    "stalking": ({"it": "Atti persecutori (art. 612-bis c.p.)", "en": "Stalking (art. 612-bis"},
                 lambda c, p: c == "harassment"),
    "criticism": ({"it": "Diritto di critica", "en": "Right of criticism"},
                  lambda c, p: c in ("defamation", "fake_review", "other")),
    "civil": ({"it": "Azione civile", "en": "Civil action"}, lambda c, p: True),
    "report_at_once": ({"it": "denunciare subito", "en": "report at once"}, lambda c, p: c == "threat_or_blackmail"),
}


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("category", CATEGORIES)
def test_legal_section_states_what_fits_the_category_and_platform(category, platform, lang):
    html = documents.render_html("incident_report", offence_case(category, platform), samples.PROFILE, lang,
                                 None, issued_on=ISSUED)
    section = html_text(html.split('<h2>', 8)[7].split("<h2>")[0])  # section 7 only
    for name, (phrases, applies) in STATEMENTS.items():
        if name == "report_at_once":
            section_or_all = html_text(html)
        else:
            section_or_all = section
        assert (phrases[lang] in section_or_all) == applies(category, platform), (name, category, platform)
    assert "3148" not in html  # a ruling that does not support the aggravated form is never cited
    others = {"it": "Non illustrate perché estranee al tipo indicato", "en": "Not set out because"}[lang]
    assert others in section  # the qualifications left out are named in one line


@pytest.mark.parametrize("lang", ["it", "en"])
def test_incident_report_legal_section_in_the_pdf_is_tailored(lang):
    text = text_of(render_checked("incident_report", offence_case("defamation", "facebook"), lang=lang))
    assert STATEMENTS["facebook_press"][0][lang] in text
    assert STATEMENTS["extortion"][0][lang] not in text and STATEMENTS["stalking"][0][lang] not in text
    assert "Management Center" not in text and "3148" not in text


@pytest.mark.parametrize("platform, present, absent", [
    ("facebook", "nascondilo invece di cancellarlo", "Tripadvisor"),
    ("tripadvisor", "Tripadvisor porta Tripadvisor a penalizzare", "nascondilo"),
    ("other", "screenshot del messaggio inviato", "Tripadvisor"),
])
def test_removal_demand_warnings_fit_the_platform(platform, present, absent):
    from server.domain import legal
    joined = " ".join(legal.removal_demand_warnings(platform, "it"))
    assert present in joined and absent not in joined
    assert "prima di inviare la diffida" in joined and "non ferma il termine per la querela" in joined
    english = " ".join(legal.removal_demand_warnings(platform, "en"))
    assert len(legal.removal_demand_warnings(platform, "en")) == len(legal.removal_demand_warnings(platform, "it"))
    assert "private message on the platform" in english


@pytest.mark.parametrize("lang, expected, absent", [
    ("it", ["Bologna, 1° dicembre 2026", "Egr. Sig. / Gent.ma Sig.ra", "Oggetto: diffida",
            "entro e non oltre l'8 dicembre 2026", "breve chiarimento", "Elena Fittizi, legale rappresentante"],
     ["DA INVIARE", "PEC o raccomandata", "rettifica", "fatti non veri", "Mittente", "Destinatario",
      "Riferimenti normativi"]),
    ("en", ["Bologna, 1 December 2026", "Subject: formal demand", "by 8 December 2026 at the latest",
            "short clarification", "Elena Fittizi, legale rappresentante"],
     ["To be sent by", "registered letter", "correction", "untrue facts", "Sender", "Legal references"]),
])
def test_removal_demand_is_a_lawyers_letter(lang, expected, absent):
    pdf = render_checked("removal_demand", samples.offence(), lang=lang)
    with log_guard():
        pdf = documents.render("removal_demand", samples.offence(), samples.PROFILE, lang, samples.screenshot(),
                               issued_on=date(2026, 12, 1))
    text = text_of(pdf)
    assert not [phrase for phrase in expected if phrase not in text]
    assert not [phrase for phrase in absent if phrase in text]
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    css = (documents.TEMPLATE_DIR / "style.css").read_text()
    assert re.search(r"\.letter \.subject \{[^}]*font-weight: 600", css)


@pytest.mark.parametrize("lang, phrase", [("it", "Le affermazioni «il cuoco è un truffatore» e «in cucina usano "
                                                  "carne scaduta» attribuiscono"),
                                          ("en", 'The statements "il cuoco è un truffatore" and "in cucina usano '
                                                 'carne scaduta" attribute')])
def test_removal_demand_says_false_only_what_the_user_marked_false(lang, phrase):
    marked = offence_case(offence={"false_statements": ["il cuoco è un truffatore", "in cucina usano carne scaduta"]})
    assert phrase in text_of(render_checked("removal_demand", marked, lang=lang))
    insult = text_of(render_checked("removal_demand", offence_case("insult"), lang=lang))
    assert ("fatti determinati non veri" if lang == "it" else "untrue facts") not in insult


def page_texts(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("lang", ["it", "en"])
def test_consent_request_is_gdpr_precise(sample_pdfs, lang):
    text = text_of(sample_pdfs[f"consent_request.{lang}"])
    expected = {
        "it": ["art. 6, par. 1, lett. f, GDPR", "art. 6, par. 1, lett. a, GDPR", "promuovere la nostra attività",
               "I nostri profili social: Facebook, Instagram", "entro 30 giorni", "cancelleremo la copia",
               "per 10 anni dalla fine dell'uso", "Li abbiamo acquisiti il 23 novembre 2026",
               "entro il 23 dicembre 2026", "(art. 15 GDPR)", "(art. 18)", "(art. 21)", "(art. 22)",
               "(art. 7, par. 3, GDPR)", "la tipografia", "«20 novembre alle ore 18:31», come indicato dalla piattaforma"],
        "en": ["Art. 6(1)(f) GDPR", "Art. 6(1)(a) GDPR", "promote our business",
               "Our social media accounts: Facebook, Instagram", "within 30 days", "we will erase the copy",
               "for 10 years after the use ends", "We captured them on 23 November 2026", "by 23 December 2026",
               "(Art. 15 GDPR)", "(Art. 18)", "(Art. 21)", "(Art. 22)", "(Art. 7(3) GDPR)", "the printer",
               "\"20 novembre alle ore 18:31\", in the platform's own wording"],
    }[lang]
    assert not [phrase for phrase in expected if phrase not in text]
    assert "solo sulla base del Suo consenso" not in text and "only on the basis of your consent" not in text
    assert "Posted 20 novembre" not in text  # Italian platform wording is never passed off as English
    # The boxes and the signature are on the same page.
    pages = page_texts(sample_pdfs[f"consent_request.{lang}"])
    signature = {"it": "Firma", "en": "Signature"}[lang]
    box = {"it": "Pagine del nostro sito web", "en": "Pages of our website"}[lang]
    last = pages[-1]
    assert signature in last and box in last and "Facebook, Instagram" in last


@pytest.mark.parametrize("lang", ["it", "en"])
def test_consent_request_mentions_only_what_was_asked_and_dates_art_14_from_the_capture(lang):
    record = {**samples.testimonial(), "testimonial": {"purposes": ["website"], "photo": False}}
    late = date(2027, 1, 10)
    with log_guard():
        text = text_of(documents.render("consent_request", record, {**samples.PROFILE, "social_accounts": None}, lang,
                                        None, issued_on=late))
    assert ("tipografia" if lang == "it" else "printer") not in text
    assert ("piattaforme social" if lang == "it" else "social media platforms") not in text
    assert ("ma oltre il mese" if lang == "it" else "after the one month") in text
    assert ("entro un mese da quella data" if lang == "it" else "within one month of that date") not in text
    social = {**samples.testimonial()}
    with log_guard():
        text = text_of(documents.render("consent_request", social, {**samples.PROFILE, "social_accounts": None},
                                        lang, None, issued_on=ISSUED))
    assert ("[profili social dell'attività da completare]" if lang == "it"
            else "[the business's social media accounts to be completed]") in text


@pytest.mark.parametrize("lang", ["it", "en"])
def test_incident_report_states_the_strength_of_the_evidence(sample_pdfs, lang):
    text = text_of(sample_pdfs[f"incident_report.{lang}"])
    expected = {
        "it": ["Solidità della prova", "marca temporale RFC 3161", "CN=Example TSA", "23 novembre 2026, 14:12:46 UTC",
               "pagina scaricata dal server in modo indipendente", "Il testo del commento era presente",
               "−855,5 s", "L'orologio del browser era avanti di 14 min 16 s", "Attenzione: una differenza oltre 1 min",
               "Non è un'acquisizione forense certificata", "notaio", "sha256sum -c SHA256SUMS", "verify.py",
               "Secondo testimone: pagina scaricata"],
        "en": ["Strength of the evidence", "RFC 3161 timestamp", "CN=Example TSA", "23 November 2026, 14:12:46 UTC",
               "page fetched independently by the server", "The comment's text was present",
               "−855.5 s", "The browser's clock was 14 min 16 s ahead", "Warning: a difference above 1 min",
               "not a certified forensic acquisition", "notary", "sha256sum -c SHA256SUMS", "verify.py",
               "Second witness: page fetched"],
    }[lang]
    assert not [phrase for phrase in expected if phrase not in text]


@pytest.mark.parametrize("lang", ["it", "en"])
def test_incident_report_says_why_there_is_no_timestamp_and_what_a_failed_witness_found(lang):
    record = samples.offence()
    record["timestamp"] = {"status": "pending", "url": "https://tsa.example/tsr", "last_error": "timed out"}
    record["witness"][0].update(outcome="login_required", text_present=None)
    text = text_of(render_checked("incident_report", record, lang=lang))
    assert ("la richiesta a https://tsa.example/tsr non è riuscita («timed out»)" if lang == "it"
            else 'the request to https://tsa.example/tsr failed ("timed out")') in text
    assert ("la pagina richiede l'accesso" if lang == "it" else "the page requires a login") in text
    del record["timestamp"], record["witness"]
    text = text_of(render_checked("incident_report", record, lang=lang))
    assert ("nessuna marca temporale richiesta" if lang == "it" else "no timestamp was requested") in text
    assert ("Nessuna verifica indipendente" if lang == "it" else "No independent check recorded") in text


@pytest.mark.parametrize("lang", ["it", "en"])
def test_incident_report_translates_every_event_and_groups_hashes(sample_pdfs, lang):
    text = text_of(sample_pdfs[f"incident_report.{lang}"])
    assert not [code for code in document_types.EVENTS + ("capture.created",) if code in text]
    assert ("Marca temporale RFC 3161 ottenuta" if lang == "it" else "RFC 3161 timestamp obtained") in text
    for item in samples.offence()["evidence"]:
        groups = [item["sha256"][i:i + 8] for i in range(0, 64, 8)]
        assert " ".join(groups[:4]) in text or " ".join(groups[4:]) in text  # whole groups, wrapped between groups
        assert all(group in text.split() for group in groups)
    assert "Elena Fittizi" not in text  # the signatory is not invented as the person who captured
    assert ("dal browser dell'utente" if lang == "it" else "from the Testimone user's browser") in text


def test_every_event_the_server_records_is_translated():
    sources = " ".join(path.read_text() for path in (documents.TEMPLATE_DIR.parent / "server").rglob("*.py"))
    emitted = set(re.findall(r'\.(?:update|erase)\([^)]*?"([a-z_]+\.[a-z_]+)"', sources, re.S))
    emitted |= {f"witness.{reason}" for reason in re.findall(r'reason="([a-z_]+)"', sources)}
    assert emitted and emitted <= set(document_types.EVENTS), emitted - set(document_types.EVENTS)
    strings = catalogue("incident_report")
    assert all(f"event.{code}" in strings for code in document_types.EVENTS)


@pytest.mark.parametrize("lang", ["it", "en"])
def test_deadline_on_a_non_working_day_says_to_act_the_working_day_before(lang):
    record = offence_case(known_since="2026-11-20", offence={"known_since": "2026-11-20"})
    text = text_of(render_checked("incident_report", record, lang=lang))
    assert ("Il 20 febbraio 2027 è sabato" if lang == "it" else "20 February 2027 is a Saturday") in text
    assert ("venerdì 19 febbraio 2027" if lang == "it" else "Friday 19 February 2027") in text
    published = {**record, "posted_at": "2026-11-18T10:00:00+01:00"}
    text = text_of(render_checked("incident_report", published, lang=lang))
    assert ("18 novembre 2031" if lang == "it" else "18 November 2031") in text  # civil damages from publication


@pytest.mark.parametrize("lang", ["it", "en"])
def test_no_page_is_left_almost_empty(sample_pdfs, lang):
    for name, pdf in sample_pdfs.items():
        if not name.endswith(lang):
            continue
        pages = page_texts(pdf)
        if len(pages) > 1:
            words = len(pages[-1].split()) - 20  # header and footer
            assert words > 40, (name, pages[-1][:300])


@pytest.mark.parametrize("lang, number, duration", [("it", "−855,5", "14 min 16 s"), ("en", "−855.5", "14 min 16 s")])
def test_numbers_and_dates_follow_the_language(lang, number, duration):
    assert documents.format_number(-855.51, lang, 1) == number
    assert documents.format_duration(-855.51, lang) == duration
    assert documents.format_number(1841207, lang) == ("1.841.207" if lang == "it" else "1,841,207")
    assert documents.format_duration(929256.5, lang) == ("10 giorni 18 h" if lang == "it" else "10 days 18 h")
    assert documents._format_date(date(2026, 12, 1), lang) == ("1° dicembre 2026" if lang == "it" else "1 December 2026")
    assert documents.place_of("Via Roma 1, 30033 Noale (VE)") == "Noale"
    assert documents.place_of("somewhere") is None


# -- who is targeted, what is false, who captured, in which language (case fields) ----------------------

@pytest.mark.parametrize("lang", ["it", "en"])
def test_report_deadlines_and_checklist_name_who_files(lang):
    words = {"it": ("Persona offesa, personalmente", "la presenta Rina Bianchi personalmente", "due querele"),
             "en": ("Injured party, in person", "Rina Bianchi files the complaint personally", "two complaints")}[lang]
    person = text_of(render_checked("incident_report", offence_case(
        offence={"target": "person", "target_person": "Rina Bianchi"}), lang=lang))
    assert words[0] in person and words[1] in person and "IT01234567897" not in person
    both = text_of(render_checked("incident_report", offence_case(
        offence={"target": "both", "target_person": "Rina Bianchi"}), lang=lang))
    assert words[0] in both and words[2] in both and "IT01234567897" in both
    business = text_of(render_checked("incident_report", samples.offence(), lang=lang))
    assert "Rina" not in business and words[0] not in business


@pytest.mark.parametrize("lang", ["it", "en"])
def test_worksheet_and_letter_are_filled_from_the_statements_marked_false(lang):
    record = offence_case(offence={"false_statements": ["in cucina usano carne scaduta"]})
    report = text_of(render_checked("incident_report", record, lang=lang))
    assert ("«in cucina usano carne scaduta» (falsa secondo l'utente)" if lang == "it"
            else "«in cucina usano carne scaduta» (false, according to the user)") in report
    letter = text_of(render_checked("removal_demand", record, lang=lang))
    assert ("L'affermazione «in cucina usano carne scaduta» attribuisce" if lang == "it"
            else 'The statement "in cucina usano carne scaduta" attributes') in letter
    assert ("il cuoco è un truffatore» attribuisc" if lang == "it" else "truffatore\" attribut") not in letter


@pytest.mark.parametrize("lang", ["it", "en"])
def test_capturer_is_named_only_when_the_user_said_who_captures(lang):
    named = text_of(render_checked("incident_report", {**samples.offence(), "captured_by": "Paolo Verdi"}, lang=lang))
    assert ("da Paolo Verdi, per conto di Trattoria Al Gelso Invento" if lang == "it"
            else "by Paolo Verdi, on behalf of Trattoria Al Gelso Invento") in named
    anonymous = text_of(render_checked("incident_report", samples.offence(), lang=lang))
    assert "Paolo" not in anonymous and "Elena Fittizi" not in anonymous


def patch(client, case_id, body):
    return client.patch(f"/api/captures/{case_id}", json=body)


def test_case_fields_set_through_the_api_reach_the_documents(client, store):
    assert client.put("/api/profile", json={**samples.PROFILE, "capture_operator": "Paolo Verdi"}).status_code == 200
    case_id = create(client)
    assert store.get(case_id)["captured_by"] == "Paolo Verdi"
    answer = patch(client, case_id, {"target": "both", "target_person": "Rina  Bianchi",
                                     "false_statements": ["il cuoco  è un incapace"], "recipient_language": "en"})
    assert answer.status_code == 200, answer.json
    record = store.get(case_id)
    assert record["offence"]["target"] == "both" and record["offence"]["target_person"] == "Rina Bianchi"
    assert record["offence"]["false_statements"] == ["il cuoco è un incapace"] and record["recipient_language"] == "en"
    event = audit_events(store, "case.updated")[-1]
    assert '"target":"both"' in event and "Rina" not in event and "incapace" not in event
    text = text_of(client.get(f"/api/captures/{case_id}/removal-demand.pdf").data)
    assert "Formal removal demand" in text or "Subject: formal demand" in text  # the case's language, no ?lang=
    assert "Rina Bianchi" in text and 'The statement "il cuoco è un incapace" attributes' in text
    italian = text_of(client.get(f"/api/captures/{case_id}/removal-demand.pdf?lang=it").data)
    assert "Oggetto: diffida" in italian  # ?lang= still wins
    report = text_of(client.get(f"/api/captures/{case_id}/document.pdf").data)
    assert "by Paolo Verdi" in report
    assert patch(client, case_id, {"target": "business"}).status_code == 200
    assert store.get(case_id)["offence"]["target_person"] is None


@pytest.mark.parametrize("body, status, field", [
    ({"target": "company"}, 400, "target"),
    ({"target": "person"}, 400, "target_person"),
    ({"target": "both", "target_person": "   "}, 400, "target_person"),
    ({"target": "business", "target_person": "Rina"}, 400, "target_person"),
    ({"target_person": "x" * 201}, 400, "target_person"),
    ({"false_statements": "il cuoco"}, 400, "false_statements"),
    ({"false_statements": ["il cuoco è un incapace", "mai scritto"]}, 400, "false_statements.1"),
    ({"false_statements": [""]}, 400, "false_statements.0"),
    ({"false_statements": ["incapace"] * 21}, 400, "false_statements"),
    ({"recipient_language": "fr"}, 400, "recipient_language"),
    ({"recipient_language": None}, 400, "recipient_language"),
])
def test_bad_case_fields_name_their_field_and_change_nothing(client, store, body, status, field):
    case_id = create(client)
    before = store.get(case_id)
    answer = patch(client, case_id, body)
    assert answer.status_code == status and answer.json["error"]["field"] == field, answer.json
    assert store.get(case_id) == before


@pytest.mark.parametrize("body, field", [({"target": "person", "target_person": "Rina"}, "target"),
                                         ({"false_statements": ["Cena"]}, "false_statements")])
def test_offence_fields_on_a_testimonial_are_refused(client, store, body, field):
    case_id = create(client, "testimonial")
    answer = patch(client, case_id, body)
    assert answer.status_code == 409 and answer.json["error"]["field"] == field
    assert patch(client, case_id, {"recipient_language": "en"}).status_code == 200


def test_dashboard_downloads_use_the_case_language_not_the_dashboards(client, app):
    from conftest import HOST
    browser = log_in(app.test_client(), app.extensions["testimone.store"].data_dir)
    case_id = create(client, "testimonial")
    page = browser.get(f"/cases/{case_id}", base_url=f"http://{HOST}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert 'id="document-fields"' in page.get_data(as_text=True)
    browser.post(f"/cases/{case_id}/documents", base_url=f"http://{HOST}",
                 data={"csrf_token": token, "recipient_language": "en"})
    pdf = browser.get(f"/cases/{case_id}/files/document.pdf", base_url=f"http://{HOST}")  # dashboard in Italian
    assert "Request for consent to use your review" in text_of(pdf.data)
    offence = create(client)
    browser.post(f"/cases/{offence}/documents", base_url=f"http://{HOST}",
                 data={"csrf_token": token, "recipient_language": "it", "target": "person", "target_person": "",
                       "false_statements": ""}, follow_redirects=True)
    assert "target" not in (client.get(f"/api/captures/{offence}").json.get("offence") or {})  # refused: no name


@pytest.mark.parametrize("lang", ["it", "en"])
def test_no_heading_is_left_at_the_foot_of_a_page(sample_pdfs, lang):
    for name, pdf in sample_pdfs.items():
        if not name.endswith(lang):
            continue
        document = name.split(".")[0].removesuffix("_pending").removesuffix("_done")
        strings = catalogue(document)
        headings = {str(v[lang]) for k, v in strings.items() if re.fullmatch(r"s\d+|strength_title|attribution|"
                                                                             r"photo_title|edits_title|duration_title", k)}
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        for number in range(1, pages):
            out = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), "-enc", "UTF-8", "-", "-"],
                                 input=pdf, capture_output=True, check=True).stdout.decode()
            body = out.split({"it": "Versione documento", "en": "Document version"}[lang])[0]
            lines = [line.strip() for line in body.splitlines() if line.strip()]
            assert lines and lines[-1] not in headings, (name, number, lines[-1])
