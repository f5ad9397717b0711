"""Faults: a SIGKILL or a full disk at each named write step of a capture, a consent and a withdrawal,
SIGKILL loops under concurrent writes, and a real full tmpfs.

The faults come from tests/faults/sitecustomize.py, which the server processes started here load
(TESTIMONE_FAULT names the step); the server code has no hook of its own. After every fault the
data directory must open, hold every acknowledged write, hold nothing half-written, and pass verify.
"""
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import LocalClient, TOKEN, b64, make_capture, start_server_process, tree_digest
from server import create_app
from server.services.cases import initial_state
from server.store import Store
from server.services.verify import verify

ROOT = Path(__file__).resolve().parents[1]
CONSENT_REPLY_TEXT = "Va bene per il sito, firmato Ottavio Inventato".encode()
CONSENT = {"decision": "granted",
           "purposes": {"website": True, "landing_page": False, "social": True, "print": False, "ads": False},
           "photo": False, "attribution": "first_name_initial", "received_via": "email", "received_at": "2026-11-23",
           "evidence": {"media_type": "text/plain", "data": b64(CONSENT_REPLY_TEXT)}}
WITHDRAWAL = {"received_at": "2026-11-23", "received_via": "email"}
PERSONAL = (b"Ottavio", b"ottavio.inventato", b"Cena splendida", CONSENT_REPLY_TEXT)


def fault_env(fault: str | None) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "faults"), str(ROOT)])}
    env.pop("TESTIMONE_FAULT", None)
    if fault:
        env["TESTIMONE_FAULT"] = fault
    return env


def call(url: str, method: str, path: str, body=None) -> tuple[int | None, dict | None]:
    """(status, JSON body), or (None, None) when the server died before answering."""
    request = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except (OSError, http.client.HTTPException):
        return None, None


def prepare(data_dir: Path, consent: bool) -> str:
    """A testimonial case (with a consent reply when `consent`), written by the app in this process."""
    app = create_app({"DATA_DIR": str(data_dir), "TOKEN": TOKEN, "TESTING": True})
    app.test_client_class = LocalClient
    client = app.test_client()
    case_id = client.post("/api/captures", json=make_capture("testimonial")).json["id"]
    if consent:
        assert client.post(f"/api/captures/{case_id}/consent", json=CONSENT).status_code == 201
    app.extensions["testimone.store"].close()
    return case_id


def reopen(data_dir: Path) -> list[dict]:
    """Open the data directory as a restarted server does; its records, after checking the invariants."""
    store = Store(data_dir, initial_state=initial_state)
    records = [store.get(item["id"]) for item in store.list(limit=10**6)[0]]  # whole records, not summaries
    store.close()
    report = verify(data_dir)
    assert report["ok"], report["problems"]
    folders = {p.name for p in (data_dir / "cases").iterdir()}
    assert folders == {r["id"] for r in records}  # no half-written case, no ghost, nothing lost
    for record in records:
        on_disk = {p.name for p in (data_dir / "cases" / record["id"]).iterdir()}
        assert on_disk == {e["name"] for e in record["evidence"]} | ({"capture.json"} - set(
            (record.get("erasure") or {}).get("erased", {})))
    return records


def run_with_fault(data_dir: Path, fault: str, method: str, path: str, body) -> tuple[int | None, dict | None]:
    child, url = start_server_process(data_dir, fault_env(fault))
    try:
        answer = call(url, method, path, body)
        if fault.startswith("kill"):
            assert child.wait(timeout=30) == -signal.SIGKILL, "the fault never fired"
        return answer
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


# -- a SIGKILL at each write step -----------------------------------------------------------------

CAPTURE_KILLS = [  # (fault, whether the capture exists after the restart)
    ("kill-before _write_new_file:screenshot.png", False),
    ("kill-before _write_new_file:capture.json", False),
    ("kill-before _publish:*", False),
    ("kill-after _publish:*", True),  # the files are complete: start-up writes the record
    ("kill-after _stage:*", True),  # the record file staged, not committed: rebuilt from the case folder
    ("kill-after _append:journal.jsonl", True),  # committed: start-up writes the audit line
    ("kill-after _append:audit.log", True),
    ("kill-before _replace:*", True),  # committed, the record file not in place: written from the journal
]


