"""Second witness against a real HTTPS server on loopback with a self-signed certificate."""
import hashlib
import ipaddress
import json
import ssl
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import TOKEN, make_capture
from server import create_app
from server.trust.witness import fetch, text_present
from test_timestamps import close, wait_for

COMMENT = "Il peggior ristorante della città, il cuoco è un incapace."
PAGE = ("<html><body><div role='article'><span>Ottavio Inventato</span>"
        "<div>Il peggior ristorante della citt&agrave;,\n  il cuoco &egrave; un <b>incapace</b>.</div>"
        "</div></body></html>")
LOGIN = "<html><body><form id='login_form'><input type='password' name='pass'></form></body></html>"


class LocalSite:
    """https://localhost:<port>/ with a certificate of its own; `pages` can change between requests."""

    def __init__(self, folder):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.now(timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                     .not_valid_after(now + timedelta(days=7))
                     .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                                 x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                    critical=False)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(key, hashes.SHA256()))
        self.cert_file = folder / "site.pem"
        self.cert_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        key_file = folder / "site.key"
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.pages = {"/post": (200, PAGE), "/old": (301, "/post"), "/members": (302, "/login?next=/members"),
                      "/login": (200, LOGIN)}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, content = site.pages.get(self.path.split("?")[0], (404, "not here"))
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", content)
                    content = ""
                body = content.encode()
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://localhost:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site(tmp_path):
    site = LocalSite(tmp_path)
    yield site
    site.stop()


def config_for(site, **extra):
    return {"WITNESS_ALLOW_PRIVATE": True, "WITNESS_CA_FILE": str(site.cert_file), **extra}


def test_fetch_records_addresses_tls_status_headers_and_body(site):
    report = fetch(f"{site.url}/post?comment_id=1", config_for(site))
    assert report["outcome"] == "fetched" and report["status"] == 200
    hop = report["hops"][0]
    assert hop["connected_to"] == "127.0.0.1" and "127.0.0.1" in hop["addresses"]
    assert ["Content-Type", "text/html; charset=utf-8"] in hop["headers"]
    tls = hop["tls"]
    assert tls["verified"] is True and tls["error"] is None
    assert tls["chain"][0]["subject"] == "CN=localhost" and tls["chain"][0]["issuer"] == "CN=localhost"
    fingerprint = hashlib.sha256(site.cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert tls["chain"][0]["sha256"] == fingerprint
    assert tls["chain"][0]["not_after"].startswith(site.cert.not_valid_after_utc.date().isoformat())
    assert report["body_sha256"] == hashlib.sha256(PAGE.encode()).hexdigest()


def test_untrusted_certificate_is_recorded_not_hidden(site):
    report = fetch(f"{site.url}/post", {"WITNESS_ALLOW_PRIVATE": True})
    tls = report["hops"][0]["tls"]
    assert report["outcome"] == "fetched"
    assert tls["verified"] is False and "self-signed" in tls["error"]
    assert tls["chain"][0]["subject"] == "CN=localhost"


def test_redirects_are_followed_and_login_is_said_plainly(site):
    report = fetch(f"{site.url}/old", config_for(site))
    assert [hop["status"] for hop in report["hops"]] == [301, 200] and report["outcome"] == "fetched"
    report = fetch(f"{site.url}/members", config_for(site))
    assert report["outcome"] == "login_required"
    assert report["final_url"] == f"{site.url}/login?next=/members"


def test_private_addresses_are_refused_by_default(site):
    report = fetch(f"{site.url}/post", {})
    assert report["outcome"] == "blocked" and report["hops"] == []


def test_offline_and_unreachable_are_said_plainly():
    assert fetch("https://testimone-witness-test.invalid/x", {})["outcome"] == "offline"
    assert fetch("http://127.0.0.1:9/x", {"WITNESS_ALLOW_PRIVATE": True})["outcome"] == "unreachable"


def test_text_present_ignores_markup_entities_and_spacing():
    assert text_present(COMMENT, PAGE.encode(), "utf-8") is True
    assert text_present(COMMENT, b"<p>altro</p>", "utf-8") is False
    assert text_present(None, b"", "utf-8") is None


@pytest.fixture
def witness_app(tmp_path, site):
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TOKEN": TOKEN, "TESTING": True, "TSA_URL": "",
                      "WITNESS": True, **config_for(site)})
    yield app
    close(app)


def post(app, path, **kwargs):
    return app.test_client().post(path, base_url="http://127.0.0.1:8765",
                                  headers={"Authorization": f"Bearer {TOKEN}"}, **kwargs)


def test_capture_is_witnessed_then_recheck_sees_removal(witness_app, site):
    permalink = f"{site.url}/post?comment_id=1772521800368774"
    answer = post(witness_app, "/api/captures", json=make_capture(permalink=permalink))
    assert answer.status_code == 201
    case_id = answer.json["id"]
    store = witness_app.extensions["testimone.store"]
    assert wait_for(lambda: store.get(case_id).get("witness"))
    first = store.get(case_id)["witness"][0]
    assert first["reason"] == "capture" and first["outcome"] == "fetched" and first["text_present"] is True
    stored = json.loads(store.read_evidence(case_id, first["file"]))
    assert stored["url"] == permalink and stored["hops"][0]["tls"]["verified"] is True

    site.pages["/post"] = (200, "<html><body>Questo commento non è più disponibile.</body></html>")
    answer = post(witness_app, f"/api/captures/{case_id}/recheck")
    assert answer.status_code == 200
    assert answer.json["outcome"] == "fetched" and answer.json["text_present"] is False
    assert answer.json["file"] == "witness-2.json"
    record = store.get(case_id)
    assert [w["text_present"] for w in record["witness"]] == [True, False]
    assert [e["event"] for e in record["history"]][-1] == "witness.recheck"
    assert witness_app.test_client().get("/api/verify", base_url="http://127.0.0.1:8765",
                                         headers={"Authorization": f"Bearer {TOKEN}"}).json["ok"]


def test_recheck_of_login_page_says_so(witness_app, site):
    answer = post(witness_app, "/api/captures", json=make_capture(permalink=f"{site.url}/members"))
    case_id = answer.json["id"]
    worker = witness_app.extensions["testimone.evidence_worker"]
    assert wait_for(lambda: not worker.queue.unfinished_tasks)
    answer = post(witness_app, f"/api/captures/{case_id}/recheck")
    assert answer.json["outcome"] == "login_required" and answer.json["text_present"] is None
    assert "login" in answer.json["message"]["en"] and "accesso" in answer.json["message"]["it"]


def test_recheck_errors(witness_app):
    assert post(witness_app, "/api/captures/20260101-000000-abcdef/recheck").status_code == 404
    answer = witness_app.test_client().post("/api/captures/x/recheck", base_url="http://127.0.0.1:8765")
    assert answer.status_code == 401
