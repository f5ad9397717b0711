"""A person's capture, end to end: open the page, click the toolbar icon, "Capture a comment", click
the comment, choose in the dialog; then read what the real server stored."""
import hashlib
import struct

import pytest

from .conftest import wait_until

FACEBOOK_POST = "https://www.facebook.com/trattoria.demo/posts/pfbid02Xk9TrattoriaDemo7l"
TRIPADVISOR_RESTAURANT = ("https://www.tripadvisor.it/Restaurant_Review-g187791-d1234567-Reviews-"
                          "Trattoria_Demo-Rome_Lazio.html")


HINT_SHOWN = ("() => { const ui = document.querySelector('[data-testimone-ui=dialog]');"
              " const hint = ui && ui.shadowRoot.querySelector('.hint'); return Boolean(hint && !hint.hidden); }")


def pick(browser, page, selector):
    """Toolbar icon (grants activeTab) → "Capture a comment" → click the comment.

    The popup's button sends {type: "start-picker", payload: {tabId}} to the background; the test sends
    that same message from an extension page, because a raw-CDP click into the popup raced with the
    popup's loading (see docs/extension.md)."""
    popup = browser.click_toolbar_button(page)
    browser.close_target(popup)
    tab_id = browser.tab_id(page.url)
    assert browser.extension.evaluate(
        "id => chrome.runtime.sendMessage({type: 'start-picker', payload: {tabId: id}})", tab_id) == {"status": "started"}
    page.bring_to_front()
    page.wait_for_function(HINT_SHOWN, polling=100, timeout=15000)
    page.locator(selector).first.click()
    page.locator('section[role="dialog"]').wait_for()


def capture_fake_review_while_down(browser, testimone) -> dict:
    """With the server stopped, capture a TripAdvisor review as an offence: it waits in the queue."""
    testimone.stop()
    page = browser.open(TRIPADVISOR_RESTAURANT)
    pick(browser, page, 'div[data-automation="reviewCard"] span.yCeTE >> nth=3')
    page.select_option('select[name="category"]', "fake_review")
    page.click('button[data-action="offence"]')
    page.locator('.result[data-state="queued"]').wait_for(timeout=20000)
    return browser.storage()["queue"]