@pytest.mark.parametrize("fault, stored", CAPTURE_KILLS)
def test_kill_at_each_step_of_a_capture(tmp_path, fault, stored):
    data_dir = tmp_path / "data"
    status, _ = run_with_fault(data_dir, fault, "POST", "/api/captures", make_capture())
    assert status is None  # killed before the 201: the extension still has it queued
    records = reopen(data_dir)
    assert len(records) == stored
    if stored:
        assert records[0]["text"] == make_capture()["text"]
        assert [e["event"] for e in records[0]["history"]] == ["capture.created"]


CONSENT_KILLS = [
    ("kill-before _write_new_file:consent-*", False),
    ("kill-after _write_new_file:consent-*", False),  # the file without its record: removed at start-up
    ("kill-after _stage:*", False),
    ("kill-before _append:journal.jsonl", False),
    ("kill-after _append:journal.jsonl", True),
    ("kill-after _append:audit.log", True),
    ("kill-before _replace:*", True),
]


@pytest.mark.parametrize("fault, stored", CONSENT_KILLS)
def test_kill_at_each_step_of_a_consent(tmp_path, fault, stored):
    data_dir = tmp_path / "data"
    case_id = prepare(data_dir, consent=False)
    assert run_with_fault(data_dir, fault, "POST", f"/api/captures/{case_id}/consent", CONSENT)[0] is None
    (record,) = reopen(data_dir)
    assert len(record.get("consent", {}).get("answers", [])) == stored
    assert record["status"] == ("consent_granted" if stored else "consent_requested")


WITHDRAWAL_KILLS = [
    ("kill-before _append:journal.jsonl", False),
    ("kill-after _append:journal.jsonl", True),
    ("kill-after _append:audit.log", True),
    ("kill-after _remove:*", True),  # some files deleted: start-up deletes the rest
    ("kill-before _atomic_replace:testimone.json", True),  # the old record is still in the journal
]


@pytest.mark.parametrize("fault, withdrawn", WITHDRAWAL_KILLS)
def test_kill_at_each_step_of_a_withdrawal(tmp_path, fault, withdrawn):
    data_dir = tmp_path / "data"
    case_id = prepare(data_dir, consent=True)
    before = tree_digest(data_dir / "cases")
    assert run_with_fault(data_dir, fault, "POST", f"/api/captures/{case_id}/revocation", WITHDRAWAL)[0] is None
    (record,) = reopen(data_dir)
    assert (record["status"] == "taken_down") == withdrawn
    everything = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    for secret in PERSONAL:
        assert (secret in everything) != withdrawn, secret
    if not withdrawn:
        assert tree_digest(data_dir / "cases") == before


# -- a full disk at each write step -------------------------------------------------------------------

def data_files(data_dir: Path) -> dict:
    """The records and logs; not the lock or the clean-stop mark, nor the case index (derived, and its WAL
    moves on every read)."""
    return {p.name: p.read_bytes() for p in data_dir.iterdir()
            if p.is_file() and p.name not in ("lock", "stopped") and not p.name.startswith("index.sqlite3")}


@pytest.mark.parametrize("step", ["_write_new_file:screenshot.png", "_write_new_file:capture.json", "_publish:*",
                                  "_stage:*", "_append:journal.jsonl", "_append:audit.log"])
