"""Firefox ESR loads the unpacked extension and captures a review through its real context menu, on a
virtual screen (tests/e2e/firefox_capture.mjs: puppeteer-core over WebDriver BiDi, xdotool for the
right-click). Firefox's BiDi does not reach extension pages, so the extension cannot be given the test
server's address and token: the capture is complete but waits in the queue ("not connected")."""
import json
import os
import shutil
import subprocess

import pytest

from .conftest import EXTENSION, ROOT
from .test_extension_capture import TRIPADVISOR_RESTAURANT

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")


@pytest.mark.skipif(not FIREFOX or not (ROOT / "node_modules" / "puppeteer-core").exists(),
                    reason="needs firefox-esr (scripts/system-deps.sh --test) and npm ci")
def test_firefox_loads_the_extension_and_captures_a_review_from_its_context_menu(fixture_site, display):
    url = TRIPADVISOR_RESTAURANT.replace("www.tripadvisor.it/", f"www.tripadvisor.it:{fixture_site}/")
    run = subprocess.run(["node", str(ROOT / "tests" / "e2e" / "firefox_capture.mjs"), FIREFOX, str(EXTENSION), url,
                          'div[data-automation="reviewCard"] span.yCeTE'],
                         capture_output=True, text=True, timeout=240, env={**os.environ, "DISPLAY": display})
    assert run.returncode == 0, run.stderr[-3000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert "Firefox" in answer["userAgent"]
    assert answer["author"] == "Luca F"
    assert answer["text"].startswith("Carbonara cremosa")
    assert answer["result"]["state"] == "queued", answer
