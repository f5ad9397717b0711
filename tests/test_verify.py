"""`testimone verify` and GET /api/verify: every tampering is detected and named."""
import json
import os

import pytest
import requests
from click.testing import CliRunner

from conftest import TOKEN, make_capture, tree_digest
from server.cli import main
from server.domain.errors import Invalid
from server.services.verify import verify
from server.store import Store


def capture(client, **overrides) -> str:
    answer = client.post("/api/captures", json=make_capture(**overrides))
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


@pytest.fixture
def cases(client, store):
    ids = [capture(client), capture(client, kind="testimonial")]
    store.add_evidence(ids[0], "consent-reply.eml", b"From: a@example.org\r\n\r\nSi", "message/rfc822")
    return ids


def test_intact_data_dir_verifies(store, cases):
    report = verify(store.data_dir)
    assert report["ok"], report["problems"]
    assert report["checked"] == {"cases": 2, "files": 9, "audit_lines": 3}


def test_flipped_byte_in_screenshot_is_named(store, cases):
    path = store.data_dir / "cases" / cases[0] / "screenshot.png"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify(store.data_dir)
    assert not report["ok"]
    assert len(report["problems"]) == 1
    assert report["problems"][0].startswith(f"cases/{cases[0]}/screenshot.png: SHA-256")
    assert report["cases"][cases[1]] == []


def test_deleted_page_snapshot_is_named(store, cases):
    (store.data_dir / "cases" / cases[1] / "page.mhtml").unlink()
    assert verify(store.data_dir)["problems"] == [f"cases/{cases[1]}/page.mhtml: missing"]


def test_modified_capture_json_is_named(store, cases):
    path = store.data_dir / "cases" / cases[0] / "capture.json"
    path.write_bytes(path.read_bytes().replace("incapace".encode(), "simpatico".encode()))
    problems = verify(store.data_dir)["problems"]
    assert len(problems) == 1 and problems[0].startswith(f"cases/{cases[0]}/capture.json: SHA-256")


def test_edited_audit_line_is_named(store, cases):
    path = store.data_dir / "audit.log"
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"capture.created"', b'"capture.created "')
    path.write_bytes(b"\n".join(lines))
    problems = verify(store.data_dir)["problems"]
    assert "audit.log line 3: chain broken (line edited, removed or inserted before it)" in problems


def test_removed_audit_line_is_named(store, cases):
    path = store.data_dir / "audit.log"
    lines = path.read_bytes().split(b"\n")
    del lines[0]
    path.write_bytes(b"\n".join(lines))
    problems = verify(store.data_dir)["problems"]
    assert any(p.startswith("audit.log line 1: chain broken") for p in problems)
    assert any(p.startswith("audit.log line 1: sequence number 2") for p in problems)


def test_truncated_audit_log_is_detected(store, cases):
    """Cutting the newest lines leaves a valid chain: the case histories show what is missing."""
    path = store.data_dir / "audit.log"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(lines[0] + b"\n")
    problems = verify(store.data_dir)["problems"]
    assert sorted(problems) == sorted([f"audit.log: 1 event(s) evidence.added of case {cases[0]} missing "
                        "(log truncated or lines removed)",
                        f"audit.log: 1 event(s) capture.created of case {cases[1]} missing "
                        "(log truncated or lines removed)"])


def test_audit_log_cut_mid_line_is_named(store, cases):
    path = store.data_dir / "audit.log"
    data = path.read_bytes()
    path.write_bytes(data[:-20])
    assert any(p.startswith("audit.log line 3: incomplete line") for p in verify(store.data_dir)["problems"])


def test_erased_files_are_not_failures(store, cases):
    def blank(record):
        record.update(text=None)
        return {name: "" for name in ["screenshot.png", "page.mhtml", "comment.html", "capture.json"]}

    store.erase(cases[1], blank, "consent.withdrawn.erased")
    assert verify(store.data_dir)["ok"]
    (store.data_dir / "cases" / cases[0] / "comment.html").unlink()  # not erased: a loss
    assert verify(store.data_dir)["problems"] == [f"cases/{cases[0]}/comment.html: missing"]


