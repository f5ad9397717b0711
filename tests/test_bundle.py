"""The evidence bundle: checked by sha256sum -c, by its own verify.py, by openssl; tampering named."""
import io
import json
import subprocess
import sys
import zipfile

import pytest
import requests
from click.testing import CliRunner

from conftest import HOST, TOKEN, make_capture, tree_digest
from server import create_app
from server.render.bundle import ASSETS
from server.cli import main
from test_timestamps import close, evidence_app, local_tsa, post_capture, wait_for  # noqa: F401 (fixture)


def run(command, cwd):
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True)


def extract(zip_bytes: bytes, target):
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        names = archive.namelist()
        archive.extractall(target)
    root = target / names[0].split("/")[0]
    return root, names


@pytest.fixture(scope="module")
def bundle_zip(tmp_path_factory):
    """One case and its bundle, built once (rendering and signing the PDF is the slow part)."""
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("bundle") / "data"), "TOKEN": TOKEN, "TESTING": True})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    case_id = client.post("/api/captures", json=make_capture(), base_url=f"http://{HOST}", headers=headers).json["id"]
    answer = client.get(f"/api/captures/{case_id}/bundle.zip", base_url=f"http://{HOST}", headers=headers)
    app.extensions["testimone.store"].close()
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert f'filename="testimone-{case_id}.zip"' in answer.headers["Content-Disposition"]
    return case_id, answer.data


@pytest.fixture
def bundle_dir(bundle_zip, tmp_path):
    case_id, data = bundle_zip
    root, names = extract(data, tmp_path / "out")
    return case_id, root, names, data


def test_bundle_contents_and_checks(bundle_dir):
    case_id, root, names, data = bundle_dir
    assert root.name == f"testimone-{case_id}"
    files = {name.split("/", 1)[1] for name in names}
    assert {"capture.json", "documents/incident-report-it.pdf", "evidence/screenshot.png", "evidence/page.mhtml",
            "evidence/comment.html",
            "audit.jsonl", "manifest.json", "manifest.sig", "signer.pem", "SHA256SUMS", "VERIFY.txt",
            "verify.py"} <= files
    assert TOKEN.encode() not in data and TOKEN.encode() not in b"".join(
        p.read_bytes() for p in root.rglob("*") if p.is_file())
    sums = run(["sha256sum", "-c", "SHA256SUMS"], root)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert sums.stdout.count(": OK") == len(files) - 1
    check = run([sys.executable, "verify.py"], root)
    assert check.returncode == 0, check.stdout
    assert "ALL CHECKS PASSED" in check.stdout
    assert "manifest.sig: signature of manifest.json valid" in check.stdout
    assert "documents/incident-report-it.pdf: signature valid, document not modified (pdfsig)" in check.stdout
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["record_sha256"] == run(["sha256sum", "capture.json"], root).stdout.split()[0]
    assert {entry["path"] for entry in manifest["files"]} == files - {
        "manifest.json", "manifest.sig", "signer.pem", "SHA256SUMS", "VERIFY.txt", "verify.py"}
    audit = [json.loads(line) for line in (root / "audit.jsonl").read_text().splitlines()]
    # the PDF was fetched through the documents route for the bundle, and that download is audited
    assert [event["event"] for event in audit] == ["capture.created", "document.downloaded"]
    assert {event["case"] for event in audit} == {case_id}
    verify_text = (root / "VERIFY.txt").read_text()
    assert "sha256sum -c SHA256SUMS" in verify_text and "openssl ts -verify" in verify_text
    assert "ITALIANO" in verify_text and "ENGLISH" in verify_text and "pdfsig" in verify_text


def test_bundle_verify_py_uses_only_the_standard_library():
    source = (ASSETS / "verify.py").read_text()
    imports = {line.split()[1].split(".")[0] for line in source.splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= set(sys.stdlib_module_names)


def test_flipped_byte_in_bundle_is_named(bundle_dir):
    _, root, _, _ = bundle_dir
    path = root / "evidence" / "screenshot.png"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    assert run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], root).returncode != 0
    check = run([sys.executable, "verify.py"], root)
    assert check.returncode == 1
    assert "FAIL  evidence/screenshot.png: SHA-256 differs from SHA256SUMS" in check.stdout


def test_deleted_file_in_bundle_is_named(bundle_dir):
    _, root, _, _ = bundle_dir
    (root / "evidence" / "page.mhtml").unlink()
    check = run([sys.executable, str(root / "verify.py"), str(root)], root.parent)
    assert check.returncode == 1 and "FAIL  evidence/page.mhtml: missing" in check.stdout


