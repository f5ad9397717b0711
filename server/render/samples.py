"""Built-in sample cases (invented people, invented text).

`testimone render-samples DIR` writes every document in both languages from these (each document type
names its samples in server/render/document_types.py), so anyone can look at the PDFs without capturing
anything. The tests and the benchmark use the same samples.
"""
import hashlib
import io
from datetime import date

from PIL import Image, ImageDraw

from ..domain import legal

PROFILE = {
    "business_name": "Trattoria Al Gelso Invento",
    "legal_form": "S.n.c.",
    "address": "Via dei Mulini Immaginari 12, 40121 Bologna",
    "vat_number": "IT01234567897",
    "email": "info@gelso-invento.example",
    "pec": "gelso-invento@pec.example",
    "phone": "+39 051 000 0000",
    "website": "https://gelso-invento.example",
    "dpo_contact": None,
    "signatory_name": "Elena Fittizi",
    "signatory_role": "legale rappresentante",
    "social_accounts": "Facebook, Instagram",
    "default_language": "it",
}

SCREENSHOT_SIZE = (1366, 768)
COMMENT_RECT = {"x": 318, "y": 402, "width": 730, "height": 150}


def screenshot(size=SCREENSHOT_SIZE, rect=COMMENT_RECT) -> bytes:
    """A plain drawing of a social page with one comment, same bytes every time."""
    width, height = size
    image = Image.new("RGB", size, (240, 242, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 56), fill=(255, 255, 255))
    draw.rectangle((300, 80, width - 300, height - 20), fill=(255, 255, 255))
    draw.rectangle((318, 100, 700, 124), fill=(210, 214, 220))
    for row in range(4):
        draw.rectangle((318, 150 + row * 40, width - 320, 166 + row * 40), fill=(228, 230, 235))
    x, y = rect["x"], rect["y"]
    draw.ellipse((x, y + 10, x + 40, y + 50), fill=(180, 190, 205))
    draw.rounded_rectangle((x + 52, y + 6, x + rect["width"], y + rect["height"] - 10), 16, fill=(240, 242, 245))
    for row in range(3):
        draw.rectangle((x + 70, y + 26 + row * 30, x + rect["width"] - 60 - row * 90, y + 40 + row * 30),
                       fill=(190, 195, 204))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _evidence(shot: bytes) -> list[dict]:
    return [{"name": "screenshot.png", "media_type": "image/png", "size": len(shot),
             "sha256": hashlib.sha256(shot).hexdigest()},
            {"name": "page.mhtml", "media_type": "multipart/related", "size": 1841207,
             "sha256": "5f0c8e1d2b3a49c7e6d5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3"},
            {"name": "comment.html", "media_type": "text/html", "size": 3120,
             "sha256": "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"}]


def _context(language: str) -> dict:
    return {"captured_at_client": "2026-11-23T14:27:00.412Z", "timezone": "Europe/Rome",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36",
            "extension_version": "0.1.0", "server_ip": "157.240.0.35", "language": language}


def testimonial() -> dict:
    shot = screenshot()
    return {
        "id": "20261123-142701-a3f9c2", "kind": "testimonial", "status": "consent_requested",
        "platform": "facebook", "page_url": "https://www.facebook.com/gelso.invento/posts/pfbid0Sample1",
        "permalink": "https://www.facebook.com/gelso.invento/posts/pfbid0Sample1?comment_id=1700000000000001",
        "author": {"name": "Marta Esempi", "profile_url": "https://www.facebook.com/marta.esempi.0"},
        "text": "Siamo venuti per il compleanno di mia madre: tortellini come quelli di una volta, "
                "servizio gentilissimo e un tiramisù da ricordare.\nTorneremo di sicuro!",
        "title": None, "rating": None, "posted_at": "2026-11-20T18:31:00+01:00",
        "posted_at_text": "20 novembre alle ore 18:31", "visit_date_text": None, "post": None,
        "machine_translated": False, "language": "it", "captured_at": "2026-11-23T14:27:01.123Z",
        "context": _context("it"), "screenshot_rect": COMMENT_RECT,
        "sha256": "9b1f3c0e7d2a4b6c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d",
        "evidence": _evidence(shot),
        "history": [{"at": "2026-11-23T14:27:01.123Z", "event": "capture.created"}],
        "testimonial": {"purposes": ["website", "social", "print"], "photo": True},
    }


