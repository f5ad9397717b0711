"""PDFs are rendered in worker processes with a bounded queue (issue #10 item 17): a burst of document
requests leaves threads free for everything else, and what does not fit gets 503 with Retry-After.
(The latency figures are measured in benchmarks/render_burst.py, not here.)"""
import json
import os
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import TOKEN, make_capture
from server.render import pool


@pytest.fixture
def one_slot():
    pool.configure(workers=1, queue=0)
    yield pool.current()
    pool.configure(0, 0)


def call(url, path, body=None):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode() if body else None, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_a_render_runs_in_a_worker_and_a_full_queue_answers_503(live_server, one_slot):
    ids = [json.loads(call(live_server.url, "/api/captures", make_capture())[2])["id"] for _ in range(2)]
    first = {}
    worker = threading.Thread(target=lambda: first.update(answer=call(live_server.url, f"/api/captures/{ids[0]}/document.pdf")))
    worker.start()
    deadline = time.monotonic() + 30
    while not one_slot.running and time.monotonic() < deadline:  # the first render holds the only slot
        time.sleep(0.01)
    status, headers, body = call(live_server.url, f"/api/captures/{ids[1]}/document.pdf")
    assert status == 503 and headers["Retry-After"] == "5"
    assert json.loads(body)["error"]["code"] == "busy"
    assert call(live_server.url, "/api/health")[0] == 200  # the server still answers while it renders
    worker.join()
    status, _, pdf = first["answer"]
    assert status == 200 and pdf.startswith(b"%PDF-")
    assert one_slot.worker_pids() and os.getpid() not in one_slot.worker_pids()
    assert call(live_server.url, f"/api/captures/{ids[1]}/document.pdf")[0] == 200  # the slot is free again


def test_the_dashboard_says_busy_in_words(live_server, one_slot):
    from server import security

    ids = [json.loads(call(live_server.url, "/api/captures", make_capture())[2])["id"] for _ in range(2)]
    client = live_server.app.test_client()
    client.get(f"/login?key={security.new_login_key(live_server.data_dir)}", base_url=live_server.url)
    worker = threading.Thread(target=lambda: call(live_server.url, f"/api/captures/{ids[0]}/document.pdf"))
    worker.start()
    while not one_slot.running:
        time.sleep(0.01)
    page = client.get(f"/cases/{ids[1]}/files/document.pdf", base_url=live_server.url)
    worker.join()
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "Riprova tra 5 secondi" in page.get_data(as_text=True)