def test_replaced_manifest_is_detected(bundle_dir):
    """Forge a file and rewrite manifest.json and SHA256SUMS to match: the signature and capture.json tell."""
    _, root, _, _ = bundle_dir
    forged = b"<div>testo falsificato</div>"
    (root / "evidence" / "comment.html").write_bytes(forged)
    manifest = json.loads((root / "manifest.json").read_text())
    import hashlib

    for entry in manifest["files"]:
        content = (root / entry["path"]).read_bytes()
        entry.update(bytes=len(content), sha256=hashlib.sha256(content).hexdigest())
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(root)}\n")
    (root / "SHA256SUMS").write_text("".join(lines))
    assert run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], root).returncode == 0  # consistent forgery
    check = run([sys.executable, "verify.py"], root)
    assert check.returncode == 1
    assert "FAIL  manifest.sig: signature does not match manifest.json" in check.stdout
    assert "FAIL  evidence/comment.html: SHA-256 differs from capture.json" in check.stdout


def test_bundle_of_unknown_case_is_404(client):
    answer = client.get("/api/captures/20260101-000000-abcdef/bundle.zip")
    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"
    assert client.get("/api/captures/x/bundle.zip", headers={"Authorization": "Bearer no"}).status_code == 401


def test_timestamped_bundle_verifies_with_openssl(tmp_path, local_tsa):  # noqa: F811
    app = evidence_app(tmp_path, local_tsa.url)
    case_id = post_capture(app)
    store = app.extensions["testimone.store"]
    assert wait_for(lambda: (store.get(case_id).get("timestamp") or {}).get("status") == "stamped")
    answer = app.test_client().get(f"/api/captures/{case_id}/bundle.zip", base_url="http://127.0.0.1:8765",
                                   headers={"Authorization": f"Bearer {TOKEN}"})
    close(app)
    local_tsa.stop()
    root, _ = extract(answer.data, tmp_path / "out")
    check = run(["openssl", "ts", "-verify", "-data", "capture.json", "-in", "evidence/timestamp.tsr",
                 "-CAfile", "evidence/timestamp-chain.pem"], root)
    assert check.returncode == 0 and "Verification: OK" in check.stdout, check.stderr
    script = run([sys.executable, "verify.py"], root)
    assert script.returncode == 0, script.stdout
    assert "openssl ts -verify OK" in script.stdout
    # capture.json edited, and every list rewritten to match: the timestamp no longer fits
    (root / "capture.json").write_bytes((root / "capture.json").read_bytes().replace(b"incapace", b"bravo   "))
    script = run([sys.executable, "verify.py"], root)
    assert "FAIL  evidence/timestamp.tsr: does not timestamp this capture.json" in script.stdout


def test_cli_export_dir_and_zip_while_server_runs(live_server, tmp_path, monkeypatch):
    answer = requests.post(f"{live_server.url}/api/captures", json=make_capture(kind="testimonial"),
                           headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    case_id = answer.json()["id"]
    monkeypatch.setenv("TESTIMONE_DATA_DIR", str(live_server.data_dir))
    monkeypatch.setenv("TESTIMONE_PORT", str(live_server.port))
    monkeypatch.setenv("TESTIMONE_TOKEN", TOKEN)
    before = tree_digest(live_server.data_dir / "cases")
    result = CliRunner().invoke(main, ["export", case_id, str(tmp_path / "folder")])
    assert result.exit_code == 0, result.output
    check = run([sys.executable, "verify.py"], tmp_path / "folder")
    assert check.returncode == 0, check.stdout
    # the store is locked by the running server: the PDF came from it over HTTP, signed
    assert "documents/consent-request-it.pdf: signature valid" in check.stdout
    result = CliRunner().invoke(main, ["export", case_id, str(tmp_path / "case.zip")])
    assert result.exit_code == 0, result.output
    root, _ = extract((tmp_path / "case.zip").read_bytes(), tmp_path / "unzipped")
    assert run(["sha256sum", "-c", "SHA256SUMS"], root).returncode == 0
    assert tree_digest(live_server.data_dir / "cases") == before
    result = CliRunner().invoke(main, ["export", case_id, str(tmp_path / "folder")])
    assert result.exit_code != 0 and "not empty" in result.output
    result = CliRunner().invoke(main, ["export", "20260101-000000-000000", str(tmp_path / "x")])
    assert result.exit_code != 0 and "No case" in result.output
    result = CliRunner().invoke(main, ["export", case_id, str(tmp_path / "no" / "such" / "dir.zip")])
    assert result.exit_code == 1 and "No such file or directory" in result.output


def test_edited_pdf_in_bundle_is_named(bundle_dir):
    _, root, _, _ = bundle_dir
    path = root / "documents" / "incident-report-it.pdf"
    data = bytearray(path.read_bytes())
    data[400] ^= 0x01
    path.write_bytes(bytes(data))
    check = run([sys.executable, "verify.py"], root)
    assert check.returncode == 1
    assert "FAIL  documents/incident-report-it.pdf: signature invalid or document modified (pdfsig)" in check.stdout
