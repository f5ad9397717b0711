import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from conftest import crash, make_capture, post_json, tree_digest
from server.services.cases import initial_state
from server.domain.integrity import EMPTY_SHA256, check_audit_chain, sha256_hex
from server.domain.schemas import capture_from_body
from server.services.verify import verify
from server.store import Store, StoreDamaged, StoreLocked


def create(store, kind="offence", **overrides):
    fields, files = capture_from_body(make_capture(kind, **overrides))
    return store.create_capture(fields, files, **initial_state(fields))


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
    # the journal was folded: the settings into a snapshot plain TinyDB can read, each record in its file
    assert (tmp_path / "journal.jsonl").stat().st_size == 0
    from tinydb import TinyDB
    with TinyDB(tmp_path / "testimone.json") as plain:
        assert plain.table("settings").all() == [{"key": "profile", "value": {"name": "Trattoria Demo"},
                                                  "changed_at": reopened._settings.all()[0]["changed_at"]}]
        assert len(plain.table("cases")) == 0
    files = sorted((tmp_path / "records").iterdir(), key=lambda p: int(p.name.partition("-")[0]))
    assert [json.loads(p.read_bytes())["id"] for p in files] == ids
    assert [p.name for p in files] == [f"{n}-{case_id}.json" for n, case_id in enumerate(ids, start=1)]
    reopened.close()


def test_a_data_dir_of_version_0_1_moves_its_records_into_files(tmp_path):
    """0.1 kept every record in testimone.json; opening such a folder moves them, once, into records/."""
    store = Store(tmp_path)
    ids = [create(store, text=f"commento {n}")["id"] for n in range(70)]  # above the one-sync threshold
    store.put_setting("profile", {"name": "Trattoria Demo"})
    records = {str(n): store.get(case_id) for n, case_id in enumerate(ids, start=1)}
    store.close()
    shutil.rmtree(tmp_path / "records")
    snapshot = json.loads((tmp_path / "testimone.json").read_bytes())
    (tmp_path / "testimone.json").write_text(json.dumps({**snapshot, "cases": records}))
    (tmp_path / "index.sqlite3").unlink()

    reopened = Store(tmp_path)
    assert [r["id"] for r in reopened.list(limit=100)[0]] == ids[::-1]
    assert reopened.get(ids[3]) == records["4"]
    assert reopened.get_setting("profile") == {"name": "Trattoria Demo"}
    assert "cases" not in json.loads((tmp_path / "testimone.json").read_bytes())
    assert len(list((tmp_path / "records").iterdir())) == 70
    reopened.close()


def test_a_write_past_the_journal_limit_folds_the_journal(tmp_path, monkeypatch):
    monkeypatch.setattr("server.store.JOURNAL_LIMIT", 4000)
    store = Store(tmp_path)
    ids = [create(store, text=f"commento {n}")["id"] for n in range(12)]
    assert (tmp_path / "journal.jsonl").stat().st_size < 4000 + 2000
    crash(store)  # killed: close() never ran
    reopened = Store(tmp_path)
    assert [r["id"] for r in reopened.list()[0]] == ids[::-1]
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


def test_a_record_file_lost_by_a_power_cut_is_written_again_from_the_journal(tmp_path):
    """A write syncs its journal line, not its record file: a power cut may leave the file empty or at its
    previous version (here done by hand), and the next start writes it again from the journal."""
    store = Store(tmp_path)
    first = create(store, text="commento primo")
    store.compact()
    updated = store.update(first["id"], lambda r: r.update(status="resolved"), "case.resolved")
    second = create(store, text="commento secondo")
    files = {p.name.partition("-")[2]: p for p in (tmp_path / "records").iterdir()}
    old_version = json.dumps({**updated, "status": "documented", "history": updated["history"][:-1]})
    crash(store)
    files[first["id"] + ".json"].write_text(old_version)  # the rename reached the disk, the data did not
    files[second["id"] + ".json"].write_bytes(b"")  # nothing of the new file reached the disk

    reopened = Store(tmp_path)
    assert reopened.get(first["id"]) == updated
    assert reopened.get(second["id"]) == second
    assert json.loads(files[first["id"] + ".json"].read_bytes()) == updated
    reopened.close()


def test_a_fold_syncs_every_record_file_written_since_the_last_one_before_cutting_the_journal(tmp_path, monkeypatch):
    import server.store as store_module
    synced, real_sync = [], store_module._sync

    def sync(path):
        if path.suffix == ".json":
            synced.append((path.name, (tmp_path / "journal.jsonl").stat().st_size))
        real_sync(path)

    monkeypatch.setattr(store_module, "_sync", sync)
    store = Store(tmp_path)
    store.compact()
    synced.clear()
    ids = [create(store, text=f"commento {n}")["id"] for n in range(3)]
    store.update(ids[0], lambda r: r.update(status="resolved"), "case.resolved")
    assert synced == []  # a write syncs its journal line only
    store.compact()
    assert sorted(name.partition("-")[2][:-5] for name, _ in synced) == sorted(ids)
    assert all(journal_size > 0 for _, journal_size in synced)  # synced while the journal still held them
    assert (tmp_path / "journal.jsonl").stat().st_size == 0
    synced.clear()
    store.compact()
    assert synced == []  # nothing written since
    store.close()


