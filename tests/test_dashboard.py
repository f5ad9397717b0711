"""The dashboard: pages, filters, CSRF, forms, downloads, and a real browser clicking through a case."""
import json
import re
import urllib.request

import pytest

from conftest import HOST, TOKEN, log_in, make_capture, png_bytes, tree_digest
from server import security

pytestmark = pytest.mark.usefixtures("pinned_today")


@pytest.fixture
def browser_client(app, store):
    """A logged-in browser on the dashboard: its own Host name, no Authorization header, a cookie jar."""
    return log_in(app.test_client(), store.data_dir)


def get(client, path, **kwargs):
    return client.get(path, base_url=f"http://{HOST}", **kwargs)


def post(client, path, data, **kwargs):
    return client.post(path, base_url=f"http://{HOST}", data=data, **kwargs)


def create(client, kind="offence", **overrides):
    response = client.post("/api/captures", json=make_capture(kind, **overrides))
    assert response.status_code == 201, response.json
    return response.json["id"]


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_case_list_shows_next_deadlines_and_marks_the_urgent_ones(client, browser_client):
    urgent = create(client, offence={"category": "threat_or_blackmail", "known_since": "2026-09-05"})
    later = create(client)
    page = get(browser_client, "/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    upcoming = html.split('id="upcoming-title"')[1].split("</section>")[0]
    first, second = upcoming.split("<li")[1:3]
    assert urgent[-6:] in first and 'class="urgent"' in first and "days-urgent" in first and "12 giorni" in first
    assert later[-6:] in second and "urgent" not in second and "91 giorni" in second
    assert "Prossime scadenze" in html and "Ottavio Inventato" in html
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_filters(client, browser_client):
    offence = create(client)
    testimonial = create(client, "testimonial", author={"name": "Lucia Prova", "profile_url": None})
    only_testimonials = get(browser_client, "/?kind=testimonial").get_data(as_text=True)
    assert testimonial[-6:] in only_testimonials and f"#{offence[-6:]}" not in only_testimonials
    searched = get(browser_client, "/?q=lucia").get_data(as_text=True)
    assert "Lucia Prova" in searched and f"#{offence[-6:]}" not in searched
    nothing = get(browser_client, "/?status=resolved").get_data(as_text=True)
    assert "Nessun caso." in nothing
    # Values the filters do not know are ignored, never a 500.
    assert get(browser_client, "/?kind=x&status=%00&cursor=zzz&q=" + "a" * 500).status_code == 200


def test_case_page_shows_evidence_hashes_history_and_advice(client, browser_client, store):
    case_id = create(client)
    record = store.get(case_id)
    html = get(browser_client, f"/cases/{case_id}").get_data(as_text=True)
    assert "Il peggior ristorante della città" in html
    for item in record["evidence"]:
        assert item["sha256"] in html
    assert record["sha256"] in html and "Acquisizione salvata" in html
    assert "Prima contatta il cliente" in html and "22/02/2027" in html
    shot = get(browser_client, f"/cases/{case_id}/evidence/screenshot.png")
    assert shot.mimetype == "image/png" and shot.data == png_bytes()
    # Captured HTML never renders on this origin.
    html_file = get(browser_client, f"/cases/{case_id}/evidence/comment.html")
    assert html_file.mimetype == "application/octet-stream" and "attachment" in html_file.headers["Content-Disposition"]
    assert get(browser_client, f"/cases/{case_id}/evidence/capture.json").status_code == 404
    assert get(browser_client, "/cases/20260101-000000-abcdef").status_code == 404


def test_english(client, browser_client):
    case_id = create(client)
    get(browser_client, "/lang/en?next=/")
    html = get(browser_client, f"/cases/{case_id}").get_data(as_text=True)
    assert "First contact the customer" in html and "Deadline for the criminal complaint" in html
    assert get(browser_client, "/lang/it?next=//evil.example").headers["Location"] == "/"


def test_forms_without_the_csrf_token_are_refused_and_change_nothing(client, browser_client, store):
    case_id = create(client)
    token = csrf_of(get(browser_client, f"/cases/{case_id}"))
    before = tree_digest(store.data_dir)
    form = {"type": "contacted", "date": "2026-11-23"}
    for data in (form, {**form, "csrf_token": "forged"}):
        refused = post(browser_client, f"/cases/{case_id}/actions", data)
        assert refused.status_code == 400 and "Modulo scaduto" in refused.get_data(as_text=True)
    other_site = post(browser_client, f"/cases/{case_id}/actions", {**form, "csrf_token": token},
                      headers={"Origin": "http://evil.example"})
    assert other_site.status_code == 400
    # A browser that never logged in has no session: not even asked for a token.
    fresh = post(browser_client.application.test_client(), f"/cases/{case_id}/actions", {**form, "csrf_token": ""})
    assert fresh.status_code == 401
    assert tree_digest(store.data_dir) == before
    accepted = post(browser_client, f"/cases/{case_id}/actions", {**form, "csrf_token": token})
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith(f"/cases/{case_id}#actions")
    assert store.get(case_id)["status"] == "contacted"


def test_testimonial_forms_and_errors_in_the_page_language(client, browser_client, store):
    case_id = create(client, "testimonial")
    token = csrf_of(get(browser_client, f"/cases/{case_id}"))
    answered = post(browser_client, f"/cases/{case_id}/consent",
                    {"csrf_token": token, "decision": "partial", "purpose_website": "on", "attribution": "anonymous",
                     "received_via": "email", "received_at": "2026-11-23"}, follow_redirects=True)
    assert "Risposta registrata." in answered.get_data(as_text=True)
    assert store.get(case_id)["consent"]["purposes"]["website"] == "granted"
    refused = post(browser_client, f"/cases/{case_id}/placements",
                   {"csrf_token": token, "channel": "social", "published_at": "2026-11-23"}, follow_redirects=True)
    assert "non ha dato il consenso per questo canale" in refused.get_data(as_text=True)
    bad_date = post(browser_client, f"/cases/{case_id}/placements",
                    {"csrf_token": token, "channel": "website", "published_at": "2999-01-01"}, follow_redirects=True)
    assert "«Pubblicata il» non può essere una data futura" in bad_date.get_data(as_text=True)
    post(browser_client, f"/cases/{case_id}/placements",
         {"csrf_token": token, "channel": "website", "published_at": "2026-11-23", "url": "https://t.example/r"})
    unconfirmed = post(browser_client, f"/cases/{case_id}/revocation",
                       {"csrf_token": token, "received_at": "2026-11-23", "received_via": "email"})
    assert unconfirmed.status_code == 302 and store.get(case_id)["text"] is not None
    post(browser_client, f"/cases/{case_id}/revocation",
         {"csrf_token": token, "received_at": "2026-11-23", "received_via": "email", "confirm": "on"})
    assert store.get(case_id)["status"] == "consent_withdrawn"
    html = get(browser_client, f"/cases/{case_id}").get_data(as_text=True)
    assert "Cena splendida" not in html and "sono stati cancellati" in html
    post(browser_client, f"/cases/{case_id}/placements/p1/removed", {"csrf_token": token, "removed_at": "2026-11-23"})
    assert store.get(case_id)["status"] == "taken_down"


def test_offence_forms(client, browser_client, store):
    case_id = create(client)
    token = csrf_of(get(browser_client, f"/cases/{case_id}"))
    post(browser_client, f"/cases/{case_id}/signals",
         {"csrf_token": token, "signal_impatience": "on", "signal_made_up": "on"})
    assert store.get(case_id)["signals"] == ["impatience"]
    no_reason = post(browser_client, f"/cases/{case_id}/known-since",
                     {"csrf_token": token, "known_since": "2026-11-20"}, follow_redirects=True)
    assert "«Motivo»" in no_reason.get_data(as_text=True) and store.get(case_id)["known_since"] == "2026-11-22"
    post(browser_client, f"/cases/{case_id}/known-since",
         {"csrf_token": token, "known_since": "2026-11-20", "reason": "Visto prima"})
    assert store.get(case_id)["deadlines"][0]["due"] == "2027-02-20"
    author = get(browser_client, "/authors?profile_url=https://www.facebook.com/ottavio.inventato.7")
    assert author.status_code == 200 and case_id[-6:] in author.get_data(as_text=True)
    assert get(browser_client, "/authors?profile_url=javascript:alert(1)").status_code == 404


def test_documents_are_streamed_only_to_a_dashboard_session(client, browser_client):
    case_id = create(client)
    no_session = get(browser_client.application.test_client(), f"/cases/{case_id}/files/document.pdf")
    assert no_session.status_code == 401 and not no_session.data.startswith(b"%PDF")
    get(browser_client, f"/cases/{case_id}")
    answer = get(browser_client, f"/cases/{case_id}/files/document.pdf")
    assert answer.data.startswith(b"%PDF-") and "attachment" in answer.headers["Content-Disposition"]
    # A document the case does not have: the API says 409, the page says why.
    missing = get(browser_client, f"/cases/{case_id}/files/takedown.pdf")
    assert missing.status_code == 302
    assert "Documento non disponibile" in get(browser_client, f"/cases/{case_id}").get_data(as_text=True)
    assert TOKEN not in get(browser_client, f"/cases/{case_id}").get_data(as_text=True)
    assert get(browser_client, f"/cases/{case_id}/files/secrets.txt").status_code == 302
    calendar = get(browser_client, "/calendar.ics")
    assert calendar.mimetype == "text/calendar" and b"BEGIN:VCALENDAR" in calendar.data


def test_connect_page_shows_the_token_and_the_feed(browser_client):
    html = get(browser_client, "/connect").get_data(as_text=True)
    assert TOKEN in html and f"http://{HOST}/api/deadlines.ics?token={TOKEN}" in html


def test_settings_saves_a_valid_profile_and_names_a_bad_field(browser_client, store):
    token = csrf_of(get(browser_client, "/settings"))
    bad = post(browser_client, "/settings", {"csrf_token": token, "business_name": "Trattoria Demo",
                                            "email": "not-an-email", "default_language": "it"})
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert store.get_setting("profile") is None
    good = post(browser_client, "/settings", {"csrf_token": token, "business_name": "Trattoria Demo",
                                             "email": "info@trattoria.example", "default_language": "en"})
    assert good.status_code == 302
    assert store.get_setting("profile")["business_name"] == "Trattoria Demo"
    assert "Business profile" in get(browser_client, "/settings").get_data(as_text=True)


def test_only_the_servers_own_host_name(browser_client):
    assert browser_client.get("/", base_url="http://evil.example:8765").status_code == 403


def api(live_server, path, body):
    request = urllib.request.Request(f"{live_server.url}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {live_server.token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def test_a_browser_clicks_through_a_testimonial_case(live_server):
    from playwright.sync_api import expect, sync_playwright

    case_id = api(live_server, "/api/captures", make_capture("testimonial"))["id"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/lib/chromium/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.goto(f"{live_server.url}/login?key={security.new_login_key(live_server.data_dir)}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Benvenuto! Per prima cosa, la tua attività")
            page.get_by_role("link", name="Più tardi").click()
            page.get_by_role("link", name=re.compile(case_id[-6:])).click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(case_id[-6:])
            expect(page.locator("img[src$='screenshot.png']")).to_be_visible()

            page.get_by_label("Consenso parziale").check()
            page.get_by_label("Sito web").check()
            page.get_by_role("button", name="Salva la risposta").click()
            expect(page.get_by_role("status")).to_have_text("Risposta registrata.")

            page.get_by_text("Aggiungi una pubblicazione").click()
            page.get_by_label("URL").fill("https://trattoria.example/recensioni")
            page.get_by_role("button", name="Salva la pubblicazione").click()
            expect(page.get_by_role("status")).to_have_text("Pubblicazione registrata.")

            page.once("dialog", lambda dialog: dialog.accept())
            page.get_by_label("Ho capito").check()
            page.get_by_role("button", name="Registra la revoca e cancella").click()
            expect(page.get_by_role("status")).to_contain_text("Revoca registrata")
            expect(page.locator(".erased-note")).to_be_visible()
            expect(page.locator("blockquote")).to_have_count(0)

            page.get_by_role("button", name="Segna rimossa").click()
            expect(page.locator(".case-meta")).to_contain_text("Rimosso ovunque")
            assert errors == []  # no CSP violation, no script error
        finally:
            browser.close()
    assert b"Cena splendida" not in b"".join(p.read_bytes() for p in live_server.data_dir.rglob("*") if p.is_file())


def test_integrity_page_shows_the_verify_result_and_names_a_tampered_file(client, browser_client, store):
    case_id = create(client)
    page = get(browser_client, "/integrity").get_data(as_text=True)
    assert 'class="verdict ok"' in page and "Tutto integro" in page
    screenshot = store.data_dir / "cases" / case_id / "screenshot.png"
    data = bytearray(screenshot.read_bytes())
    data[-1] ^= 0xFF
    screenshot.write_bytes(bytes(data))
    page = get(browser_client, "/integrity").get_data(as_text=True)
    assert 'class="verdict failed"' in page
    assert f"cases/{case_id}/screenshot.png" in page
