"""The store contract: what every store backend must do, driven through the services as the product
uses them. It runs against the embedded store (TinyDB records + the case index + the data directory);
a second backend (the team server on PostgreSQL) joins the `backend` fixture's list and must pass it
unchanged. A backend is chosen by configuration only, so each one is opened through `create_app`.
"""
import hashlib
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import make_capture
from server import create_app
from server.domain.errors import Invalid
from server.domain.integrity import EMPTY_SHA256, sha256_hex
from server.services import cases, deadlines

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("pinned_today")


class Backend:
    """One backend as configured; `restart` closes its store and opens it again, as a new process would."""

    def __init__(self, config: dict):
        self.config = config
        self.store = self.context = None

    def open(self):
        app = create_app({**self.config, "TESTING": True, "TOKEN": "contract-token-0123456789"})
        self.context = app.app_context()
        self.context.push()
        self.store = app.extensions["testimone.store"]
        return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.context.pop()
            self.store = None

    def restart(self):
        self.close()
        return self.open()


@pytest.fixture(params=["embedded"])
def backend(request, tmp_path):
    backend = Backend({"DATA_DIR": str(tmp_path / "data")})
    backend.open()
    yield backend
    backend.close()


@pytest.fixture
def store(backend):
    return backend.store


def capture(store, n=1, kind="offence", **overrides):
    body = make_capture(kind, **overrides)
    body["permalink"] = overrides.get("permalink", f"{body['permalink']}{n}")
    return cases.capture(store, body)


