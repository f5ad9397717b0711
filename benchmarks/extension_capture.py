"""Click on the dialog's button → 201, with the real extension in headless Chromium and the real
server (the e2e harness). Prints the median of 20 and the share of screenshot, snapshot, upload
(the background's POST, server included) and server (time inside the WSGI app).

    .venv/bin/python benchmarks/extension_capture.py [runs]
"""
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the e2e harness imports the tests' conftest
from tests.e2e.conftest import SITE_HOSTS, Browser, FixtureHandler, TestimoneServer, TLSServer, fixture_routes  # noqa: E402
from tests.e2e.test_extension_capture import FACEBOOK_POST, pick  # noqa: E402


def fixture_site(folder: Path) -> TLSServer:
    names = ",".join(f"DNS:{host}" for host in SITE_HOSTS)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", folder / "key.pem",
                    "-out", folder / "cert.pem", "-subj", "/CN=bench", "-addext", f"subjectAltName={names}"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    FixtureHandler.routes = fixture_routes()
    httpd = TLSServer(("127.0.0.1", 0), FixtureHandler)
    httpd.tls = context
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main(runs: int = 20):
    folder = Path(tempfile.mkdtemp())
    site = fixture_site(folder)
    server = TestimoneServer(folder / "data")
    server.start()
    totals, parts = [], {"screenshot": [], "snapshot": [], "upload": [], "server": []}
    with sync_playwright() as playwright:
        browser = Browser(playwright, folder / "profile", site.server_address[1])
        browser.storage({"serverUrl": server.url, "token": server.token, "language": "it"})
        try:
            page = browser.open(FACEBOOK_POST)
            for _ in range(runs):
                page.reload()
                pick(browser, page, 'div[aria-label^="Commento di Ottavio"] div[dir="auto"]')
                start = time.perf_counter()
                page.click('button[data-action="offence"]')
                page.locator('.result[data-state="saved"]').wait_for(timeout=30000)
                totals.append((time.perf_counter() - start) * 1000)
                timings = browser.worker.evaluate("() => chrome.storage.session.get('lastTimings')")["lastTimings"]
                for name in ("screenshot", "snapshot", "upload"):
                    parts[name].append(timings[name])
                parts["server"].append(server.capture_seconds[-1] * 1000)
                time.sleep(0.6)  # Chromium allows two captureVisibleTab calls per second
        finally:
            browser.close()
            server.stop()
            site.shutdown()
            site.server_close()
    median = statistics.median(totals)
    print(f"click → 201 (dialog shows 'Salvato'): median {median:.0f} ms over {runs} runs "
          f"(min {min(totals):.0f}, max {max(totals):.0f})")
    for name, values in parts.items():
        value = statistics.median(values)
        print(f"  {name:<10} median {value:6.0f} ms  ({100 * value / median:4.1f}% of the median click → 201)")
    print("  (upload includes the server's time; the rest is scrolling, outlining, two frames and messaging)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