def test_single_case_and_unknown_case(store, cases):
    (store.data_dir / "cases" / cases[1] / "page.mhtml").unlink()
    assert verify(store.data_dir, cases[0])["ok"]
    assert not verify(store.data_dir, cases[1])["ok"]
    assert verify(store.data_dir, "nope")["problems"] == ["case nope: not found"]


def test_api_verify_report(client, store, cases):
    answer = client.get("/api/verify")
    assert answer.status_code == 200 and answer.json["ok"] is True
    (store.data_dir / "cases" / cases[0] / "comment.html").write_bytes(b"<div>altro</div>")
    answer = client.get(f"/api/verify?case={cases[0]}")
    assert answer.json["ok"] is False
    assert answer.json["cases"][cases[0]][0].startswith(f"cases/{cases[0]}/comment.html: SHA-256")
    assert client.get("/api/verify?case=missing").status_code == 404
    bad = client.get("/api/verify?cases=x")
    assert bad.status_code == 400 and bad.json["error"]["field"] == "cases"
    assert client.get("/api/verify", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_cli_verify_while_the_server_runs(live_server, monkeypatch):
    """The running server holds the store's lock: verify reads the files and changes nothing (but its own
    derived marks, verified.sqlite3, which make the next run incremental)."""
    answer = requests.post(f"{live_server.url}/api/captures", json=make_capture(),
                           headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert answer.status_code == 201
    case_id = answer.json()["id"]
    monkeypatch.setenv("TESTIMONE_DATA_DIR", str(live_server.data_dir))
    before = tree_digest(live_server.data_dir)
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output
    after = tree_digest(live_server.data_dir)
    assert after.pop("verified.sqlite3") and after == before
    (live_server.data_dir / "cases" / case_id / "screenshot.png").write_bytes(b"not the screenshot")
    result = CliRunner().invoke(main, ["verify", "--case", case_id])
    assert result.exit_code == 1
    assert f"cases/{case_id}/screenshot.png: SHA-256" in result.output
    result = CliRunner().invoke(main, ["verify", "--json"])
    assert json.loads(result.output)["ok"] is False


def test_cli_verify_without_data(tmp_path, monkeypatch):
    monkeypatch.setenv("TESTIMONE_DATA_DIR", str(tmp_path / "nothing"))
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 1 and "No Testimone data" in result.output


def edit_record(data_dir, case_id, edit):
    """Change a record in the database behind the server's back (the server is not running)."""
    (path,) = (data_dir / "records").glob(f"*-{case_id}.json")
    doc = json.loads(path.read_bytes())
    edit(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("field, edit", [
    ("text", lambda doc: doc.update(text="Testo cambiato a mano")),
    ("author.name", lambda doc: doc["author"].update(name="Qualcun Altro")),
    ("posted_at", lambda doc: doc.update(posted_at="2026-11-01T10:00:00+01:00")),
    ("offence.category", lambda doc: doc["offence"].update(category="threat")),
])
def test_a_record_edited_behind_the_servers_back_is_named(app, store, cases, field, edit):
    """Issue 10.2: the PDF printed an edited text next to the original record hash, and verify said OK."""
    store.close()
    Store(store.data_dir).close()  # fold the journal into the snapshot
    edit_record(store.data_dir, cases[0], edit)
    report = verify(store.data_dir)
    assert report["problems"] == [f"cases/{cases[0]}: field {field} of the record differs from capture.json "
                                  "(record edited)"]


def test_a_withdrawal_verifies_but_a_capture_json_deleted_without_one_does_not(client, store, cases):
    """Issue 10.5: every withdrawal made verify fail (`capture.json: missing`)."""
    withdrawn = client.post(f"/api/captures/{cases[1]}/revocation",
                            json={"received_at": "2026-11-23", "received_via": "email"})
    assert withdrawn.status_code == 200, withdrawn.json
    assert verify(store.data_dir)["ok"], verify(store.data_dir)["problems"]
    (store.data_dir / "cases" / cases[0] / "capture.json").unlink()
    assert verify(store.data_dir)["problems"] == [f"cases/{cases[0]}/capture.json: missing"]


def test_an_erasure_written_into_the_record_only_does_not_excuse_a_deleted_file(store, cases):
    store.close()
    Store(store.data_dir).close()
    edit_record(store.data_dir, cases[0], lambda doc: doc["history"].append(
        {"at": "2026-11-23T10:00:00.000Z", "event": "capture.created", "erased": ["screenshot.png"]}))
    (store.data_dir / "cases" / cases[0] / "screenshot.png").unlink()
    assert f"cases/{cases[0]}/screenshot.png: missing" in verify(store.data_dir)["problems"]


def test_a_damaged_database_is_a_problem_not_a_traceback(store, cases):
    (store.data_dir / "testimone.json").write_bytes(b'{"cases": {"1": ')
    report = verify(store.data_dir)
    assert not report["ok"] and "testimone.json: is not valid JSON" in report["problems"][0]


# -- incremental verify (issue 13): size/mtime marks, the audit chain from its last verified line ----------

def tamper_keeping_size_and_mtime(path, data: bytes) -> None:
    """What a careful local attacker can do: same size, mtime put back with os.utime."""
    stat = path.stat()
    assert len(data) == stat.st_size
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_the_second_run_hashes_only_what_changed(store, cases):
    first = verify(store.data_dir)
    assert first["ok"] and first["mode"] == "incremental"
    assert first["hashed"] == {"files": 9, "audit_lines": 3}  # no marks yet: everything
    second = verify(store.data_dir)
    assert second["ok"] and second["checked"] == first["checked"]
    assert second["hashed"] == {"files": 0, "audit_lines": 0}
    assert second["unchanged"]["cases"] == 2 and second["unchanged"]["files"] == 9
    assert first["unchanged"]["since"] is None  # nothing was skipped
    assert second["unchanged"]["since"].endswith("Z")  # the first run's time, when the marks were made
    store.add_evidence(cases[1], "note.txt", b"later", "text/plain")  # one new file, one new audit line
    third = verify(store.data_dir)
    assert third["ok"], third["problems"]
    assert third["hashed"] == {"files": 2, "audit_lines": 1}  # the changed case's capture.json and the new file
    assert third["unchanged"] == {"cases": 1, "files": 8, "since": second["unchanged"]["since"]}
    full = verify(store.data_dir, mode="full")
    assert full["ok"] and full["hashed"] == {"files": 10, "audit_lines": 4} and full["last_full"]


def test_same_size_and_restored_mtime_escape_the_incremental_run_but_not_the_full_one(store, cases):
    """The documented limit (docs/security.md): only --full proves integrity."""
    assert verify(store.data_dir)["ok"]
    path = store.data_dir / "cases" / cases[0] / "screenshot.png"
    original = path.read_bytes()
    tamper_keeping_size_and_mtime(path, original[:-1] + bytes([original[-1] ^ 1]))
    assert verify(store.data_dir)["ok"]  # missed: size and mtime are what they were
    full = verify(store.data_dir, mode="full")
    assert full["problems"] == [f"cases/{cases[0]}/screenshot.png: SHA-256 {full['problems'][0].split()[2]} differs "
                                f"from the recorded {store.get(cases[0])['evidence'][0]['sha256']} (file modified)"]
    again = verify(store.data_dir)  # a failure leaves no mark behind: the next quick run sees it too
    assert again["problems"] == full["problems"]


def test_a_tampered_file_with_a_new_mtime_is_caught_by_the_incremental_run(store, cases):
    assert verify(store.data_dir)["ok"]
    path = store.data_dir / "cases" / cases[1] / "comment.html"
    stat = path.stat()
    path.write_bytes(b"x" * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    report = verify(store.data_dir)
    assert not report["ok"] and report["hashed"]["files"] == 2  # the file and its case's capture.json
    assert report["problems"][0].startswith(f"cases/{cases[1]}/comment.html: SHA-256")


def test_a_record_edited_after_a_verify_is_checked_again(app, store, cases):
    assert verify(store.data_dir)["ok"]
    store.close()
    Store(store.data_dir).close()
    edit_record(store.data_dir, cases[0], lambda doc: doc.update(text="Testo cambiato a mano"))
    assert verify(store.data_dir)["problems"] == [f"cases/{cases[0]}: field text of the record differs from "
                                                  "capture.json (record edited)"]


def test_a_log_changed_before_its_last_verified_line_is_walked_whole(store, cases):
    assert verify(store.data_dir)["ok"]
    store.close()
    log = store.data_dir / "audit.log"
    lines = log.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"seq":2', b'"seq":2 ')  # one byte longer: the last verified line moved
    log.write_bytes(b"\n".join(lines))
    report = verify(store.data_dir)
    assert "audit.log line 3: chain broken (line edited, removed or inserted before it)" in report["problems"]
    assert report["hashed"]["audit_lines"] == 3 and "whole chain was walked" in report["notes"][0]


def test_a_log_cut_after_a_verify_is_caught(store, cases):
    assert verify(store.data_dir)["ok"]
    store.close()
    log = store.data_dir / "audit.log"
    log.write_bytes(b"".join(line + b"\n" for line in log.read_bytes().split(b"\n")[:2]))
    missing = f"audit.log: 1 event(s) evidence.added of case {cases[0]} missing (log truncated or lines removed)"
    assert missing in verify(store.data_dir)["problems"]
    assert missing in verify(store.data_dir)["problems"]  # and again: the case keeps no mark meanwhile


def test_since_and_a_deleted_marks_file(store, cases):
    assert verify(store.data_dir)["hashed"]["files"] == 9
    today = store.get(cases[0])["captured_at"][:10]
    assert verify(store.data_dir, since=today)["checked"]["cases"] == 2
    assert verify(store.data_dir, since=today)["hashed"]["files"] == 9  # the chosen cases are hashed in full
    assert verify(store.data_dir, since="2999-01-01")["checked"]["cases"] == 0
    (store.data_dir / "verified.sqlite3").unlink()  # derived: the next run is simply a full one again
    assert verify(store.data_dir)["hashed"]["files"] == 9
    with pytest.raises(Invalid) as refused:
        verify(store.data_dir, since="yesterday")
    assert refused.value.field == "since"


def test_api_and_cli_modes(client, store, cases, monkeypatch):
    assert client.get("/api/verify").json["hashed"]["files"] == 9
    assert client.get("/api/verify?mode=incremental").json["hashed"]["files"] == 0
    full = client.get("/api/verify?mode=full").json
    assert full["mode"] == "full" and full["hashed"]["files"] == 9 and full["ok"]
    for query, field in (("mode=quick", "mode"), ("since=2026-13-01", "since")):
        bad = client.get(f"/api/verify?{query}")
        assert bad.status_code == 400 and bad.json["error"]["field"] == field
    monkeypatch.setenv("TESTIMONE_DATA_DIR", str(store.data_dir))
    quick = CliRunner().invoke(main, ["verify"])
    assert quick.exit_code == 0 and "incremental: hashed 0 of 9 files; 9 unchanged since" in quick.output
    assert "testimone verify --full" in quick.output
    result = CliRunner().invoke(main, ["verify", "--full"])
    assert result.exit_code == 0 and "full verify: every file hashed again" in result.output
    result = CliRunner().invoke(main, ["verify", "--since", "2999-01-01", "--json"])
    assert json.loads(result.output)["checked"]["cases"] == 0
