"""Idempotency-Key on POST /api/captures (issue #10 item 18): a retry whose answer was lost gets the
same case, also after a restart and when retries race; a new key is a new capture."""
import json
import socket
import threading
import time
import urllib.request

import pytest

from conftest import HOST, TOKEN, make_capture
from server import create_app

KEY = "0f8e3b52-3c1d-4d7e-9a3b-6f1f2a9c8d71"


def test_the_same_key_gives_the_same_case(client, store):
    first = client.post("/api/captures", json=make_capture(), headers={"Idempotency-Key": KEY})
    again = client.post("/api/captures", json=make_capture(), headers={"Idempotency-Key": KEY})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert store.count() == 1
    other = client.post("/api/captures", json=make_capture(), headers={"Idempotency-Key": KEY + "-2"})
    assert other.status_code == 201 and other.json["id"] != first.json["id"]
    unkeyed = [client.post("/api/captures", json=make_capture()).json["id"] for _ in range(2)]
    assert len(set(unkeyed)) == 2 and store.count() == 4  # a deliberate second capture is a new case


@pytest.mark.parametrize("key", ["short", "x" * 201, "spazio dentro", "ünïcode-key-123"])
def test_a_malformed_key_is_refused_naming_the_header(client, store, key):
    response = client.post("/api/captures", json=make_capture(), headers={"Idempotency-Key": key.encode().decode("latin-1")})
    assert response.status_code == 400 and response.json["error"]["field"] == "Idempotency-Key"
    assert store.count() == 0


def test_the_key_survives_a_restart(tmp_path):
    config = {"DATA_DIR": str(tmp_path / "data"), "TOKEN": TOKEN, "TESTING": True}
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": KEY}
    ids = []
    for _ in range(2):
        app = create_app(config)
        try:
            answer = app.test_client().post("/api/captures", json=make_capture(), headers=headers,
                                            base_url=f"http://{HOST}")
            ids.append((answer.status_code, answer.json["id"]))
            count = app.extensions["testimone.store"].count()
        finally:
            app.extensions["testimone.store"].close()
    assert ids[0][0] == 201 and ids[1] == (200, ids[0][1]) and count == 1


def post(url, key):
    request = urllib.request.Request(f"{url}/api/captures", data=json.dumps(make_capture()).encode(), headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "Idempotency-Key": key})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())["id"]


def test_racing_retries_make_one_case(live_server):
    results = []
    threads = [threading.Thread(target=lambda: results.append(post(live_server.url, KEY))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200] * 7 + [201]
    assert len({case_id for _, case_id in results}) == 1
    assert live_server.app.extensions["testimone.store"].count() == 1


def test_a_lost_answer_then_a_retry(live_server):
    """The connection drops after the request is sent, before the 201 is read (a sleeping laptop, a
    restarted service worker): the server stored the case, and the retry gets it back."""
    body = json.dumps(make_capture()).encode()
    request = (f"POST /api/captures HTTP/1.1\r\nHost: 127.0.0.1:{live_server.port}\r\n"
               f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nIdempotency-Key: {KEY}\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", live_server.port)) as connection:
        connection.sendall(request)
    store = live_server.app.extensions["testimone.store"]
    deadline = time.monotonic() + 10
    while store.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.count() == 1
    status, case_id = post(live_server.url, KEY)
    assert status == 200 and store.get(case_id) is not None and store.count() == 1


def test_the_key_survives_a_rebuild_from_the_case_folders(tmp_path):
    """The database lost, the records rebuilt from each case's capture.json: the retry still finds its case."""
    config = {"DATA_DIR": str(tmp_path / "data"), "TOKEN": TOKEN, "TESTING": True}
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": KEY}
    answers = []
    for lose_the_database in (False, True):
        if lose_the_database:
            for name in ("testimone.json", "journal.jsonl"):
                (tmp_path / "data" / name).unlink(missing_ok=True)
        app = create_app(config)
        try:
            answer = app.test_client().post("/api/captures", json=make_capture(), headers=headers,
                                            base_url=f"http://{HOST}")
            answers.append((answer.status_code, answer.json["id"]))
        finally:
            app.extensions["testimone.store"].close()
    assert answers[0][0] == 201 and answers[1] == (200, answers[0][1])
