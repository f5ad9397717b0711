"""What the user sees in the dialog, in real Chromium with the real extension and server: progress and
the result where the user is looking (1366×768), "already captured on …", an author typed by the user,
Esc. (The real right-click is in test_context_menu.py.)"""
from .conftest import wait_until
from .test_extension_capture import FACEBOOK_POST, TRIPADVISOR_RESTAURANT, pick, saved_id

BLOG = "https://blog.example.org/2026/11/trattoria-demo"

# Records every text the dialog's progress line shows, so a fast save cannot hide it from the test.
WATCH_PROGRESS = """() => {
  const root = document.querySelector('[data-testimone-ui=dialog]').shadowRoot;
  const progress = root.querySelector('[data-field=progress]');
  window.__progress = [];
  new MutationObserver(() => { if (!progress.hidden) window.__progress.push(progress.textContent); })
    .observe(progress, { attributes: true, childList: true, characterData: true, subtree: true });
}"""


def in_viewport(page, selector):
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def test_saving_shows_progress_disables_the_other_path_and_the_result_is_in_view(browser, testimone):
    page = browser.open(TRIPADVISOR_RESTAURANT)
    page.set_viewport_size({"width": 1366, "height": 768})
    pick(browser, page, 'div[data-automation="reviewCard"] span.yCeTE >> nth=1')
    page.evaluate(WATCH_PROGRESS)
    page.click('button[data-action="testimonial"]')
    assert page.locator('select[name="category"]').is_disabled(), "the offence path is closed at once"
    saved_id(page)
    assert in_viewport(page, '.result[data-state="saved"]'), "the result is where the user is looking"
    seen = page.evaluate("window.__progress")
    assert "Screenshot in corso…" in seen and "Salvataggio…" in seen, seen
    assert page.locator('textarea[name="notes"]').is_disabled()
    with page.expect_download() as download:
        page.click('button[data-action="download"]')
    assert download.value.suggested_filename.endswith(".pdf")


def test_the_same_comment_twice_says_already_captured_and_capturing_again_is_deliberate(browser, testimone):
    page = browser.open(FACEBOOK_POST)
    pick(browser, page, 'div[aria-label^="Commento di Ottavio"] div[dir="auto"]')
    page.click('button[data-action="offence"]')
    first = saved_id(page)
    page.keyboard.press("Escape")
    page.locator('section[role="dialog"]').wait_for(state="detached")

    pick(browser, page, 'div[aria-label^="Commento di Ottavio"] div[dir="auto"]')
    earlier = page.locator('[data-field="earlier"]')
    assert "Già acquisito il" in earlier.inner_text()
    assert page.locator('button[data-action="offence"]').is_hidden(), "no second case by mistake"
    with page.context.expect_page() as opened:
        page.click('button[data-action="open-earlier"]')
    assert opened.value.url.endswith(f"/cases/{first}")
    opened.value.close()
    page.click('button[data-action="capture-again"]')
    page.click('button[data-action="offence"]')
    second = saved_id(page)
    assert second != first and len(testimone.captures()) == 2


def test_no_author_on_the_page_the_user_types_one_marked_as_entered(browser, testimone):
    page = browser.open(FACEBOOK_POST)  # the tab first shows a page whose server IP is recorded…
    page.goto(BLOG)  # …then a site the extension has no permission for
    pick(browser, page, "#c-2 p")
    assert "non trovato" in page.locator("dl").inner_text()
    page.fill('input[name="entered_author"]', "Pietro (firma sul blog)")
    page.click('button[data-action="offence"]')
    record = testimone.get(f"/api/captures/{saved_id(page)}")
    assert record["author"] == {"name": "Pietro (firma sul blog)", "profile_url": None, "entered_by_user": True}
    assert record["text"] == "Troppo caro per quello che offre."
    assert record["context"]["server_ip"] is None, "not the previous page's IP: not recorded"


def test_escape_closes_the_dialog(browser, testimone):
    page = browser.open(TRIPADVISOR_RESTAURANT)
    pick(browser, page, 'div[data-automation="reviewCard"] span.yCeTE >> nth=1')
    page.keyboard.press("Escape")
    wait_until(lambda: page.locator('[data-testimone-ui="dialog"]').count() == 0, message="the dialog to close")


def test_a_comment_taller_than_the_viewport_is_screenshotted_from_its_top_and_joined(browser, testimone):
    from .test_extension_capture import png_size

    page = browser.open(TRIPADVISOR_RESTAURANT)
    page.set_viewport_size({"width": 1000, "height": 240})
    pick(browser, page, 'div[data-automation="reviewCard"] span.yCeTE >> nth=1')
    card_height = page.evaluate("document.querySelector('[data-automation=reviewCard]').getBoundingClientRect().height")
    assert card_height > 240 * 0.75, "the card must be taller than the viewport for this test"
    page.click('button[data-action="testimonial"]')
    record = testimone.get(f"/api/captures/{saved_id(page)}")
    folder = testimone.data_dir / "cases" / record["id"]
    width, height = png_size((folder / "screenshot.png").read_bytes())
    rect = record["screenshot_rect"]
    assert height > 240, "more than one viewport, joined"
    assert rect["y"] == 60, "the card starts a quarter down the first viewport: author and date in the picture"
    assert abs(rect["height"] - card_height) <= 2 and rect["y"] + rect["height"] <= height