def test_after_a_failed_fold_the_journal_is_kept_and_the_next_fold_writes_its_records_again(tmp_path, monkeypatch):
    """After an fsync error the data it should have written may be gone while a later fsync reports success:
    the next fold writes the journal's records again before syncing them."""
    import errno
    import server.store as store_module
    real_sync = store_module._sync
    store = Store(tmp_path)
    record = create(store, text="commento")
    path = tmp_path / "records" / f"1-{record['id']}.json"

    def failing(path):
        raise OSError(errno.EIO, "Input/output error (injected)")

    monkeypatch.setattr(store_module, "_sync", failing)
    with pytest.raises(OSError):
        store.compact()
    assert (tmp_path / "journal.jsonl").stat().st_size > 0
    path.write_bytes(b"")  # what the failed write-back lost
    monkeypatch.setattr(store_module, "_sync", real_sync)
    store.compact()
    assert json.loads(path.read_bytes()) == record
    assert (tmp_path / "journal.jsonl").stat().st_size == 0
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


def test_start_up_removes_unpublished_folders_and_keeps_unreadable_ones(tmp_path):
    store = Store(tmp_path)
    kept = create(store)["id"]
    store.close()
    (tmp_path / "cases" / ".tmp-20260101-000000-aaaaaa").mkdir()  # never moved into place: never a capture
    stranger = tmp_path / "cases" / "20260101-000000-bbbbbb"
    stranger.mkdir()
    (stranger / "capture.json").write_text("{}")
    reopened = Store(tmp_path)
    assert sorted(p.name for p in (tmp_path / "cases").iterdir()) == sorted([kept, stranger.name])
    assert [r["id"] for r in reopened.list()[0]] == [kept]
    reopened.close()


def drop_last_line(path):
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    return lines[-1]


def test_capture_published_but_not_recorded_is_completed_at_start_up(tmp_path):
    """A kill after the case folder moved into place, before its journal line: the capture is finished."""
    store = Store(tmp_path)
    case = create(store)
    crash(store)
    drop_last_line(tmp_path / "journal.jsonl")
    (record_file,) = (tmp_path / "records").glob(f"*-{case['id']}.json")
    record_file.rename(record_file.with_name(f".{record_file.name}.tmp"))  # staged, never put in place
    audit_line = drop_last_line(tmp_path / "audit.log")
    reopened = Store(tmp_path, initial_state=initial_state)
    assert not list((tmp_path / "records").glob(".*"))
    assert reopened.get(case["id"]) == case
    assert audit_lines(tmp_path)[-1] + b"\n" == audit_line  # the same event, same time, same chain
    reopened.close()
    assert verify(tmp_path)["ok"]


@pytest.mark.parametrize("write", ["capture", "update", "setting"])
def test_kill_between_journal_and_audit_completes_the_audit_line(tmp_path, write):
    store = Store(tmp_path)
    case = create(store)
    if write == "update":
        store.update(case["id"], lambda record: record.update(status="reported"), "action.recorded", type="x")
    elif write == "setting":
        store.put_setting("profile", {"business_name": "Trattoria"})
    crash(store)
    before = (tmp_path / "audit.log").read_bytes()
    drop_last_line(tmp_path / "audit.log")
    Store(tmp_path).close()
    assert (tmp_path / "audit.log").read_bytes() == before
    assert verify(tmp_path)["ok"]


@pytest.mark.parametrize("lost", [["testimone.json"], ["records"], ["testimone.json", "records"]])
def test_missing_records_are_rebuilt_and_nothing_is_deleted(tmp_path, lost):
    """Issue 10.1: deleting testimone.json once wiped every case folder. Now it holds the settings only;
    the records are rebuilt from each case's capture.json and the audit log when their files are lost."""
    store = Store(tmp_path)
    cases = [create(store, text=f"commento {n}") for n in range(3)]
    store.add_evidence(cases[0]["id"], "consent-reply.eml", b"From: a@b\r\n\r\nSi", "message/rfc822")
    store.put_setting("profile", {"name": "Trattoria Demo"})
    store.close()
    Store(tmp_path).close()  # folds the journal
    before = tree_digest(tmp_path / "cases")
    for name in lost:
        shutil.rmtree(tmp_path / name) if name == "records" else (tmp_path / name).unlink()
    reopened = Store(tmp_path)
    assert tree_digest(tmp_path / "cases") == before
    for case in cases:
        record = reopened.get(case["id"])
        assert record["text"] == case["text"] and record["sha256"] == case["sha256"]
        assert ("rebuilt" in record) == ("records" in lost)
        if "records" in lost:
            assert record["rebuilt"]["from"] == ["capture.json", "audit.log"]
    assert "consent-reply.eml" in [e["name"] for e in reopened.get(cases[0]["id"])["evidence"]]
    assert [r["id"] for r in reopened.list()[0]] == [c["id"] for c in reversed(cases)]
    assert (reopened.get_setting("profile") is None) == ("testimone.json" in lost)
    reopened.close()
    assert verify(tmp_path)["ok"], verify(tmp_path)["problems"]
    Store(tmp_path).close()  # a second start changes nothing
    assert verify(tmp_path)["ok"]


