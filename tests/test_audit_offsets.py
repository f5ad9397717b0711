"""A case's audit lines are read at their offsets (the audit_lines table of the case index), not by parsing
the whole log; the offsets are derived and rebuilt by one scan when they do not fit the log."""
import json
import sqlite3

import pytest

import server.store
from conftest import make_capture
from server.store import Store, StoreView


@pytest.fixture
def cases(client, store):
    ids = []
    for kind in ("offence", "testimonial", "offence"):
        answer = client.post("/api/captures", json=make_capture(kind=kind))
        assert answer.status_code == 201, answer.json
        ids.append(answer.json["id"])
    store.add_evidence(ids[0], "consent-reply.eml", b"From: a@example.org\r\n\r\nSi", "message/rfc822")
    store.audit("profile.viewed")  # a line of no case
    return ids


def scanned(data_dir, case_id) -> list[bytes]:
    """The case's lines found the slow way: every line of the log parsed."""
    lines = (data_dir / "audit.log").read_bytes().split(b"\n")[:-1]
    return [line for line in lines if json.loads(line).get("case") == case_id]


def no_full_scan(monkeypatch):
    """From here on, reading the whole audit log (the way without the index) fails the test."""
    read_lines = server.store._read_lines

    def refuse(path):
        assert path.name != "audit.log", "audit.log read whole"
        return read_lines(path)
    monkeypatch.setattr(server.store, "_read_lines", refuse)


def test_a_case_reads_only_its_own_lines(store, cases, monkeypatch):
    expected = {case_id: scanned(store.data_dir, case_id) for case_id in cases}
    assert [len(lines) for lines in expected.values()] == [2, 1, 1]
    no_full_scan(monkeypatch)
    for case_id in cases:
        assert store.audit_lines(case_id) == expected[case_id]
        assert StoreView(store.data_dir).audit_lines(case_id) == expected[case_id]  # beside a running server
    assert store.audit_lines("20000101-000000-000000") == []


def test_lines_the_index_has_not_seen_yet_are_found_in_the_tail(store, cases, monkeypatch):
    """A reader beside the server may see the log ahead of the index: it scans only what comes after it."""
    db = sqlite3.connect(store.data_dir / "index.sqlite3")
    first_line = len((store.data_dir / "audit.log").read_bytes().split(b"\n")[0])
    with db:  # the index as it was after the first line
        db.execute("DELETE FROM audit_lines WHERE offset > 0")
        head = (store.data_dir / "audit.log").read_bytes()[:first_line]
        for key, value in (("audit_size", first_line + 1), ("audit_head_offset", 0),
                           ("audit_head_length", first_line),
                           ("audit_head_sha256", server.store.sha256_hex(head))):
            db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(value), key))
    db.close()
    no_full_scan(monkeypatch)
    for case_id in cases:
        assert StoreView(store.data_dir).audit_lines(case_id) == scanned(store.data_dir, case_id)


def test_a_deleted_index_is_rebuilt_by_one_scan(store, cases):
    store.close()
    for path in store.data_dir.glob("index.sqlite3*"):
        path.unlink()
    assert StoreView(store.data_dir).audit_lines(cases[0]) == scanned(store.data_dir, cases[0])  # no index: a scan
    reopened = Store(store.data_dir)
    try:
        count = sqlite3.connect(store.data_dir / "index.sqlite3").execute("SELECT COUNT(*) FROM audit_lines")
        assert count.fetchone()[0] == len((store.data_dir / "audit.log").read_bytes().split(b"\n")) - 1
        for case_id in cases:
            assert reopened.audit_lines(case_id) == scanned(store.data_dir, case_id)
        reopened.audit("case.viewed", cases[1])  # appended and indexed as it is written
        assert reopened.audit_lines(cases[1]) == scanned(store.data_dir, cases[1])
        assert len(reopened.audit_lines(cases[1])) == 2
    finally:
        reopened.close()


def test_a_log_that_no_longer_fits_the_index_is_scanned(store, cases):
    """audit.log restored from an older backup (or edited): the offsets are not trusted."""
    store.close()
    log = store.data_dir / "audit.log"
    lines = log.read_bytes().split(b"\n")[:-1]
    log.write_bytes(b"".join(line + b"\n" for line in lines[1:]))  # every offset moves
    assert StoreView(store.data_dir).audit_lines(cases[1]) == scanned(store.data_dir, cases[1])
    assert StoreView(store.data_dir).audit_lines(cases[0]) == scanned(store.data_dir, cases[0])
    log.write_bytes(b"".join(line + b"\n" for line in lines[:2]))  # shorter than what was indexed
    assert StoreView(store.data_dir).audit_lines(cases[2]) == []


def test_the_bundle_carries_the_cases_lines(client, store, cases, monkeypatch):
    no_full_scan(monkeypatch)
    from server.services import evidence

    files = evidence.bundle(store, cases[0])
    assert files["audit.jsonl"] == b"".join(line + b"\n" for line in scanned(store.data_dir, cases[0]))
