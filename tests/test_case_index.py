"""The case index (server/case_index.py) on a real SQLite file: paging, filters, search, deadlines."""
import threading

import pytest
from conftest import crash
from hypothesis import HealthCheck, given, settings, strategies as st

from server.case_index import EXPANDED_TERMS, CaseIndex, fts_query


def entry(n, kind="offence", status="documented", platform="facebook", text=None, author=None, dues=()):
    return {"id": f"case-{n}", "kind": kind, "status": status, "platform": platform,
            "text": text if text is not None else f"commento numero {n}", "author": author or f"Persona {n}",
            "summary": {"id": f"case-{n}", "n": n}, "dues": list(dues)}


@pytest.fixture
def index(tmp_path):
    index = CaseIndex(tmp_path / "index.sqlite3")
    yield index
    index.close()


def ids(summaries):
    return [summary["n"] for summary in summaries]


def test_pages_newest_first_with_a_keyset_cursor(index):
    for n in range(1, 8):
        index.put(n, entry(n))
    first, before = index.page(limit=3)
    second, before2 = index.page(limit=3, before=before)
    third, before3 = index.page(limit=3, before=before2)
    assert (ids(first), ids(second), ids(third)) == ([7, 6, 5], [4, 3, 2], [1])
    assert before3 is None


def test_a_page_that_ends_exactly_has_no_next_cursor(index):
    for n in range(1, 4):
        index.put(n, entry(n))
    assert index.page(limit=3)[1] is None


def test_filters_combine(index):
    index.put(1, entry(1, kind="testimonial", status="consent_requested", platform="tripadvisor"))
    index.put(2, entry(2, platform="tripadvisor"))
    index.put(3, entry(3))
    assert ids(index.page(kind="offence")[0]) == [3, 2]
    assert ids(index.page(platform="tripadvisor")[0]) == [2, 1]
    assert ids(index.page(kind="offence", platform="tripadvisor")[0]) == [2]
    assert ids(index.page(status="consent_requested")[0]) == [1]
    assert index.page(kind="offence", status="consent_requested") == ([], None)


@pytest.mark.parametrize("query, expected", [
    ("citta", [1]),            # accents folded
    ("CITTÀ", [1]),            # case folded
    ("cuoc", [2]),             # a word is a prefix
    ("cuoco incapace", [2]),   # every word must match
    ("cuoco gentile", []),
    ("ottavio", [2]),          # the author's name is searched too
    ("inesistente", []),
])
def test_search_folds_case_and_accents_and_matches_prefixes(index, query, expected):
    index.put(1, entry(1, text="La migliore pizza della città, personale gentile."))
    index.put(2, entry(2, text="Il cuoco è un incapace.", author="Ottavio Inventato"))
    assert ids(index.page(q=query)[0]) == expected


@pytest.mark.parametrize("hostile", ['"', '"cuoco', "cuoco*", "NEAR(a b)", "a OR b", "-cuoco", "text:cuoco",
                                     "^cuoco", "(((", "'; DROP TABLE cases; --"])
def test_search_syntax_in_the_query_is_taken_as_words(index, hostile):
    index.put(1, entry(1, text="Il cuoco è un incapace."))
    summaries, _ = index.page(q=hostile)  # must not raise
    assert ids(summaries) in ([], [1])
    assert index.count() == 1


def test_a_query_without_words_matches_nothing(index):
    index.put(1, entry(1))
    assert fts_query("?!  ..") is None
    assert index.page(q="?!") == ([], None)


def test_search_pages_with_the_same_cursor(index):
    for n in range(1, 11):
        index.put(n, entry(n, text="pizza" if n % 2 else "pasta"))
    first, before = index.page(q="pizza", limit=3)
    second, _ = index.page(q="pizza", limit=3, before=before)
    assert (ids(first), ids(second)) == ([9, 7, 5], [3, 1])