def saved_id(page) -> str:
    page.locator('.result:not([hidden])').wait_for(timeout=20000)
    result = page.locator('.result[data-state="saved"]')
    assert result.count() == 1, page.locator(".result").evaluate("node => node.outerHTML")
    return result.inner_text().split()[1]


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def check_evidence(testimone, record, comment_text):
    folder = testimone.data_dir / "cases" / record["id"]
    names = {item["name"]: item for item in record["evidence"]}
    assert {"screenshot.png", "page.mhtml", "comment.html"} <= set(names)
    for name, item in names.items():
        data = (folder / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item["sha256"], name
        assert len(data) == item["size"], name
    width, height = png_size((folder / "screenshot.png").read_bytes())
    rect = record["screenshot_rect"]
    assert rect["width"] > 0 and rect["height"] > 0
    assert rect["x"] + rect["width"] <= width and rect["y"] + rect["height"] <= height
    mhtml = (folder / "page.mhtml").read_bytes()
    assert b"multipart/related" in mhtml[:2000]
    assert b"Snapshot-Content-Location: https://www." in mhtml[:2000]
    assert comment_text.encode() in (folder / "comment.html").read_bytes()
    canonical = (folder / "capture.json").read_bytes()
    assert hashlib.sha256(canonical).hexdigest() == record["sha256"]


def test_facebook_comment_as_offence(browser, testimone):
    page = browser.open(FACEBOOK_POST)
    pick(browser, page, 'div[aria-label^="Commento di Ottavio"] div[dir="auto"]')
    dialog = page.locator('section[role="dialog"]')
    assert "Ottavio Inventato" in dialog.inner_text()
    assert "diritto di critica" in dialog.locator('[data-field="advice"]').inner_text()
    page.select_option('select[name="category"]', "defamation")
    page.fill('textarea[name="notes"]', "Mai stato nostro cliente.")
    page.click('button[data-action="offence"]')
    case_id = saved_id(page)

    record = testimone.get(f"/api/captures/{case_id}")
    assert record["kind"] == "offence" and record["status"] == "documented"
    assert record["platform"] == "facebook"
    assert record["page_url"] == FACEBOOK_POST
    assert record["permalink"] == f"{FACEBOOK_POST}?comment_id=1772521800368774"
    assert record["author"] == {"name": "Ottavio Inventato", "profile_url": "https://www.facebook.com/ottavio.inventato.7"}
    assert record["text"].startswith("Il peggior ristorante della città")
    assert record["posted_at_text"] == "2 g"
    assert record["post"]["author"] == "Trattoria Demo"
    assert record["offence"]["category"] == "defamation"
    assert record["offence"]["notes"] == "Mai stato nostro cliente."
    assert record["context"]["server_ip"] == "127.0.0.1", "the IP of the server that delivered the page"
    assert record["context"]["language"] == "it"
    assert record["context"]["extension_version"] == "0.1.0"
    check_evidence(testimone, record, "Il peggior ristorante")
    assert browser.storage().get("queue") == []


def test_facebook_truncated_comment_as_testimonial_is_expanded(browser, testimone):
    page = browser.open(FACEBOOK_POST)
    pick(browser, page, 'div[aria-label^="Commento di Beatrice"] > div.x1y1aw1k div[dir="auto"][style]')
    page.locator('input[name="purpose"][value="social"]').check()
    page.locator('input[name="photo"]').check()
    page.click('button[data-action="testimonial"]')
    record = testimone.get(f"/api/captures/{saved_id(page)}")
    assert record["kind"] == "testimonial" and record["status"] == "consent_requested"
    assert record["text"].endswith("Torneremo sicuramente!"), "Altro was clicked before extracting"
    assert record["testimonial"] == {"purposes": ["website", "social"], "photo": True}
    assert record["author"]["profile_url"] == "https://www.facebook.com/profile.php?id=100089123456789"
    check_evidence(testimone, record, "Torneremo sicuramente!")


def test_tripadvisor_review_as_testimonial(browser, testimone):
    page = browser.open(TRIPADVISOR_RESTAURANT)
    pick(browser, page, 'div[data-automation="reviewCard"] span.yCeTE >> nth=1')
    page.click('button[data-action="testimonial"]')
    record = testimone.get(f"/api/captures/{saved_id(page)}")
    assert record["platform"] == "tripadvisor"
    assert record["rating"] == 5
    assert record["title"] == "Carbonara da ricordare"
    assert record["visit_date_text"] == "set 2026 • Coppie"
    assert record["permalink"].startswith("https://www.tripadvisor.it/ShowUserReviews-g187791-d1234567-r934556787-")
    assert record["text"].endswith("Torneremo con gli amici!"), "Leggi di più was clicked"
    check_evidence(testimone, record, "Carbonara cremosa")


def test_server_down_queues_then_delivers_exactly_once(browser, testimone):
    queue = capture_fake_review_while_down(browser, testimone)
    assert len(queue) == 1 and queue[0]["body"]["author"]["name"] == "Winifred T"

    popup = browser.extension_page("popup/popup.html")
    popup.locator("#queue").wait_for(state="visible")
    assert "1" in popup.locator("#queue-count").inner_text()

    testimone.start()
    popup.click("#retry")
    wait_until(lambda: browser.storage()["queue"] == [], message="the queue to empty")
    popup.evaluate("chrome.runtime.sendMessage({type: 'retry'})")  # a second retry finds nothing to send
    popup.reload()
    captures = testimone.captures()
    assert [c["author"]["name"] for c in captures] == ["Winifred T"], "delivered exactly once"
    record = testimone.get(f"/api/captures/{captures[0]['id']}")
    assert record["offence"]["category"] == "fake_review"
    assert record["machine_translated"] is True
    check_evidence(testimone, record, "Prezzi altissimi")
    assert popup.locator("#queue").is_hidden()


def test_wrong_token_keeps_the_capture_waiting(browser, testimone):
    browser.storage({"token": "not-the-token"})
    page = browser.open(FACEBOOK_POST)
    pick(browser, page, 'div[aria-label^="Commento di Gualtiero"] div[dir="auto"][style]')
    page.click('button[data-action="offence"]')
    page.locator('.result[data-state="queued"]').wait_for(timeout=20000)
    assert "token" in page.locator(".result").inner_text()
    assert testimone.captures() == []
    browser.storage({"token": testimone.token})
    popup = browser.extension_page("popup/popup.html")
    popup.click("#retry")
    wait_until(lambda: browser.storage()["queue"] == [], message="the queue to empty")
    record = testimone.get(f"/api/captures/{testimone.captures()[0]['id']}")
    assert record["permalink"] is None and record["posted_at_text"] is None, "no timestamp link: left empty"


@pytest.mark.parametrize("language, label", [("en", "Offence — document it"), ("it", "Offesa — documenta")])
def test_dialog_language_follows_the_override(browser, language, label):
    browser.storage({"language": language})
    page = browser.open(FACEBOOK_POST)
    pick(browser, page, 'div[aria-label^="Commento di Ottavio"] div[dir="auto"]')
    assert page.locator('button[data-action="offence"]').inner_text() == label
    page.keyboard.press("Escape")


def test_the_badge_counts_the_deadlines_due_within_two_weeks(browser, testimone):
    """The toolbar badge: open deadlines due within 14 days, asked of the real server (GET /api/deadlines)."""
    import json
    import urllib.request
    from datetime import date, timedelta

    from conftest import make_capture

    def capture(known_since: date):
        body = make_capture("offence", offence={"category": "defamation", "known_since": known_since.isoformat()})
        request = urllib.request.Request(f"{testimone.url}/api/captures", data=json.dumps(body).encode(), headers={
            "Authorization": f"Bearer {testimone.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201

    def badge():
        browser.extension.evaluate("chrome.runtime.sendMessage({type: 'retry'})")  # refreshes the badge
        return browser.worker.evaluate("() => chrome.action.getBadgeText({})")

    capture(date.today() - timedelta(days=85))  # the three-month querela term ends in 4 to 7 days
    capture(date.today())  # in three months: not on the badge
    wait_until(lambda: badge() == "1", message="the badge to show one deadline")
    capture(date.today() - timedelta(days=84))
    wait_until(lambda: badge() == "2", message="the badge to show two deadlines")
