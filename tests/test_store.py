import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request

import pytest

from conftest import TOKEN, make_capture
from server.domain.integrity import EMPTY_SHA256, check_audit_chain, sha256_hex
from server.domain.schemas import capture_from_body
from server.store import Store, StoreLocked


def create(store, kind="offence", **overrides):
    fields, files = capture_from_body(make_capture(kind, **overrides))
    return store.create_capture(fields, files, status="documented")


def audit_lines(data_dir):
    return (data_dir / "audit.log").read_bytes().splitlines()


def test_reopened_store_holds_every_record(tmp_path):
    store = Store(tmp_path)
    ids = [create(store, text=f"commento {n}")["id"] for n in range(5)]
    store.update(ids[0], lambda r: r.update(status="resolved"), "case.resolved")
    store.put_setting("profile", {"name": "Trattoria Demo"})
    store.close()

    reopened = Store(tmp_path)
    assert [r["id"] for r in reopened.list()[0]] == ids[::-1]
    assert reopened.get(ids[0])["status"] == "resolved"
    assert reopened.get(ids[0])["history"][-1]["event"] == "case.resolved"
    assert reopened.get_setting("profile") == {"name": "Trattoria Demo"}
    # the journal was folded into a TinyDB-format snapshot that plain TinyDB can read
    assert (tmp_path / "journal.jsonl").stat().st_size == 0
    from tinydb import TinyDB
    with TinyDB(tmp_path / "testimone.json") as plain:
        assert len(plain.table("cases")) == 5
    reopened.close()


def test_a_write_appends_one_journal_line_and_does_not_rewrite_the_snapshot(tmp_path):
    store = Store(tmp_path)
    for n in range(20):
        create(store, text=f"commento {n}")
    snapshot_before = (tmp_path / "testimone.json").stat()
    journal_before = (tmp_path / "journal.jsonl").read_bytes().count(b"\n")
    create(store)
    assert (tmp_path / "journal.jsonl").read_bytes().count(b"\n") == journal_before + 1
    assert (tmp_path / "testimone.json").stat().st_mtime_ns == snapshot_before.st_mtime_ns
    store.close()


def test_second_process_on_the_same_data_dir_is_refused(tmp_path):
    store = Store(tmp_path)
    code = f"from server.store import Store\nStore({str(tmp_path)!r})"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "StoreLocked" in result.stderr and "another Testimone process" in result.stderr
    with pytest.raises(StoreLocked):
        Store(tmp_path)
    store.close()


def test_audit_chain_links_every_event(tmp_path):
    store = Store(tmp_path)
    case = create(store)
    store.update(case["id"], lambda r: None, "case.noted", note_id=1)
    store.audit("download", case["id"], document="incident_report")
    lines = audit_lines(tmp_path)
    assert [json.loads(line)["event"] for line in lines] == ["capture.created", "case.noted", "download"]
    assert json.loads(lines[0])["prev"] == EMPTY_SHA256 == sha256_hex(b"")
    assert json.loads(lines[1])["prev"] == sha256_hex(lines[0])
    assert check_audit_chain(lines) == []
    store.close()


def test_audit_chain_check_names_the_edited_and_removed_lines(tmp_path):
    store = Store(tmp_path)
    for _ in range(4):
        create(store)
    store.close()
    lines = audit_lines(tmp_path)
    edited = lines[:]
    edited[1] = edited[1].replace(b"capture.created", b"capture.CREATED")
    assert check_audit_chain(edited) == ["audit.log line 3: chain broken (line edited, removed or inserted before it)"]
    removed = lines[:1] + lines[2:]
    problems = check_audit_chain(removed)
    assert problems[0].startswith("audit.log line 2: chain broken")


def test_torn_last_lines_are_dropped_on_open(tmp_path):
    store = Store(tmp_path)
    kept = create(store)["id"]
    store.close()
    with open(tmp_path / "journal.jsonl", "ab") as journal:
        journal.write(b'{"table": "cases", "doc_id": 9, "doc": {"id": "tor')
    with open(tmp_path / "audit.log", "ab") as audit:
        audit.write(b'{"seq": 2, "at": "20')
    reopened = Store(tmp_path)
    assert [r["id"] for r in reopened.list()[0]] == [kept]
    assert check_audit_chain(audit_lines(tmp_path)) == []
    create(reopened)
    assert check_audit_chain(audit_lines(tmp_path)) == []
    reopened.close()