def test_put_replaces_and_remove_erases_every_trace(index):
    index.put(1, entry(1, text="vecchio testo", dues=["2027-01-10"]))
    index.put(1, entry(1, status="withdrawn", text="nuovo testo", dues=["2027-02-10"]))
    assert ids(index.page(q="vecchio")[0]) == []
    assert ids(index.page(status="withdrawn")[0]) == [1]
    assert [s["n"] for s in index.with_deadlines("2027-01-01")] == [1]
    index.remove("case-1")
    assert index.count() == 0
    assert index.page(q="nuovo") == ([], None)
    assert list(index.with_deadlines("2000-01-01")) == []
    index.remove("case-1")  # removing twice is harmless


def test_deadlines_soonest_first_and_only_from_a_day(index):
    index.put(1, entry(1, dues=["2027-03-01"]))
    index.put(2, entry(2, dues=["2026-12-15", "2031-01-01"]))
    index.put(3, entry(3, dues=["2025-01-01"]))
    index.put(4, entry(4))
    assert [s["n"] for s in index.with_deadlines("2026-12-01")] == [2, 1]
    assert [s["n"] for s in index.with_deadlines("2026-12-01", until="2027-01-01")] == [2]
    assert [s["n"] for s in index.with_deadlines("2027-01-01")] == [1, 2]  # each case once, by its soonest


def test_rebuild_replaces_everything_and_survives_reopening(tmp_path):
    path = tmp_path / "index.sqlite3"
    index = CaseIndex(path)
    index.put(1, entry(1, text="da dimenticare"))
    index.rebuild((n, entry(n)) for n in (5, 6))
    index.set_meta("generation", "42")
    index.close()
    reopened = CaseIndex(path)
    assert ids(reopened.page()[0]) == [6, 5]
    assert reopened.page(q="dimenticare") == ([], None)
    assert reopened.meta("generation") == "42"
    assert reopened.meta("missing") is None
    reopened.close()


def test_a_failed_write_leaves_the_index_as_it_was(index):
    index.put(1, entry(1))
    with pytest.raises(KeyError):
        index.put(2, {"id": "case-2", "kind": "offence"})  # no status: refused inside the transaction
    assert index.count() == 1
    assert ids(index.page()[0]) == [1]


def test_reads_from_other_threads(index):
    for n in range(1, 4):
        index.put(n, entry(n))
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(ids(index.page()[0]))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [[3, 2, 1]] * 4


# -- the index inside the store ----------------------------------------------------------------------

def test_withdrawal_leaves_no_trace_of_the_text_in_the_index_files(client, store, sample_capture):
    words = "Zabaglione memorabile servito da Ermenegilda"
    case_id = client.post("/api/captures", json=sample_capture("testimonial", text=words)).json["id"]
    assert [item["id"] for item in client.get("/api/captures?q=zabaglione").json["items"]] == [case_id]
    client.post(f"/api/captures/{case_id}/revocation", json={"received_at": "2026-11-23", "received_via": "email"})
    assert client.get("/api/captures?q=zabaglione").json["items"] == []
    for path in store.data_dir.glob("index.sqlite3*"):
        content = path.read_bytes()
        for word in ("Zabaglione", "zabaglione", "Ermenegilda", "ermenegilda"):
            assert word.encode() not in content, (path.name, word)


def app_and_client(tmp_path):
    """The app on tmp_path/data (opened again by each call, as a restart does) and a client for it."""
    from conftest import LocalClient

    from server import create_app

    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TOKEN": "test-token-0123456789", "TESTING": True})
    app.test_client_class = LocalClient
    return app, app.test_client()


def test_a_version_the_index_missed_before_a_kill_is_put_in_again_at_start(tmp_path, sample_capture):
    app, client = app_and_client(tmp_path)
    first = client.post("/api/captures", json=sample_capture(text="Prima cattura")).json["id"]
    store = app.extensions["testimone.store"]
    # A crash between the journal's fsync and the index's update: the index has an older version.
    store._index.put(1, {"id": first, "kind": "offence", "status": "documented", "text": "altro",
                         "summary": {"id": first}})
    crash(store)  # killed: close() never ran
    app, client = app_and_client(tmp_path)
    assert [item["id"] for item in client.get("/api/captures?q=prima").json["items"]] == [first]
    assert client.get("/api/captures?q=altro").json["items"] == []
    app.extensions["testimone.store"].close()


