"""The real right-click: a visible Chromium on a virtual screen (Xvfb), the mouse and keyboard driven
by xdotool as a person would; the menu item opens the dialog on the comment under the pointer."""
import os
import subprocess

import pytest

from .conftest import CHROMIUM, Browser
from .test_extension_capture import FACEBOOK_POST, saved_id


@pytest.fixture
def visible_browser(playwright_instance, fixture_site, testimone, tmp_path, display):
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium")
    chromium = Browser(playwright_instance, tmp_path / "profile", fixture_site, display=display)
    chromium.storage({"serverUrl": testimone.url, "token": testimone.token, "language": "it"})
    chromium.display = display
    yield chromium
    chromium.close()


def xdotool(display, *args):
    subprocess.run(["xdotool", *args], check=True, env={**os.environ, "DISPLAY": display})


def test_real_right_click_captures_the_comment_under_the_pointer(visible_browser, testimone):
    browser = visible_browser
    page = browser.open(FACEBOOK_POST)
    target = page.locator('div[aria-label^="Commento di Ottavio"] div[dir="auto"]').first
    target.scroll_into_view_if_needed()
    # Screen position of the comment: the window's place plus its toolbar height plus the element's.
    x, y = page.evaluate("""el => { const r = el.getBoundingClientRect();
        return [Math.round(screenX + r.left + 10), Math.round(screenY + outerHeight - innerHeight + r.top + r.height / 2)]; }""",
                         target.element_handle())
    xdotool(browser.display, "mousemove", str(x), str(y), "click", "3")
    # The menu's last items are the extension's, then "View page source" and "Inspect".
    xdotool(browser.display, "key", "--delay", "150", "Up", "Up", "Up", "Return")
    dialog = page.locator('section[role="dialog"]')
    dialog.wait_for(timeout=15000)
    assert "Ottavio Inventato" in dialog.inner_text(), "the comment that was right-clicked, no picker"
    page.click('button[data-action="offence"]')
    record = testimone.get(f"/api/captures/{saved_id(page)}")
    assert record["author"]["name"] == "Ottavio Inventato"


def test_real_right_click_on_selected_text_of_any_site_captures_it_without_the_picker(visible_browser, testimone):
    browser = visible_browser
    page = browser.open("https://blog.example.org/2026/11/trattoria-demo")
    target = page.locator("#c-2 p")
    # A person selects the words (double-click selects one), then right-clicks on them.
    x, y = page.evaluate("""el => { const r = el.getBoundingClientRect();
        return [Math.round(screenX + r.left + 20), Math.round(screenY + outerHeight - innerHeight + r.top + r.height / 2)]; }""",
                         target.element_handle())
    xdotool(browser.display, "mousemove", str(x), str(y), "click", "--repeat", "2", "1")
    assert page.evaluate("getSelection().toString().trim()") != ""
    xdotool(browser.display, "click", "3")
    # With a selection the menu ends with the extension's item, then "Inspect".
    xdotool(browser.display, "key", "--delay", "150", "Up", "Up", "Return")
    dialog = page.locator('section[role="dialog"]')
    dialog.wait_for(timeout=15000)
    assert "Troppo caro per quello che offre." in dialog.locator('[data-field="text"]').inner_text()