def test_unacknowledged_case_folders_are_discarded(tmp_path):
    store = Store(tmp_path)
    kept = create(store)["id"]
    store.close()
    (tmp_path / "cases" / ".tmp-20260101-000000-aaaaaa").mkdir()
    orphan = tmp_path / "cases" / "20260101-000000-bbbbbb"
    orphan.mkdir()
    (orphan / "capture.json").write_text("{}")
    reopened = Store(tmp_path)
    assert sorted(p.name for p in (tmp_path / "cases").iterdir()) == [kept]
    assert json.loads(audit_lines(tmp_path)[-1])["event"] == "capture.discarded"
    reopened.close()


def test_erase_leaves_no_copy_in_the_data_dir(tmp_path):
    store = Store(tmp_path)
    secret = "Testo-da-cancellare-7781"
    case = create(store, text=secret)
    create(store)

    def blank(record):
        record.update(text=None, author={"name": None, "profile_url": None})

    names = [e["name"] for e in case["evidence"]] + ["capture.json"]
    store.erase(case["id"], names, blank, "consent.withdrawn.erased", erased=names)
    store.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
            assert b"Ottavio" not in path.read_bytes() or path.parent.name != case["id"], path
    reopened = Store(tmp_path)
    assert reopened.get(case["id"])["text"] is None
    reopened.close()


def test_add_evidence_is_write_once(tmp_path):
    store = Store(tmp_path)
    case = create(store)
    entry = store.add_evidence(case["id"], "consent-reply.eml", b"From: a@b\r\n\r\nSi", "message/rfc822")
    assert store.read_evidence(case["id"], "consent-reply.eml") == b"From: a@b\r\n\r\nSi"
    assert entry in store.get(case["id"])["evidence"]
    with pytest.raises(FileExistsError):
        store.add_evidence(case["id"], "consent-reply.eml", b"other", "message/rfc822")
    with pytest.raises(ValueError):
        store.add_evidence(case["id"], "../escape", b"x", "text/plain")
    with pytest.raises(FileNotFoundError):
        store.read_evidence(case["id"], "../../token")
    store.close()


# -- the real server, under load and under a kill ---------------------------------------------------

def post_json(url, body, token=TOKEN):
    request = urllib.request.Request(url + "/api/captures", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_fifty_concurrent_captures_from_eight_threads(live_server):
    results, errors = [], []

    def worker(n):
        try:
            for index in range(n, 50, 8):
                results.append(post_json(live_server.url, make_capture(text=f"commento concorrente {index}")))
        except Exception as error:  # collected and reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [status for status, _ in results] == [201] * 50
    store = live_server.app.extensions["testimone.store"]
    assert store.count() == 50
    assert len({body["id"] for _, body in results}) == 50
    texts = {store.get(body["id"])["text"] for _, body in results}
    assert texts == {f"commento concorrente {index}" for index in range(50)}
    for _, body in results:
        folder = live_server.data_dir / "cases" / body["id"]
        assert sha256_hex((folder / "capture.json").read_bytes()) == body["sha256"]
        for entry in store.get(body["id"])["evidence"]:
            assert sha256_hex((folder / entry["name"]).read_bytes()) == entry["sha256"]
    lines = audit_lines(live_server.data_dir)
    assert len(lines) == 50 and check_audit_chain(lines) == []


WRITER = textwrap.dedent("""
    import sys, threading, waitress
    from server import create_app
    target = {}
    server = waitress.create_server(lambda e, r: target["app"](e, r), host="127.0.0.1", port=0, threads=4)
    target["app"] = create_app({"DATA_DIR": sys.argv[1], "TOKEN": "%s", "PORT": server.effective_port})
    print(server.effective_port, flush=True)
    server.run()
""" % TOKEN)


def test_every_acknowledged_capture_survives_sigkill(tmp_path):
    data_dir = tmp_path / "data"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir)], stdout=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{child.stdout.readline().strip()}"
    acknowledged, stop = [], threading.Event()

    def writer(n):
        index = 0
        while not stop.is_set():
            try:
                status, body = post_json(url, make_capture(text=f"scrittore {n} numero {index}"))
            except (OSError, http.client.HTTPException):
                return  # the server was killed mid-request: this one never got its 201
            if status == 201:
                acknowledged.append(body)
            index += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 25 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) >= 25

    store = Store(data_dir)
    for body in acknowledged:
        record = store.get(body["id"])
        assert record is not None, body["id"]
        assert record["sha256"] == body["sha256"]
        folder = data_dir / "cases" / body["id"]
        assert sha256_hex((folder / "capture.json").read_bytes()) == body["sha256"]
        for entry in record["evidence"]:
            assert sha256_hex((folder / entry["name"]).read_bytes()) == entry["sha256"]
    assert check_audit_chain(audit_lines(data_dir)) == []
    assert {p.name for p in (data_dir / "cases").iterdir()} == {r["id"] for r in store.list(limit=10_000)[0]}
    store.close()
