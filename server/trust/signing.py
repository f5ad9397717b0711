"""PAdES signatures on every PDF: a per-install key and a self-signed certificate (pyHanko).

The key is created once, in <data dir>/signing/key.pem (readable by this user only); the certificate
(cert.pem) names the business from the "profile" setting and is re-issued, with the same key, when
that name changes. With a TSA configured (TSA_URL) the signature carries an RFC 3161 timestamp
(PAdES-B-T); when the TSA cannot be reached the PDF is still signed, without it (PAdES-B-B).

    from server.trust.signing import sign_pdf
    signed = sign_pdf(pdf_bytes)        # inside a request or app context
"""
import hashlib
import io
import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from .. import store as data_store

log = logging.getLogger(__name__)
KEY, CERT = "key.pem", "cert.pem"  # in <data dir>/signing/, through server/store.py
DEFAULT_NAME = "Testimone"
VALIDITY_DAYS = 10 * 365
TSA_TIMEOUT = 10
TSA_BACKOFF = 300  # seconds without asking a TSA that just failed (an offline machine must not wait each time)


def business_name(store) -> str:
    """The certificate subject: the profile's business_name (server/domain/profile.py), else "Testimone"."""
    profile = store.get_setting("profile")
    name = profile.get("business_name") if isinstance(profile, dict) else None
    return str(name).strip()[:64] or DEFAULT_NAME if name else DEFAULT_NAME


def _common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else None


_keys: dict[str, object] = {}
_keys_lock = threading.Lock()


def _private_key(pem: bytes):
    """The parsed key, once per key (parsing an RSA-3072 key costs ~0.1 s: every bundle signs its manifest)."""
    digest = hashlib.sha256(pem).hexdigest()
    with _keys_lock:
        if digest not in _keys:
            _keys[digest] = serialization.load_pem_private_key(pem, password=None)
        return _keys[digest]


def ensure_identity(data_dir, name: str) -> tuple[Path, Path]:
    """The key and certificate files, created (or the certificate re-issued for a new name) as needed."""
    key_path, cert_path = data_store.signing_path(data_dir, KEY), data_store.signing_path(data_dir, CERT)
    key_pem = data_store.read_signing_file(data_dir, KEY)
    if key_pem is not None:
        key = _private_key(key_pem)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        data_store.write_signing_file(data_dir, KEY, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    cert_pem = data_store.read_signing_file(data_dir, CERT)
    if cert_pem is not None:
        cert = x509.load_pem_x509_certificate(cert_pem)
        if _common_name(cert) == name and cert.public_key() == key.public_key():
            return key_path, cert_path
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Testimone (self-signed)")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=VALIDITY_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    data_store.write_signing_file(data_dir, CERT, cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def sign_detached(data_dir, data: bytes) -> tuple[bytes, bytes] | None:
    """A detached CMS signature of `data` by this install's key, and its certificate (PEM); None before
    the key exists. The evidence bundle signs its manifest.json with it."""
    key_pem, cert_pem = data_store.read_signing_file(data_dir, KEY), data_store.read_signing_file(data_dir, CERT)
    if key_pem is None or cert_pem is None:
        return None
    key = _private_key(key_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    signature = (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(cert, key, hashes.SHA256())
                 .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                    pkcs7.PKCS7Options.Binary]))
    return signature, cert.public_bytes(serialization.Encoding.PEM)


def _sign(pdf_bytes: bytes, signer, timestamper, reason: str) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="Testimone", md_algorithm="sha256", reason=reason,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    out = signers.PdfSigner(meta, signer=signer, timestamper=timestamper).sign_pdf(writer)
    return out.getvalue()


_stampers = {}
_tsa_down_until: dict[str, float] = {}
_identity_lock = threading.Lock()
_identities: dict[tuple[str, str], tuple[Path, Path, str | None]] = {}
_cache: "OrderedDict[tuple, bytes]" = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 32


def _stamper(url: str, credentials: dict):
    """One pyHanko timestamper per TSA for the whole process: it asks the TSA for a sample token once
    to size the signature and keeps it, so each later PDF costs one timestamp, not two."""
    from pyhanko.sign import timestamps

    key = (url, tuple(credentials.items()))
    if key not in _stampers:
        _stampers[key] = timestamps.HTTPTimeStamper(url, timeout=TSA_TIMEOUT, headers=credentials or None)
    return _stampers[key]


def _cert_sha256(data_dir) -> str | None:
    data = data_store.read_signing_file(data_dir, CERT)
    return hashlib.sha256(data).hexdigest() if data is not None else None


def sign_pdf(pdf_bytes: bytes, store=None, tsa_url: str | None = None,
             reason: str = "Documento generato da Testimone / Document generated by Testimone") -> bytes:
    """The PDF with a PAdES signature of this install (and a TSA timestamp when one answers).

    `store` and `tsa_url` default to the current app's store and TSA_URL setting. The same PDF signed
    by the same certificate is served from a small in-memory cache: downloading a document twice gives
    the same bytes and costs one timestamp, not two.
    """
    from flask import current_app

    from ..render import pool
    from .timestamps import split_credentials

    if store is None:
        store = current_app.extensions["testimone.store"]
    if tsa_url is None:
        tsa_url = current_app.config.get("TSA_URL")
    identity_key = (str(store.data_dir), business_name(store))
    with _identity_lock:  # parsing the RSA key costs ~0.1 s: do it once per name, while cert.pem is unchanged
        cached = _identities.get(identity_key)
        if cached is None or _cert_sha256(store.data_dir) != cached[2]:  # e.g. renamed A -> B -> A
            key_path, cert_path = ensure_identity(*identity_key)
            cached = _identities[identity_key] = (key_path, cert_path, _cert_sha256(store.data_dir))
    key_path, cert_path, cert_sha256 = cached
    public_url, credentials = split_credentials(tsa_url) if tsa_url else (None, {})
    cache_key = (hashlib.sha256(pdf_bytes).hexdigest(), cert_sha256, public_url, reason)
    with _cache_lock:
        if cache_key in _cache:
            _cache.move_to_end(cache_key)
            return _cache[cache_key]
    if public_url and time.monotonic() < _tsa_down_until.get(public_url, 0):
        # The TSA failed a moment ago: do not wait for it again (and do not cache: a later download tries it).
        return pool.run(sign_with_files, pdf_bytes, key_path, cert_path, None, {}, reason)[0]
    signed, tsa_error = pool.run(sign_with_files, pdf_bytes, key_path, cert_path, public_url, credentials, reason)
    if tsa_error is not None:
        log.warning("PDF signed without a timestamp: TSA %s failed: %s", public_url, tsa_error)
        _tsa_down_until[public_url] = time.monotonic() + TSA_BACKOFF
        return signed
    with _cache_lock:
        _cache[cache_key] = signed
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return signed


def sign_with_files(pdf_bytes: bytes, key_path, cert_path, public_url, credentials, reason) -> tuple[bytes, str | None]:
    """(signed PDF, the TSA's error or None): the CPU-heavy part of sign_pdf, run in a render worker
    when the server has one (server/render/pool.py)."""
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
    if public_url:
        try:
            return _sign(pdf_bytes, signer, _stamper(public_url, credentials), reason), None
        except Exception as error:  # pyHanko wraps network failures in several types; sign without it
            return _sign(pdf_bytes, signer, None, reason), str(error)
    return _sign(pdf_bytes, signer, None, reason), None


def init_app(app, explicit_config: bool = False) -> None:
    """Create the signing identity on first start (test apps create it on first use instead)."""
    if not explicit_config:
        store = app.extensions["testimone.store"]
        ensure_identity(store.data_dir, business_name(store))
