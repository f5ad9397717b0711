"""RFC 3161 timestamps against a real TSA on loopback (`openssl ts -reply`), never the internet."""
import io
import json
import socket
import subprocess
import threading
import zipfile
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import TOKEN, make_capture
from server import create_app
from server.trust.clock import clock_report
from server.services.verify import verify
from server.trust.timestamps import TimestampError, request_timestamp


def _cert(subject, issuer, key, issuer_key, ca, eku=None):
    now = datetime.now(timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(obj) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class LocalTSA:
    """A time-stamping authority on 127.0.0.1: its own CA, a TSA certificate, and `openssl ts -reply`."""

    def __init__(self, folder):
        self.dir = folder
        folder.mkdir(parents=True, exist_ok=True)
        ca_key, tsa_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loopback Test Root CA")])
        tsa_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loopback Test TSA")])
        self.ca = _cert(ca_name, ca_name, ca_key, ca_key, ca=True)
        tsa = _cert(tsa_name, ca_name, tsa_key, ca_key, ca=False, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
        (folder / "ca.pem").write_bytes(_pem(self.ca))
        (folder / "tsa.pem").write_bytes(_pem(tsa))
        (folder / "tsa.key").write_bytes(_pem(tsa_key))
        (folder / "serial").write_text("01\n")
        (folder / "tsa.cnf").write_text(f"""
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.4146.2.3
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
        with socket.socket() as probe:  # a fixed port, so the TSA can go down and come back at one URL
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/tsr"
        self.requests = 0
        self.server = None
        self.basic_auth = None  # e.g. "Basic dXNlcjpwdw==": a qualified TSA's account

    def reply(self, tsq: bytes) -> bytes:
        self.requests += 1
        query = self.dir / f"q{self.requests}.tsq"
        query.write_bytes(tsq)
        answer = self.dir / f"r{self.requests}.tsr"
        subprocess.run(["openssl", "ts", "-reply", "-config", str(self.dir / "tsa.cnf"), "-queryfile", str(query),
                        "-out", str(answer)], check=True, capture_output=True)
        return answer.read_bytes()

    def start(self):
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                query = self.rfile.read(int(self.headers["Content-Length"]))
                if tsa.basic_auth and self.headers.get("Authorization") != tsa.basic_auth:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = tsa.reply(query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def local_tsa(tmp_path):
    tsa = LocalTSA(tmp_path / "tsa").start()
    yield tsa
    tsa.stop()


def evidence_app(tmp_path, tsa_url, **extra):
    config = {"DATA_DIR": str(tmp_path / "data"), "TOKEN": TOKEN, "TESTING": True, "TSA_URL": tsa_url,
              "TSA_RETRY_SECONDS": 0.3, **extra}
    return create_app(config)


def post_capture(app, **overrides):
    client = app.test_client()
    answer = client.post("/api/captures", json=make_capture(**overrides), base_url="http://127.0.0.1:8765",
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def close(app):
    worker = app.extensions.get("testimone.evidence_worker")
    if worker:
        worker.stop()
    app.extensions["testimone.store"].close()


def wait_for(predicate, timeout=20.0):
    deadline = datetime.now() + timedelta(seconds=timeout)
    while datetime.now() < deadline:
        if predicate():
            return True
        threading.Event().wait(0.05)
    return False


def test_timestamp_verifies_with_openssl_offline(tmp_path, local_tsa):
    app = evidence_app(tmp_path, local_tsa.url)
    case_id = post_capture(app)
    store = app.extensions["testimone.store"]
    assert wait_for(lambda: (store.get(case_id).get("timestamp") or {}).get("status") == "stamped")
    record = store.get(case_id)
    folder = store.data_dir / "cases" / case_id
    names = {e["name"] for e in record["evidence"]}
    assert {"timestamp.tsq", "timestamp.tsr", "timestamp-chain.pem"} <= names
    stamp = record["timestamp"]
    assert stamp["imprint_sha256"] == record["sha256"]
    assert stamp["tsa"] == "CN=Loopback Test TSA"
    local_tsa.stop()  # offline from here on: openssl needs only the files in the case folder
    check = subprocess.run(["openssl", "ts", "-verify", "-data", str(folder / "capture.json"),
                            "-in", str(folder / "timestamp.tsr"), "-CAfile", str(folder / "timestamp-chain.pem")],
                           capture_output=True, text=True)
    assert check.returncode == 0 and "Verification: OK" in check.stdout, check.stdout + check.stderr
    check = subprocess.run(["openssl", "ts", "-verify", "-queryfile", str(folder / "timestamp.tsq"),
                            "-in", str(folder / "timestamp.tsr"), "-CAfile", str(folder / "timestamp-chain.pem")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    events = [json.loads(line)["event"] for line in (store.data_dir / "audit.log").read_bytes().splitlines()]
    assert "timestamp.stamped" in events
    close(app)


def test_timestamp_of_other_data_fails_openssl(tmp_path, local_tsa):
    app = evidence_app(tmp_path, local_tsa.url)
    case_id = post_capture(app)
    store = app.extensions["testimone.store"]
    assert wait_for(lambda: (store.get(case_id).get("timestamp") or {}).get("status") == "stamped")
    folder = store.data_dir / "cases" / case_id
    forged = tmp_path / "forged.json"
    forged.write_bytes((folder / "capture.json").read_bytes().replace(b"incapace", b"bravissimo"))
    check = subprocess.run(["openssl", "ts", "-verify", "-data", str(forged), "-in", str(folder / "timestamp.tsr"),
                            "-CAfile", str(folder / "timestamp-chain.pem")], capture_output=True, text=True)
    assert check.returncode != 0
    close(app)


def test_offline_tsa_leaves_case_pending_then_completes(tmp_path):
    tsa = LocalTSA(tmp_path / "tsa")  # not started: the TSA is unreachable
    app = evidence_app(tmp_path, tsa.url)
    started = datetime.now()
    case_id = post_capture(app)
    assert (datetime.now() - started).total_seconds() < 5  # the 201 does not wait for the TSA
    store = app.extensions["testimone.store"]
    assert wait_for(lambda: (store.get(case_id).get("timestamp") or {}).get("status") == "pending")
    assert "unreachable" in store.get(case_id)["timestamp"]["last_error"]
    tsa.start()
    try:
        assert wait_for(lambda: (store.get(case_id).get("timestamp") or {}).get("status") == "stamped")
        history = [event["event"] for event in store.get(case_id)["history"]]
        assert history.index("timestamp.pending") < history.index("timestamp.stamped")
    finally:
        close(app)
        tsa.stop()


def test_cli_timestamp_pending(tmp_path, monkeypatch):
    tsa = LocalTSA(tmp_path / "tsa")
    app = evidence_app(tmp_path, tsa.url, TSA_RETRY_SECONDS=3600)
    case_id = post_capture(app)
    store = app.extensions["testimone.store"]
    assert wait_for(lambda: (store.get(case_id).get("timestamp") or {}).get("status") == "pending")
    close(app)
    from server.cli import main

    monkeypatch.setenv("TESTIMONE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TESTIMONE_TSA_URL", tsa.url)
    monkeypatch.setenv("TESTIMONE_WITNESS", "0")
    result = CliRunner().invoke(main, ["timestamp", "--pending"])
    assert result.exit_code == 1 and "1 pending" in result.output, result.output
    tsa.start()
    try:
        result = CliRunner().invoke(main, ["timestamp", "--pending"])
        assert result.exit_code == 0, result.output
        assert f"{case_id}: stamped" in result.output
    finally:
        tsa.stop()
    reopened = create_app({"DATA_DIR": str(tmp_path / "data"), "TOKEN": TOKEN})
    assert reopened.extensions["testimone.store"].get(case_id)["timestamp"]["status"] == "stamped"
    close(reopened)


def test_request_timestamp_rejects_a_non_tsa(tmp_path):
    class NotATSA(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>captive portal</html>")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotATSA)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(TimestampError, match="not a timestamp"):
            request_timestamp(b"data", f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()


def test_empty_tsa_url_turns_timestamping_off(tmp_path):
    app = evidence_app(tmp_path, "")
    assert "testimone.evidence_worker" not in app.extensions
    case_id = post_capture(app)
    assert "timestamp" not in app.extensions["testimone.store"].get(case_id)
    close(app)


def test_clock_report_difference():
    record = {"captured_at": "2026-11-23T14:27:01.500Z",
              "context": {"captured_at_client": "2026-11-23T15:26:59.000+01:00", "timezone": "Europe/Rome"}}
    report = clock_report(record)
    assert report["difference_seconds"] == 2.5
    assert clock_report({"captured_at": "2026-11-23T14:27:01.500Z", "context": {}})["difference_seconds"] is None


def test_worker_records_clock_with_ntp_offset(tmp_path):
    """A real SNTP exchange with a loopback NTP server whose clock runs 30 s ahead."""
    import struct
    import time

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve():
        data, peer = sock.recvfrom(64)
        now = time.time() + 30 + 2208988800
        stamp = struct.pack("!II", int(now), int((now % 1) * 2**32))
        sock.sendto(b"\x24\x01\x00\x00" + 20 * b"\0" + data[40:48] + stamp + stamp, peer)

    threading.Thread(target=serve, daemon=True).start()
    try:
        app = evidence_app(tmp_path, "", NTP_SERVER=f"127.0.0.1:{sock.getsockname()[1]}")
        case_id = post_capture(app)
        store = app.extensions["testimone.store"]
        assert wait_for(lambda: "clock" in store.get(case_id))
        clock = store.get(case_id)["clock"]
        assert clock["client"] == "2026-11-23T14:00:00.000Z"
        assert clock["difference_seconds"] is not None
        assert 29 < clock["ntp"]["offset_seconds"] < 31
        close(app)
    finally:
        sock.close()


def test_tsa_account_credentials_are_sent_but_never_stored(tmp_path, local_tsa):
    import base64

    local_tsa.basic_auth = "Basic " + base64.b64encode(b"studio-demo:s3gret0").decode()
    secret_url = local_tsa.url.replace("http://", "http://studio-demo:s3gret0@")
    app = evidence_app(tmp_path, secret_url)
    case_id = post_capture(app)
    store = app.extensions["testimone.store"]
    assert wait_for(lambda: (store.get(case_id).get("timestamp") or {}).get("status") == "stamped")
    assert store.get(case_id)["timestamp"]["url"] == local_tsa.url
    close(app)
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert b"s3gret0" not in path.read_bytes(), path
    with pytest.raises(TimestampError, match="401"):
        request_timestamp(b"data", local_tsa.url)


def test_serve_timestamps_in_the_background_and_verify_runs_alongside(tmp_path):
    """The real `testimone serve` process: TSA down at capture, pending, stamped once it comes up."""
    import os
    import sys
    import time
    import urllib.request

    tsa = LocalTSA(tmp_path / "tsa")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TESTIMONE_DATA_DIR": str(tmp_path / "data"), "TESTIMONE_PORT": str(port),
           "TESTIMONE_TOKEN": TOKEN, "TESTIMONE_TSA_URL": tsa.url, "TESTIMONE_WITNESS": "0",
           "TESTIMONE_TSA_RETRY_SECONDS": "0.5"}
    process = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"

    def call(path, body=None):
        request = urllib.request.Request(url + path, data=json.dumps(body).encode() if body else None,
                                         headers={"Authorization": f"Bearer {TOKEN}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())

    try:
        assert wait_for(lambda: _answers(url), timeout=30)
        started = time.monotonic()
        status, created = call("/api/captures", make_capture())
        assert status == 201 and time.monotonic() - started < 5
        case_path = f"/api/captures/{created['id']}"
        assert wait_for(lambda: (call(case_path)[1].get("timestamp") or {}).get("status") == "pending")
        tsa.start()
        assert wait_for(lambda: (call(case_path)[1].get("timestamp") or {}).get("status") == "stamped")
        check = subprocess.run([sys.executable, "-m", "server", "verify", "--case", created["id"]], env=env,
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert call("/api/verify")[1]["ok"] is True
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
        tsa.stop()
    assert "Traceback" not in output, output


def _answers(url) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/api/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_background_work_queued_before_a_stop_is_done_after_the_restart(tmp_path, local_tsa):
    """Issue 10.7: the queue lived in memory only; after restarts most captures never got their clock or
    witness record."""
    app = evidence_app(tmp_path, local_tsa.url, BACKGROUND=False)  # a server stopped before its worker ran
    case_ids = [post_capture(app) for _ in range(3)]
    store = app.extensions["testimone.store"]
    assert all(store.get(case_id)["background"] == "queued" for case_id in case_ids)
    close(app)
    app = evidence_app(tmp_path, local_tsa.url)
    store = app.extensions["testimone.store"]
    assert wait_for(lambda: all("background" not in store.get(case_id) for case_id in case_ids))
    for case_id in case_ids:
        record = store.get(case_id)
        assert "clock" in record and record["timestamp"]["status"] == "stamped"
        assert [e["event"] for e in record["history"]][-1] == "background.done"
    close(app)
    assert verify(tmp_path / "data")["ok"]


def test_audit_chain_anchors_catch_a_dropped_tail_and_name_unanchored_lines(tmp_path, local_tsa):
    """Issue 10.6: dropping the newest audit lines, or appending forged ones, went unnoticed."""
    from server.trust.anchors import anchor_now, read_anchors

    app = evidence_app(tmp_path, local_tsa.url, ANCHOR_SECONDS=3600)
    case_id = post_capture(app)
    store = app.extensions["testimone.store"]
    assert wait_for(lambda: "background" not in store.get(case_id))  # the worker is done with it
    anchored = anchor_now(store, local_tsa.url)
    assert anchored["seq"] == store.audit_head()[0] and anchor_now(store, local_tsa.url) is None
    report = verify(store.data_dir)
    assert report["ok"] and report["notes"] == [], report

    store.audit("document.downloaded", case_id, document="incident_report")  # after the anchor
    report = verify(store.data_dir)
    assert report["ok"] and report["notes"][0].startswith(f"audit.log line {anchored['seq'] + 1}: not yet anchored")

    # An export anchors the head again.
    client = app.test_client()
    answer = client.get(f"/api/captures/{case_id}/bundle.zip", base_url="http://127.0.0.1:8765",
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert read_anchors(store)[-1]["seq"] > anchored["seq"]
    with zipfile.ZipFile(io.BytesIO(answer.data)) as archive:  # the lawyer's copy of the anchors
        bundled = archive.read(f"testimone-{case_id}/anchors.jsonl")
    assert bundled == (store.data_dir / "anchors.jsonl").read_bytes()
    assert json.loads(bundled.splitlines()[-1])["seq"] == read_anchors(store)[-1]["seq"]
    close(app)

    path = tmp_path / "data" / "audit.log"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))  # drop the newest (anchored) line: the chain itself still holds
    problems = verify(tmp_path / "data")["problems"]
    assert any("lines removed from the end of the log" in p for p in problems), problems


def test_the_worker_anchors_the_audit_chain_at_intervals(tmp_path, local_tsa):
    from server.trust.anchors import read_anchors

    app = evidence_app(tmp_path, local_tsa.url, ANCHOR_SECONDS=0.2)
    case_id = post_capture(app)
    store = app.extensions["testimone.store"]
    assert wait_for(lambda: "background" not in store.get(case_id) and read_anchors(store)
                    and read_anchors(store)[-1]["seq"] == store.audit_head()[0])
    close(app)
    assert verify(tmp_path / "data")["notes"] == []