def test_a_damaged_index_file_is_replaced(tmp_path, sample_capture):
    from server.store import Store

    store = Store(tmp_path)
    store.close()
    (tmp_path / "index.sqlite3").write_bytes(b"not a database at all" * 100)
    reopened = Store(tmp_path)
    assert reopened.list() == ([], None)
    reopened.close()


def test_a_change_the_index_misses_is_kept_and_listed_after_the_next_start(tmp_path, sample_capture, monkeypatch):
    """A full disk can refuse the index's write after the journal took the change: the change stands."""
    import sqlite3

    app, client = app_and_client(tmp_path)
    store = app.extensions["testimone.store"]

    def full(*_args):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store._index, "put", full)
    answer = client.post("/api/captures", json=sample_capture(text="Scritta a disco pieno"))
    assert answer.status_code == 201
    assert client.get(f"/api/captures/{answer.json['id']}").status_code == 200
    store.close()
    monkeypatch.undo()
    app, client = app_and_client(tmp_path)
    assert [item["id"] for item in client.get("/api/captures?q=pieno").json["items"]] == [answer.json["id"]]
    app.extensions["testimone.store"].close()


def test_a_full_disk_moves_the_index_to_memory_and_the_change_is_listed_at_once(tmp_path, sample_capture, monkeypatch):
    import sqlite3

    app, client = app_and_client(tmp_path)
    store = app.extensions["testimone.store"]
    before = client.post("/api/captures", json=sample_capture(text="Prima del guasto")).json["id"]

    def full(*_args):
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = sqlite3.SQLITE_FULL
        raise error

    monkeypatch.setattr(store._index, "put", full)
    answer = client.post("/api/captures", json=sample_capture(text="Scritta a disco pieno"))
    assert answer.status_code == 201
    assert store._in_memory and not store._index.path.startswith(str(tmp_path))
    listed = [item["id"] for item in client.get("/api/captures").json["items"]]
    assert listed == [answer.json["id"], before]  # at once, not after a restart
    assert [item["id"] for item in client.get("/api/captures?q=pieno").json["items"]] == [answer.json["id"]]
    assert [item["id"] for item in client.get("/api/captures?q=guasto").json["items"]] == [before]
    store.close()
    app, client = app_and_client(tmp_path)  # space again: the next start rebuilds the index on disk
    reopened = app.extensions["testimone.store"]
    assert not reopened._in_memory and reopened._index.path == str(tmp_path / "data" / "index.sqlite3")
    assert [item["id"] for item in client.get("/api/captures?q=pieno").json["items"]] == [answer.json["id"]]
    reopened.close()


def test_after_a_kill_the_index_catches_up_from_the_journal_instead_of_being_rebuilt(tmp_path, monkeypatch):
    """A rebuild reads every record file (over a minute at 100,000 cases): a start after a kill must not need
    one. The index took every change right after its journal line; what it may lack is still in the journal."""
    from conftest import crash, make_capture
    from server.case_index import CaseIndex
    from server.domain.schemas import capture_from_body
    from server.services.cases import initial_state
    from server.store import Store

    def create(store, text):
        fields, files = capture_from_body(make_capture("offence", text=text))
        return store.create_capture(fields, files, **initial_state(fields))["id"]

    store = Store(tmp_path, initial_state=initial_state)
    ids = [create(store, f"commento numero {n}") for n in range(3)]
    store.compact()  # the first two are folded (the index checkpointed), the next changes are in the journal
    ids.append(create(store, "scritto dopo la compattazione"))
    store.update(ids[0], lambda record: record.update(status="resolved"), "case.resolved")
    store._index.remove(ids[3])  # as if the kill came between the journal line and the index's update
    crash(store)

    rebuilds = []
    monkeypatch.setattr(CaseIndex, "rebuild", lambda self, entries: rebuilds.append(self))
    reopened = Store(tmp_path, initial_state=initial_state)
    assert rebuilds == []
    assert [r["id"] for r in reopened.list()[0]] == ids[::-1]
    assert [r["id"] for r in reopened.list(q="compattazione")[0]] == [ids[3]]
    assert [r["id"] for r in reopened.list(status="resolved")[0]] == [ids[0]]
    reopened.close()
    (tmp_path / "index.sqlite3").unlink()  # a missing index is rebuilt
    Store(tmp_path, initial_state=initial_state).close()
    assert len(rebuilds) == 1