def test_full_disk_at_each_step_of_a_capture_answers_507_and_leaves_nothing(tmp_path, step):
    """Issue 10.4: a full disk answered 500 and left a ghost case in search and after a restart."""
    data_dir = tmp_path / "data"
    Store(data_dir).close()
    before = data_files(data_dir)
    child, url = start_server_process(data_dir, fault_env(f"enospc {step}"))
    try:
        status, body = call(url, "POST", "/api/captures", make_capture())
        assert status == 507 and body["error"]["code"] == "insufficient_storage", body
        assert "full" in body["error"]["message"] and "pieno" in body["error"]["message"]
        assert call(url, "GET", "/api/captures?q=peggior")[1]["items"] == []
        assert list((data_dir / "cases").iterdir()) == []
        assert data_files(data_dir) == before  # the half-written journal or audit line was cut back
        status, created = call(url, "POST", "/api/captures", make_capture())  # space again: works at once
        assert status == 201
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert [r["id"] for r in reopen(data_dir)] == [created["id"]]


@pytest.mark.parametrize("flow, step", [
    ("consent", "_write_new_file:consent-*"), ("consent", "_stage:*"), ("consent", "_append:journal.jsonl"),
    ("consent", "_append:audit.log"),
    ("revocation", "_append:journal.jsonl"), ("revocation", "_append:audit.log")])
def test_full_disk_at_each_step_of_a_consent_or_withdrawal_changes_nothing(tmp_path, flow, step):
    data_dir = tmp_path / "data"
    case_id = prepare(data_dir, consent=flow == "revocation")
    Store(data_dir).close()  # fold the journal, so that the bytes below are the ones a restart keeps
    before = tree_digest(data_dir)
    status, body = run_with_fault(data_dir, f"enospc {step}", "POST", f"/api/captures/{case_id}/{flow}",
                                  CONSENT if flow == "consent" else WITHDRAWAL)
    assert status == 507 and body["error"]["code"] == "insufficient_storage", body
    def records(digest):  # not the lock, nor the derived case index
        return {k: v for k, v in digest.items() if k not in ("lock", "stopped") and not k.startswith("index.sqlite3")}

    assert records(tree_digest(data_dir)) == records(before)
    reopen(data_dir)


def test_full_disk_when_compacting_after_a_withdrawal_erases_the_old_copy_later(tmp_path):
    data_dir = tmp_path / "data"
    case_id = prepare(data_dir, consent=True)
    status, _ = run_with_fault(data_dir, "enospc _atomic_replace:testimone.json", "POST",
                               f"/api/captures/{case_id}/revocation", WITHDRAWAL)
    assert status == 200  # the withdrawal is recorded and the files are gone
    (record,) = reopen(data_dir)  # start-up folds the journal: no earlier version of the record is left
    assert record["status"] == "taken_down"
    everything = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert not any(secret in everything for secret in PERSONAL)


# -- SIGKILL loops under concurrent writes ----------------------------------------------------------------

def test_sigkill_loops_under_concurrent_captures_and_consents(tmp_path):
    data_dir, rounds = tmp_path / "data", 6
    captures, consents = {}, set()  # acknowledged: id -> sha256; case ids whose consent got its 201
    rng = random.Random(10)
    for _ in range(rounds):
        child, url = start_server_process(data_dir)
        stop = threading.Event()

        def capture_writer(n):
            while not stop.is_set():
                status, body = call(url, "POST", "/api/captures", make_capture(text=f"scrittore {n}"))
                if status is None:
                    return
                assert status == 201, body
                captures[body["id"]] = body["sha256"]

        def consent_writer():
            while not stop.is_set():
                status, body = call(url, "POST", "/api/captures", make_capture("testimonial"))
                if status is None:
                    return
                captures[body["id"]] = body["sha256"]
                status, answer = call(url, "POST", f"/api/captures/{body['id']}/consent", CONSENT)
                if status is None:
                    return
                assert status == 201, answer
                consents.add(body["id"])

        threads = [threading.Thread(target=capture_writer, args=(n,)) for n in range(3)]
        threads.append(threading.Thread(target=consent_writer))
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.3, 1.2))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        stop.set()
        for thread in threads:
            thread.join()
        records = {r["id"]: r for r in reopen(data_dir)}  # verify OK after every restart
        assert {case_id: records[case_id]["sha256"] for case_id in captures} == captures
        assert all(records[case_id]["consent"]["answers"] for case_id in consents)
    print(f"\nSIGKILL loops: {rounds} kills survived, {len(captures)} acknowledged captures and {len(consents)} "
          "consents all present, verify OK after each restart")
    assert len(captures) > rounds