def every_file_byte(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


# -- create and read ----------------------------------------------------------------------------------

def test_a_capture_reads_back_whole_with_the_hash_of_its_canonical_record(store):
    record = capture(store, text="Un testo inventato per il contratto.")
    again = cases.get(store, record["id"])
    assert again["text"] == "Un testo inventato per il contratto."
    assert again["author"]["name"] == "Ottavio Inventato"
    assert again["sha256"] == sha256_hex(store.read_evidence(record["id"], "capture.json"))
    for entry in again["evidence"]:
        assert sha256_hex(store.read_evidence(record["id"], entry["name"])) == entry["sha256"]


def test_an_unknown_case_is_not_found(store):
    assert store.get("20260101-000000-abcdef") is None


def test_what_was_stored_is_there_after_a_restart(backend, store):
    ids = [capture(store, n)["id"] for n in range(3)]
    reopened = backend.restart()
    assert [item["id"] for item in reopened.list()[0]] == ids[::-1]
    assert reopened.get(ids[0])["text"] == make_capture()["text"]


# -- page, filter, search -----------------------------------------------------------------------------

def test_pages_newest_first_without_gaps_or_repeats(store):
    ids = [capture(store, n)["id"] for n in range(7)]
    seen, cursor = [], None
    while True:
        page, cursor = store.list(limit=3, cursor=cursor)
        seen += [item["id"] for item in page]
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_a_cursor_the_store_did_not_hand_out_is_refused(store):
    with pytest.raises(ValueError):
        store.list(cursor="not-a-cursor")


def test_filters_by_kind_status_and_platform(store):
    offence = capture(store, 1)["id"]
    testimonial = capture(store, 2, kind="testimonial")["id"]
    other = capture(store, 3, platform="tripadvisor")["id"]
    assert {i["id"] for i in store.list(kind="testimonial")[0]} == {testimonial}
    assert {i["id"] for i in store.list(kind="offence")[0]} == {offence, other}
    assert {i["id"] for i in store.list(platform="tripadvisor")[0]} == {other}
    status = store.get(testimonial)["status"]
    assert {i["id"] for i in store.list(status=status)[0]} == {testimonial}


@pytest.mark.parametrize("query, found", [("ristorante", True), ("RISTORANTE", True), ("citta", True),
                                          ("ristor", True), ("ottavio", True), ("pizzeria", False)])
def test_search_finds_words_of_the_text_and_the_author(store, query, found):
    case_id = capture(store, text="Il peggior ristorante della città.")["id"]
    assert [i["id"] for i in store.list(q=query)[0]] == ([case_id] if found else [])


@pytest.mark.parametrize("hostile", ['"', "NEAR(", "a OR", "*", "'; DROP TABLE cases; --", "\x00"])
def test_search_syntax_is_never_an_error(store, hostile):
    capture(store)
    store.list(q=hostile)


def test_earlier_captures_of_a_comment_are_found_by_permalink_or_text(store):
    record = capture(store, text="Testo da ritrovare.")
    by_link, _ = store.list(permalink=record["permalink"])
    by_text, _ = store.list(text_sha256=hashlib.sha256("Testo da ritrovare.".encode()).hexdigest())
    assert [i["id"] for i in by_link] == [i["id"] for i in by_text] == [record["id"]]


def test_a_summary_carries_what_lists_show_but_not_the_heavy_parts(store):
    capture(store)
    item = store.list()[0][0]
    for field in ("id", "kind", "status", "platform", "author", "text", "captured_at", "page_url"):
        assert field in item
    assert "comment_html" not in item and "history" not in item


# -- consent, withdrawal and erasure -------------------------------------------------------------------

def test_a_consent_answer_is_kept(backend, store):
    case_id = capture(store, kind="testimonial")["id"]
    purposes = {p: p == "website" for p in ("website", "landing_page", "social", "print", "ads")}
    cases.record_consent(store, case_id, {"decision": "partial", "purposes": purposes, "photo": False,
                                          "attribution": "first_name_initial", "received_via": "email",
                                          "received_at": "2026-11-23"})
    reopened = backend.restart()
    record = reopened.get(case_id)
    assert record["status"] == "consent_partial"
    assert record["consent"]["purposes"]["website"] == "granted"
    assert record["consent"]["answers"][0]["decision"] == "partial"
    assert [i["id"] for i in reopened.list(status=record["status"])[0]] == [case_id]


def test_withdrawal_erases_every_copy_of_the_personal_content(backend, store):
    case_id = capture(store, kind="testimonial", text="Tiramisù indimenticabile da Gualtiero",
                      author={"name": "Gualtierina Esempio", "profile_url": None})["id"]
    cases.withdraw(store, case_id, {"received_at": "2026-11-23", "received_via": "email"})
    record = store.get(case_id)
    assert not record.get("text") and "Gualtierina" not in str(record.get("author"))
    assert store.list(q="tiramisu")[0] == [] and store.list(q="gualtierina")[0] == []
    text_sha256 = hashlib.sha256("Tiramisù indimenticabile da Gualtiero".encode()).hexdigest()
    assert store.list(text_sha256=text_sha256)[0] == []
    backend.close()
    everything = every_file_byte(Path(backend.config["DATA_DIR"]))
    for trace in ("Tiramis", "Gualtier", "indimenticabile"):
        assert trace.encode() not in everything, trace


def test_a_refused_step_changes_nothing(store):
    case_id = capture(store)["id"]
    before = store.get(case_id)
    with pytest.raises(Invalid):
        cases.record_action(store, case_id, {"type": "no_such_step", "date": "2026-11-23"})
    assert store.get(case_id) == before


# -- deadlines -------------------------------------------------------------------------------------------

def test_the_soonest_open_deadlines_come_first(store):
    later = capture(store, 1, offence={"category": "defamation", "known_since": "2026-11-20"})["id"]
    sooner = capture(store, 2, offence={"category": "defamation", "known_since": "2026-09-01"})["id"]
    capture(store, 3, kind="testimonial")
    soonest = deadlines.soonest(store, 2)
    assert [(record["id"], deadline["kind"]) for record, deadline in soonest] == [(sooner, "querela"),
                                                                                 (later, "querela")]


def feed_uids(store, lang="it") -> set[str]:
    handle, _ = deadlines.kept_feed(store, lang, "http://127.0.0.1:8765")
    with handle:
        return {line.split(":", 1)[1] for line in handle.read().decode().split("\r\n") if line.startswith("UID:")}


def test_the_feed_follows_every_change_across_restarts(backend, store):
    """The feed's events may be kept by the backend (the embedded one keeps them in its index): whatever
    it keeps, a changed case is never served from its old version, before or after a restart."""
    first = capture(store, 1, offence={"category": "defamation", "known_since": "2026-11-20"})["id"]
    second = capture(store, 2, offence={"category": "harassment", "known_since": "2026-11-20"})["id"]
    assert feed_uids(store) == {f"{first}-querela@testimone.localhost", f"{second}-querela_stalking@testimone.localhost"}
    cases.record_action(store, first, {"type": "complaint_filed", "date": "2026-11-23"})
    assert feed_uids(store) == {f"{second}-querela_stalking@testimone.localhost"}
    store = backend.restart()
    cases.record_action(store, second, {"type": "resolved", "date": "2026-11-23"})
    third = capture(store, 3, offence={"category": "insult", "known_since": "2026-11-22"})["id"]
    assert feed_uids(store) == {f"{third}-querela@testimone.localhost"}
    assert feed_uids(store, "en") == {f"{third}-querela@testimone.localhost"}


# -- the audit chain ------------------------------------------------------------------------------------

def test_every_change_is_an_audit_event_chained_to_the_one_before(store):
    case_id = capture(store)["id"]
    cases.record_action(store, case_id, {"type": "contacted", "date": "2026-11-23"})
    lines = store.audit_lines()
    previous = EMPTY_SHA256
    for line in lines:
        event = json.loads(line)
        assert event["prev"] == previous
        previous = sha256_hex(line)
    events = [json.loads(line)["event"] for line in store.audit_lines(case_id)]
    assert events[0] == "capture.created" and "action.recorded" in events


# -- crash recovery --------------------------------------------------------------------------------------

def test_acknowledged_captures_survive_a_kill(backend):
    backend.close()
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests")!r}]
        from conftest import make_capture
        from server import create_app
        from server.services import cases
        app = create_app({{"DATA_DIR": {backend.config["DATA_DIR"]!r}, "TOKEN": "t" * 20, "TESTING": True}})
        with app.app_context():
            store = app.extensions["testimone.store"]
            for n in range(5):
                body = make_capture(text=f"Cattura numero {{n}} prima del crash")
                print(cases.capture(store, body)["id"], flush=True)  # printed = acknowledged
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stderr
    acknowledged = run.stdout.split()
    assert len(acknowledged) == 5
    reopened = backend.open()
    assert {i["id"] for i in reopened.list()[0]} == set(acknowledged)
    assert {i["id"] for i in reopened.list(q="crash")[0]} == set(acknowledged)  # the index caught up