def test_an_index_of_an_older_layout_is_rebuilt(tmp_path):
    """A column added to the index (author_url, queued, unstamped) must not leave an older file half-usable."""
    import sqlite3

    from conftest import make_capture
    from server.domain.schemas import capture_from_body
    from server.services.cases import initial_state
    from server.store import Store

    store = Store(tmp_path, initial_state=initial_state)
    fields, files = capture_from_body(make_capture("offence", text="Vecchio indice"))
    case_id = store.create_capture(fields, files, **initial_state(fields))["id"]
    store.close()
    for name in ("index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    old = sqlite3.connect(tmp_path / "index.sqlite3")
    old.executescript("CREATE TABLE cases (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, "
                      "status TEXT NOT NULL, platform TEXT, permalink TEXT, text_sha256 TEXT, summary TEXT NOT NULL);"
                      "INSERT INTO cases VALUES (1, 'x', 'offence', 'documented', NULL, NULL, NULL, '{}');")
    old.close()
    reopened = Store(tmp_path, initial_state=initial_state)
    assert [r["id"] for r in reopened.list(q="vecchio")[0]] == [case_id]
    assert reopened.ids("queued") == [case_id] and reopened.ids("unstamped") == [case_id]
    reopened.close()


WORDS = ["pizza", "pizzaiolo", "pizzeria", "città", "Città", "cittadino", "perché", "perche", "l'uomo", "uomo",
         "naïve", "straße", "CUOCO", "cuoc", "2026", "è", "e", "🙂", "Ærø", "c'è"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join), min_size=1, max_size=12),
       query=st.lists(st.sampled_from(WORDS + ["p", "pi", "citt", "ù", "zz"]), min_size=1, max_size=3).map(" ".join))
def test_a_spelt_out_prefix_finds_exactly_what_the_prefix_query_finds(tmp_path_factory, texts, query):
    """The lookup in `terms` changes the speed of a search, never its answer: the same cases as FTS5's own
    prefix query, for words with accents, apostrophes, case, digits and emoji."""
    index = CaseIndex(tmp_path_factory.mktemp("index") / "index.sqlite3")
    try:
        for n, text in enumerate(texts, start=1):
            index.put(n, entry(n, text=text, author="Persona"))
        if len(texts) > 2:
            index.put(2, entry(2, text="sostituito"))  # a replaced text: its words stay in `terms`, harmlessly
        match = fts_query(query)
        expected = [] if match is None else [seq for seq, in index._db().execute(
            "SELECT rowid FROM words WHERE words MATCH ? ORDER BY rowid DESC", (match,))]
        assert [summary["n"] for summary in index.page(q=query, limit=100)[0]] == expected
    finally:
        index.close()


def test_a_prefix_of_very_many_words_is_still_answered(index):
    for n in range(1, EXPANDED_TERMS + 11):
        index.put(n, entry(n, text=f"parola{n:03d} comune"))
    assert len(index.page(q="parola", limit=500)[0]) == EXPANDED_TERMS + 10
    assert ids(index.page(q="parola07")[0]) == [74, 73, 72, 71, 70]


def test_an_index_from_before_the_word_list_gets_it_when_opened(tmp_path):
    index = CaseIndex(tmp_path / "index.sqlite3")
    index.put(1, entry(1, text="Il cuoco è un incapace."))
    with index._transaction() as db:  # as an older version left it
        db.execute("DROP TABLE terms")
        db.execute("DELETE FROM meta WHERE key = 'terms'")
    index.close()
    reopened = CaseIndex(tmp_path / "index.sqlite3")
    assert ids(reopened.page(q="cuoc incap")[0]) == [1]
    reopened.close()