# -- a real full disk (tmpfs in a private mount namespace, where the system allows it) ------------------------

FILL = textwrap.dedent("""
    import json, sys
    sys.path[:0] = [sys.argv[2], sys.argv[2] + "/tests"]
    from conftest import MHTML, LocalClient, TOKEN, b64, make_capture
    from server import create_app
    from server.services.cases import initial_state
    from server.store import Store
    from server.services.verify import verify
    data_dir = sys.argv[1]
    app = create_app({"DATA_DIR": data_dir, "TOKEN": TOKEN, "TESTING": True})
    app.test_client_class = LocalClient
    client = app.test_client()
    acknowledged, answers = [], []
    for n in range(200):
        page = MHTML.replace(b"Demo</body>", b"Demo" * 25_000 + b"</body>")  # 100 kB a capture
        body = make_capture(text=f"riempimento {n}", page_snapshot={"media_type": "multipart/related",
                                                                    "data": b64(page)})
        response = client.post("/api/captures", json=body)
        answers.append(response.status_code)
        if response.status_code == 201:
            acknowledged.append(response.json["id"])
        elif response.json["error"]["code"] != "insufficient_storage":
            break
        if answers[-3:] == [507] * 3:
            break
    listed = [r["id"] for r in client.get("/api/captures?limit=200").json["items"]]
    app.extensions["testimone.store"].close()
    store = Store(data_dir, initial_state=initial_state)
    reopened = [r["id"] for r in store.list(limit=200)[0]]
    store.close()
    print(json.dumps({"answers": answers, "acknowledged": acknowledged, "listed": listed, "reopened": reopened,
                      "verify": verify(data_dir)["problems"]}))
""")


def test_a_real_full_disk(tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("no unshare")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    script = (f'mount -t tmpfs -o size=2m tmpfs "{mount}" && exec "{sys.executable}" -c "$FILL" '
              f'"{mount}/data" "{ROOT}"')
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], env={**os.environ, "FILL": FILL},
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0 and not result.stdout and "Traceback" not in result.stderr:
        pytest.skip(f"no private tmpfs here (unshare or mount refused): {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert set(outcome["answers"]) == {201, 507} and outcome["answers"][-1] == 507  # filled, then refused
    assert sorted(outcome["listed"]) == sorted(outcome["acknowledged"]) == sorted(outcome["reopened"])
    assert outcome["verify"] == []


# -- a consent reply racing a withdrawal ------------------------------------------------------------------

def test_consent_reply_racing_a_withdrawal_never_leaves_the_reply_on_disk(live_server):
    """Issue 10.9: the withdrawal chose the files to delete before taking the store lock (13 of 60 left)."""
    outcomes = []
    for _ in range(60):
        status, body = call(live_server.url, "POST", "/api/captures", make_capture("testimonial"))
        case_id, answers = body["id"], {}
        requests = {"consent": CONSENT, "revocation": WITHDRAWAL}
        racers = [threading.Thread(target=lambda step=step: answers.update(
            {step: call(live_server.url, "POST", f"/api/captures/{case_id}/{step}", requests[step])[0]}))
            for step in requests]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        assert answers["revocation"] == 200 and answers["consent"] in (201, 409), answers
        outcomes.append(answers["consent"])
        left = [p.name for p in (live_server.data_dir / "cases" / case_id).iterdir()]
        assert not [name for name in left if name.startswith("consent-")], (answers, left)
    report = verify(live_server.data_dir)
    assert report["ok"], report["problems"]
    print(f"\nconsent/withdrawal race: consent first {outcomes.count(201)}, withdrawal first {outcomes.count(409)}")
