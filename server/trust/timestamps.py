"""RFC 3161 trusted timestamps: ask a TSA, check its answer, check a stored timestamp.

What is timestamped: capture.json, the case's manifest (the canonical record, which lists the SHA-256
of every evidence file). The request (.tsq), the TSA's response (.tsr) and the TSA certificates
(.pem) are stored in the case folder as evidence, so that anyone can check them offline:
    openssl ts -verify -data capture.json -in timestamp.tsr -CAfile timestamp-chain.pem

When and for which case this runs: server/services/background.py. ASN.1 is handled by rfc3161-client.
"""
import base64
import urllib.request
from datetime import timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

DEFAULT_TSA_URL = "https://freetsa.org/tsr"
MANIFEST = "capture.json"
TSQ, TSR, CHAIN = "timestamp.tsq", "timestamp.tsr", "timestamp-chain.pem"
TIMEOUT = 20
MAX_RESPONSE = 1024 * 1024


class TimestampError(Exception):
    """The TSA could not be reached, or its answer is not a valid timestamp of our data."""


# -- one timestamp ------------------------------------------------------------------------------

def _load_pem_chain(data: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else []


def _verifier(certificates: list[x509.Certificate]):
    """Trust anchors are the self-signed certificates of the stored chain; with none, the chain itself
    (the TSA's own certificate): this checks the signature, the trust decision is the reader's."""
    roots = [c for c in certificates if c.issuer == c.subject] or certificates
    builder = VerifierBuilder()
    for cert in roots:
        builder = builder.add_root_certificate(cert)
    for cert in certificates:
        if cert not in roots:
            builder = builder.add_intermediate_certificate(cert)
    return builder.build()


def decode_response(tsr: bytes):
    """Parse a TSA response. rfc3161-client insists on DER, where the certificates SET OF is sorted;
    `openssl ts -reply` (used by many TSAs) sends them signer first. The certificates are outside
    the signed content, so reordering them with asn1crypto changes nothing that is verified; the
    stored .tsr stays byte for byte what the TSA sent."""
    try:
        return decode_timestamp_response(tsr)
    except ValueError as strict_error:
        try:
            response = tsp.TimeStampResp.load(tsr)
            signed = response["time_stamp_token"]["content"]
            signed["certificates"] = sorted(signed["certificates"], key=lambda cert: cert.dump())
            return decode_timestamp_response(response.dump(force=True))
        except Exception:
            raise strict_error from None


def split_credentials(url: str) -> tuple[str, dict]:
    """A TSA URL without its user:password@ (qualified TSAs need an account), and the header that
    carries them instead. Only the URL without credentials is ever stored, logged or exported."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, {}
    host = parts.hostname if ":" not in (parts.hostname or "") else f"[{parts.hostname}]"
    public = urlunsplit(parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")))
    secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return public, {"Authorization": "Basic " + base64.b64encode(secret).decode()}


def request_timestamp(data: bytes, tsa_url: str, ca_file: str | None = None, timeout: float = TIMEOUT) -> dict:
    """Ask the TSA to timestamp SHA-256(data); returns {"tsq","tsr","chain" (bytes), "info" (dict)}."""
    tsa_url, credentials = split_credentials(tsa_url)
    request = (TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256)
               .nonce(nonce=True).cert_request(cert_request=True).build())
    tsq = request.as_bytes()
    http = urllib.request.Request(tsa_url, data=tsq, method="POST",
                                  headers={"Content-Type": "application/timestamp-query",
                                           "Accept": "application/timestamp-reply", **credentials})
    try:
        with urllib.request.urlopen(http, timeout=timeout) as answer:
            tsr = answer.read(MAX_RESPONSE + 1)
    except (OSError, ValueError) as error:  # URLError, HTTPError, timeouts are OSErrors
        raise TimestampError(f"TSA {tsa_url} unreachable: {error}") from error
    if len(tsr) > MAX_RESPONSE:
        raise TimestampError(f"TSA {tsa_url} answered more than {MAX_RESPONSE} bytes")
    try:
        response = decode_response(tsr)
    except ValueError as error:
        raise TimestampError(f"TSA {tsa_url} answered something that is not a timestamp: {error}") from error
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"TSA {tsa_url} refused: status {response.status} {response.status_string}")
    certificates = [x509.load_der_x509_certificate(der) for der in response.signed_data.certificates]
    if ca_file:
        extra = _load_pem_chain(Path(ca_file).expanduser().read_bytes())
        certificates += [cert for cert in extra if cert not in certificates]
    try:
        _verifier(certificates).verify_message(response, data)
    except VerificationError as error:
        raise TimestampError(f"TSA {tsa_url} answered an invalid timestamp: {error}") from error
    if response.tst_info.nonce != request.nonce:
        raise TimestampError(f"TSA {tsa_url} answered another request (nonce mismatch)")
    chain = b"".join(cert.public_bytes(Encoding.PEM) for cert in certificates)
    return {"tsq": tsq, "tsr": tsr, "chain": chain, "info": token_info(response)}


def token_info(response) -> dict:
    info = response.tst_info
    signer = next(iter(response.signed_data.signer_infos))
    certificates = [x509.load_der_x509_certificate(der) for der in response.signed_data.certificates]
    tsa = next((cert.subject.rfc4514_string() for cert in certificates
                if cert.issuer == signer.issuer and cert.serial_number == signer.serial_number),
               f"issued by {signer.issuer.rfc4514_string()}")
    return {"time": info.gen_time.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "serial": str(info.serial_number), "policy": info.policy.dotted_string,
            "imprint_sha256": info.message_imprint.message.hex(), "tsa": tsa}


def check_case_timestamp(read, record: dict) -> list[str]:
    """Problems with a stamped case's timestamp (the files' own hashes are checked with the evidence).
    `read(name)`: the bytes of a file of the case folder, None when it is not there (store.CaseFiles)."""
    stamp = record.get("timestamp") or {}
    if stamp.get("status") != "stamped":
        return []
    names = stamp["files"]
    prefix = f"cases/{record['id']}"
    tsr, chain, data = read(names["tsr"]), read(names["chain"]), read(MANIFEST)
    if tsr is None or chain is None or data is None:
        return []  # already reported as a missing (or erased) file
    chain = _load_pem_chain(chain)
    try:
        _verifier(chain).verify_message(decode_response(tsr), data)
    except (VerificationError, ValueError) as error:
        return [f"{prefix}/{names['tsr']}: the timestamp does not verify against {MANIFEST} ({error})"]
    return []