def test_a_file_whose_record_never_committed_is_removed_at_start_up(tmp_path):
    store = Store(tmp_path)
    case = create(store)
    crash(store)  # killed after writing the file, before its record change
    (tmp_path / "cases" / case["id"] / "consent-1234.eml").write_bytes(b"risposta")
    Store(tmp_path).close()
    assert not (tmp_path / "cases" / case["id"] / "consent-1234.eml").exists()
    assert json.loads(audit_lines(tmp_path)[-1])["event"] == "evidence.discarded"
    assert verify(tmp_path)["ok"]


DAMAGE = {
    "truncated snapshot": lambda d: (d / "testimone.json").write_bytes((d / "testimone.json").read_bytes()[:-9]),
    "snapshot not tables": lambda d: (d / "testimone.json").write_text("[1, 2]"),
    "unreadable snapshot": lambda d: ((d / "testimone.json").unlink(), (d / "testimone.json").mkdir()),
    "corrupt journal line": lambda d: (d / "journal.jsonl").write_bytes(b"{not json\n{}\n"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_database_refuses_to_start_with_what_where_and_what_to_do(tmp_path, damage):
    store = Store(tmp_path)
    create(store)
    store.close()
    Store(tmp_path).close()  # the record is now in the snapshot
    DAMAGE[damage](tmp_path)
    before = tree_digest(tmp_path / "cases")
    with pytest.raises(StoreDamaged) as refused:
        Store(tmp_path)
    message = str(refused.value)
    assert str(tmp_path) in message and "backup" in message and "testimone verify" in message
    where = "journal.jsonl: line 1 " if damage == "corrupt journal line" else "testimone.json: "
    assert where in message
    assert tree_digest(tmp_path / "cases") == before


def test_serve_on_a_damaged_database_prints_the_problem_not_a_traceback(tmp_path):
    store = Store(tmp_path)
    create(store)
    store.close()
    (tmp_path / "testimone.json").write_bytes(b'{"cases": {"1": {"id": "trunc')
    env = {**os.environ, "TESTIMONE_DATA_DIR": str(tmp_path), "TESTIMONE_PORT": "0", "TESTIMONE_TSA_URL": "",
           "TESTIMONE_WITNESS": "0"}
    result = subprocess.run([sys.executable, "-m", "server", "serve"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{tmp_path / 'testimone.json'}: is not valid JSON" in result.stderr
    assert "testimone verify" in result.stderr


def test_erase_leaves_no_copy_in_the_data_dir(tmp_path):
    store = Store(tmp_path)
    secret = "Testo-da-cancellare-7781"
    case = create(store, text=secret)
    create(store)

    def blank(record):
        record.update(text=None, author={"name": None, "profile_url": None}, evidence=[])
        return {e["name"]: e["sha256"] for e in case["evidence"]} | {"capture.json": case["sha256"]}

    store.erase(case["id"], blank, "consent.withdrawn.erased")
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


def test_start_up_reads_the_end_of_a_long_audit_log_and_continues_its_chain(tmp_path):
    """Start-up reads only the newest 64 KiB of audit.log for its head; the chain must go on unbroken."""
    store = Store(tmp_path)
    for n in range(600):
        store.audit("document.generated", None, name=f"file-{n}")
    store.close()
    assert (tmp_path / "audit.log").stat().st_size > 65536
    with open(tmp_path / "audit.log", "ab") as log_file:
        log_file.write(b'{"seq":601,"at":"2026-')  # a line torn by a crash
    reopened = Store(tmp_path)
    assert reopened.audit_head()[0] == 600
    reopened.audit("document.generated", None, name="after")
    reopened.close()
    lines = audit_lines(tmp_path)
    assert len(lines) == 601 and json.loads(lines[-1])["seq"] == 601
    assert check_audit_chain(lines) == []


def test_a_clean_stop_is_marked_and_only_then_are_the_folders_left_unscanned(tmp_path):
    """After a clean stop start-up looks at names only; after a kill it tidies every folder changed since."""
    store = Store(tmp_path)
    case_id = create(store)["id"]
    store.close()
    assert (tmp_path / "stopped").exists()
    stray = tmp_path / "cases" / case_id / "stray.bin"
    stray.write_bytes(b"written by hand after a clean stop")
    reopened = Store(tmp_path)
    assert not (tmp_path / "stopped").exists()  # gone (on disk) before anything else is written
    assert stray.exists()  # a clean stop cut nothing short: the folders are not scanned
    crash(reopened)
    assert not (tmp_path / "stopped").exists()
    Store(tmp_path).close()  # after a kill: every folder changed since the last snapshot is tidied
    assert not stray.exists()