def offence() -> dict:
    shot = screenshot()
    record = {
        "id": "20261123-151244-7c41e0", "kind": "offence", "status": "documented",
        "platform": "tripadvisor",
        "page_url": "https://www.tripadvisor.it/ShowUserReviews-g187801-d0000000-r900000001-Trattoria_Al_Gelso_Invento.html",
        "permalink": None,
        "author": {"name": "Viaggiatore_Ipotetico88", "profile_url": "https://www.tripadvisor.it/Profile/Viaggiatore_Ipotetico88"},
        "text": "Locale sporco, il cuoco è un truffatore e in cucina usano carne scaduta: "
                "lo sanno tutti in quartiere. Il titolare è un ladro.",
        "title": "Da evitare", "rating": 1, "posted_at": None, "posted_at_text": "Scritta il 18 novembre 2026",
        "visit_date_text": "nov 2026 • In coppia", "post": None, "machine_translated": False,
        "language": "it", "captured_at": "2026-11-23T14:12:44.902Z", "context": _context("it"),
        "screenshot_rect": COMMENT_RECT,
        "sha256": "3e5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a",
        "evidence": _evidence(shot),
        "history": [{"at": "2026-11-23T14:12:44.902Z", "event": "capture.created"}],
        "offence": {"category": "defamation", "known_since": "2026-11-21",
                    "notes": "Nessuna prenotazione a questo nome nelle date indicate. Fornitore della carne: "
                             "Macelleria Esempio, fatture disponibili."},
        "known_since": "2026-11-21",
        "actions": [{"id": "a1", "type": "platform_report", "date": "2026-11-23", "reference": "TA-000123",
                     "notes": None, "recorded_at": "2026-11-23T15:00:00Z"}],
    }
    # What the server's evidence worker adds after the capture: timestamp, clock record, second witness.
    record["evidence"] += [
        {"name": "capture.json", "media_type": "application/json", "size": 4812,
         "sha256": record["sha256"]},
        {"name": "timestamp.tsq", "media_type": "application/timestamp-query", "size": 89,
         "sha256": "7d1e4a90c2b3f5e6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0"},
        {"name": "timestamp.tsr", "media_type": "application/timestamp-reply", "size": 5413,
         "sha256": "c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789"},
        {"name": "timestamp-chain.pem", "media_type": "application/x-pem-file", "size": 4210,
         "sha256": "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899"},
        {"name": "witness-1.json", "media_type": "application/json", "size": 2733,
         "sha256": "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef"},
    ]
    record["timestamp"] = {"status": "stamped", "url": "https://tsa.example/tsr", "time": "2026-11-23T14:12:46Z",
                           "tsa": "CN=Example TSA,O=Example Trust Services,C=IT", "serial": "1001",
                           "policy": "1.2.3.4.1", "imprint_sha256": record["sha256"],
                           "files": {"tsq": "timestamp.tsq", "tsr": "timestamp.tsr", "chain": "timestamp-chain.pem"}}
    record["witness"] = [{"at": "2026-11-23T14:12:49.310Z", "reason": "capture", "outcome": "fetched",
                          "status": 200, "addresses": ["151.101.0.1"], "text_present": True,
                          "body_sha256": "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
                          "tls_verified": True, "file": "witness-1.json",
                          "sha256": "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef"}]
    record["history"] += [
        {"at": "2026-11-23T14:12:46.120Z", "event": "timestamp.stamped", "tsa": "https://tsa.example/tsr"},
        {"at": "2026-11-23T14:12:46.300Z", "event": "clock.recorded", "difference_seconds": -855.51},
        {"at": "2026-11-23T14:12:49.400Z", "event": "witness.capture", "outcome": "fetched", "file": "witness-1.json"},
        {"at": "2026-11-23T15:00:00.000Z", "event": "action.recorded", "type": "platform_report"},
    ]
    record["deadlines"] = legal.compute_deadlines("defamation", date(2026, 11, 21), record["actions"],
                                                  date(2026, 11, 23))
    return record


def withdrawn(complete: bool = True) -> dict:
    """The testimonial after the author withdrew consent (personal fields erased, as server/domain/cases.py does)."""
    record = testimonial()
    record.update(status="taken_down" if complete else "consent_withdrawn",
                  author={"name": None, "profile_url": None}, text=None, permalink=None, posted_at_text=None)
    record["evidence"] = [e for e in record["evidence"] if not e["name"].startswith(("screenshot.", "page.", "comment."))]
    record["consent"] = {
        "purposes": {"website": "withdrawn", "landing_page": "not_requested", "social": "withdrawn",
                     "print": "denied", "ads": "not_requested"},
        "photo": False, "attribution": "first_name_initial", "answers": [],
        "withdrawal": {"received_at": "2026-12-02", "received_via": "email", "recorded_at": "2026-12-02T09:10:00Z"},
    }
    record["placements"] = [
        {"id": "p1", "channel": "website", "url": "https://gelso-invento.example/dicono-di-noi",
         "description": None, "published_at": "2026-11-26", "removed_at": "2026-12-02",
         "removal_evidence": None, "recorded_at": "2026-11-26T10:00:00Z"},
        {"id": "p2", "channel": "social", "url": "https://www.instagram.com/p/Sample000",
         "description": "Post del 27 novembre", "published_at": "2026-11-27",
         "removed_at": "2026-12-03" if complete else None, "removal_evidence": None,
         "recorded_at": "2026-11-27T10:00:00Z"},
    ]
    return record
