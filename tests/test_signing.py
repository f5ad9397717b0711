"""PAdES signatures: pdfsig accepts a signed PDF and rejects it after a one-byte edit."""
import io
import stat
import subprocess
import threading

import pytest
import weasyprint
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from server.trust.signing import ensure_identity, sign_pdf
from server.store import Store
from test_timestamps import local_tsa  # noqa: F401 (fixture)


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "data")
    store.put_setting("profile", {"business_name": "Trattoria Demo"})
    yield store
    store.close()


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return weasyprint.HTML(string="<h1>Verbale di prova</h1><p>Commento inventato per il test.</p>").write_pdf()


def pdfsig(tmp_path, data: bytes, name="doc.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


def test_signed_pdf_is_valid_and_names_the_business(tmp_path, store, pdf):
    signed = sign_pdf(pdf, store=store, tsa_url="")
    report = pdfsig(tmp_path, signed)
    assert "Signature #1:" in report
    assert "Signer Certificate Common Name: Trattoria Demo" in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "ETSI.CAdES.detached" in report  # PAdES
    text = subprocess.run(["pdftotext", "-", "-"], input=signed, capture_output=True).stdout
    assert b"Verbale di prova" in text


def test_one_byte_edit_breaks_the_signature(tmp_path, store, pdf):
    signed = bytearray(sign_pdf(pdf, store=store, tsa_url=""))
    signed[300] ^= 0x01  # inside the first signed range
    report = pdfsig(tmp_path, bytes(signed))
    assert "Signature is Valid" not in report
    assert "Digest Mismatch" in report


def test_appended_bytes_are_reported(tmp_path, store, pdf):
    signed = sign_pdf(pdf, store=store, tsa_url="") + b"\n% added later\n"
    report = pdfsig(tmp_path, signed)
    assert "Total document signed" not in report


def test_identity_is_created_once_and_private(tmp_path, store):
    key, cert = ensure_identity(store.data_dir, "Trattoria Demo")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first_key, first_cert = key.read_bytes(), cert.read_bytes()
    assert ensure_identity(store.data_dir, "Trattoria Demo") == (key, cert)
    assert cert.read_bytes() == first_cert
    ensure_identity(store.data_dir, "Pizzeria Nuova")  # the business renamed: same key, new certificate
    assert key.read_bytes() == first_key
    renamed = x509.load_pem_x509_certificate(cert.read_bytes())
    assert renamed.subject.rfc4514_string().startswith("OU=Testimone (self-signed),O=Pizzeria Nuova,CN=Pizzeria Nuova")


def test_signature_embeds_the_rfc3161_timestamp(tmp_path, store, pdf, local_tsa):  # noqa: F811
    signed = sign_pdf(pdf, store=store, tsa_url=local_tsa.url)
    assert local_tsa.requests == 2  # pyHanko first asks for a sample token to size the signature
    assert "Signature is Valid" in pdfsig(tmp_path, signed)
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    unsigned = signature.signer_info["unsigned_attrs"]
    assert [attr["type"].native for attr in unsigned] == ["signature_time_stamp_token"]
    # the same PDF again: the same signed bytes, no new timestamp
    assert sign_pdf(pdf, store=store, tsa_url=local_tsa.url) == signed and local_tsa.requests == 2
    # another PDF, from another thread (each request runs in its own): one timestamp
    other = weasyprint.HTML(string="<p>Un altro documento.</p>").write_pdf()
    results = []
    worker = threading.Thread(target=lambda: results.append(sign_pdf(other, store=store, tsa_url=local_tsa.url)))
    worker.start()
    worker.join()
    assert local_tsa.requests == 3
    assert "Signature is Valid" in pdfsig(tmp_path, results[0], "second.pdf")


def test_unreachable_tsa_still_signs(tmp_path, store, pdf):
    from test_timestamps import LocalTSA

    tsa = LocalTSA(tmp_path / "tsa")  # not started: unreachable
    signed = sign_pdf(pdf, store=store, tsa_url=tsa.url)
    assert "Signature is Valid" in pdfsig(tmp_path, signed)
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    assert not signature.signer_info["unsigned_attrs"]
    tsa.start()  # back up, but it failed a moment ago: the next PDFs do not wait for it
    try:
        sign_pdf(pdf, store=store, tsa_url=tsa.url)
        assert tsa.requests == 0
    finally:
        tsa.stop()


def test_document_route_serves_a_signed_pdf(client, tmp_path):
    from conftest import make_capture

    store = client.application.extensions["testimone.store"]
    store.put_setting("profile", {"business_name": "Osteria Inventata"})
    case_id = client.post("/api/captures", json=make_capture()).json["id"]
    first = client.get(f"/api/captures/{case_id}/document.pdf")
    assert first.status_code == 200
    report = pdfsig(tmp_path, first.data)
    assert "Signer Certificate Common Name: Osteria Inventata" in report and "Signature is Valid" in report
    assert client.get(f"/api/captures/{case_id}/document.pdf").data == first.data  # signed once, cached


def test_renamed_business_signs_with_the_current_name(tmp_path, store, pdf):
    for name in ("Trattoria Demo", "Pizzeria Nuova", "Trattoria Demo"):
        store.put_setting("profile", {"business_name": name})
        assert f"Signer Certificate Common Name: {name}" in pdfsig(tmp_path, sign_pdf(pdf, store=store, tsa_url=""))
