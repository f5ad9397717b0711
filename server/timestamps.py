"""RFC 3161 trusted timestamps, clock honesty, and the background worker that runs them after a capture.

What is timestamped: capture.json, the case's manifest (the canonical record, which lists the SHA-256
of every evidence file). The request (.tsq), the TSA's response (.tsr) and the TSA certificates
(.pem) are stored in the case folder as evidence, so that anyone can check them offline:
    openssl ts -verify -data capture.json -in timestamp.tsr -CAfile timestamp-chain.pem

Settings: TESTIMONE_TSA_URL (default https://freetsa.org/tsr, empty = off), TESTIMONE_TSA_CA_FILE
(PEM with the TSA's CA chain, stored with each timestamp), TESTIMONE_TSA_RETRY_SECONDS (300),
TESTIMONE_NTP_SERVER (empty = no NTP measurement). ASN.1 is handled by rfc3161-client.
"""
import base64
import logging
import queue
import socket
import struct
import threading
import time
import urllib.request
from datetime import datetime, timezone
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

log = logging.getLogger(__name__)


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


def check_case_timestamp(folder: Path, record: dict) -> list[str]:
    """Problems with a stamped case's timestamp (the files' own hashes are checked with the evidence)."""
    stamp = record.get("timestamp") or {}
    if stamp.get("status") != "stamped":
        return []
    names = stamp["files"]
    prefix = f"cases/{record['id']}"
    try:
        tsr = (folder / names["tsr"]).read_bytes()
        chain = _load_pem_chain((folder / names["chain"]).read_bytes())
        data = (folder / MANIFEST).read_bytes()
    except FileNotFoundError:
        return []  # already reported as a missing (or erased) file
    try:
        _verifier(chain).verify_message(decode_response(tsr), data)
    except (VerificationError, ValueError) as error:
        return [f"{prefix}/{names['tsr']}: the timestamp does not verify against {MANIFEST} ({error})"]
    return []


# -- clock honesty -------------------------------------------------------------------------------

NTP_EPOCH = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def ntp_offset(server: str, timeout: float = 3.0) -> float:
    """Offset of this computer's clock from an NTP server ("host" or "host:port"), in seconds (SNTP,
    RFC 4330): positive when the local clock is behind. Raises OSError when the server does not answer."""
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "123")
    packet = b"\x23" + 47 * b"\0"  # version 4, mode 3 (client)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        t1 = time.time()
        sock.sendto(packet, (host, int(port)))
        data, _ = sock.recvfrom(512)
        t4 = time.time()
    if len(data) < 48:
        raise OSError(f"short NTP answer from {server}")

    def stamp(offset):
        seconds, fraction = struct.unpack("!II", data[offset:offset + 8])
        return seconds - NTP_EPOCH + fraction / 2**32

    t2, t3 = stamp(32), stamp(40)
    return ((t2 - t1) + (t3 - t4)) / 2


def _parse_time(text) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def clock_report(record: dict, ntp: dict | None = None) -> dict:
    """Server clock, browser clock and their difference (server minus browser, in seconds)."""
    server = record.get("captured_at")
    client = (record.get("context") or {}).get("captured_at_client")
    a, b = _parse_time(server), _parse_time(client)
    difference = round((a - b).total_seconds(), 3) if a and b else None
    return {"server": server, "client": client, "difference_seconds": difference,
            "timezone": (record.get("context") or {}).get("timezone"), "ntp": ntp}


def measure_ntp(server: str | None) -> dict | None:
    if not server:
        return None
    at = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    try:
        return {"server": server, "offset_seconds": round(ntp_offset(server), 3), "measured_at": at}
    except (OSError, ValueError) as error:
        return {"server": server, "offset_seconds": None, "measured_at": at, "error": str(error)}


# -- in a case ------------------------------------------------------------------------------------

def _free_name(store, case_id: str, name: str) -> str:
    """`name`, or name-2, name-3... when an interrupted earlier attempt left a file with that name."""
    stem, dot, ext = name.partition(".")
    folder = store.data_dir / "cases" / case_id
    candidate, n = name, 1
    while (folder / candidate).exists():
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    return candidate


def stamp_case(store, case_id: str, tsa_url: str, ca_file: str | None = None) -> str:
    """Timestamp one case now; on failure mark it pending. Returns "stamped", "pending" (the TSA
    failed) or "skipped" (no such case, or its capture.json was erased)."""
    public_url = split_credentials(tsa_url)[0]
    record = store.get(case_id)
    if record is None:
        return "skipped"
    if (record.get("timestamp") or {}).get("status") == "stamped":
        return "stamped"
    try:
        data = store.read_evidence(case_id, MANIFEST)
    except FileNotFoundError:
        return "skipped"  # erased: nothing left to timestamp
    try:
        result = request_timestamp(data, tsa_url, ca_file)
    except TimestampError as error:
        log.warning("timestamp of case %s pending: %s", case_id, error)
        if (record.get("timestamp") or {}).get("status") != "pending":
            def pending(rec):
                rec["timestamp"] = {"status": "pending", "url": public_url, "since": record["captured_at"],
                                    "last_error": str(error)[:300]}
            store.update(case_id, pending, "timestamp.pending", tsa=public_url)
        return "pending"
    files = {}
    for key, name, media_type in (("tsq", TSQ, "application/timestamp-query"),
                                  ("tsr", TSR, "application/timestamp-reply"),
                                  ("chain", CHAIN, "application/x-pem-file")):
        files[key] = _free_name(store, case_id, name)
        store.add_evidence(case_id, files[key], result[key], media_type)
    info = {**result["info"], "url": public_url}

    def stamped(rec):
        rec["timestamp"] = {"status": "stamped", "files": files, **info}
    store.update(case_id, stamped, "timestamp.stamped", tsa=public_url, time=info["time"],
                 imprint_sha256=info["imprint_sha256"])
    return "stamped"


def pending_cases(store) -> list[str]:
    """Cases still waiting for a timestamp: marked pending, or never tried (the server stopped first)."""
    records, _ = store.list(limit=10**9)
    return [r["id"] for r in records
            if (r.get("timestamp") or {}).get("status") != "stamped" and _has_manifest(store, r["id"])]


def _has_manifest(store, case_id: str) -> bool:
    return (store.data_dir / "cases" / case_id / MANIFEST).exists()


def record_clock(store, case_id: str, ntp_server: str | None) -> None:
    record = store.get(case_id)
    if record is None or "clock" in record:
        return
    report = clock_report(record, measure_ntp(ntp_server))
    store.update(case_id, lambda rec: rec.__setitem__("clock", report), "clock.recorded",
                 difference_seconds=report["difference_seconds"],
                 ntp_offset_seconds=(report["ntp"] or {}).get("offset_seconds"))


# -- background worker ------------------------------------------------------------------------------

class EvidenceWorker:
    """One thread per app: after each capture, the timestamp (first: it should be as close to the
    capture as possible), the clock record and the second witness; every `retry` seconds, the
    timestamps still pending. The 201 never waits for any of it."""

    def __init__(self, app):
        self.store = app.extensions["testimone.store"]
        self.config = app.config
        self.queue = queue.Queue()
        self.pending = set()  # cases whose timestamp failed; filled from the records at start
        self.thread = threading.Thread(target=self._run, name="testimone-evidence", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self, timeout: float = 30):
        self.queue.put(None)
        self.thread.join(timeout)

    def on_capture(self, record: dict) -> dict:
        self.queue.put(record["id"])
        return record

    def idle(self, timeout: float = 30) -> bool:
        """Wait until every queued capture has been handled (tests, orderly shutdown)."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.queue.unfinished_tasks

    def _run(self):
        retry = float(self.config.get("TSA_RETRY_SECONDS", 300))
        if self.config.get("TSA_URL"):
            self.pending.update(pending_cases(self.store))  # also cases the server never got round to
        next_retry = time.monotonic()
        while True:
            if time.monotonic() >= next_retry:  # also under a steady stream of captures
                self.retry_pending()
                next_retry = time.monotonic() + retry
            try:
                case_id = self.queue.get(timeout=max(0.0, next_retry - time.monotonic()))
            except queue.Empty:
                continue
            try:
                if case_id is None:
                    return
                self.handle(case_id)
            except Exception:  # a failed job must not kill the worker; a pending timestamp is retried
                log.exception("background evidence work on case %s failed", case_id)
            finally:
                self.queue.task_done()

    def _stamp(self, case_id: str) -> bool:
        """True unless the TSA failed (the case then stays pending)."""
        failed = stamp_case(self.store, case_id, self.config["TSA_URL"], self.config.get("TSA_CA_FILE")) == "pending"
        (self.pending.add if failed else self.pending.discard)(case_id)
        return not failed

    def handle(self, case_id: str):
        if self.config.get("TSA_URL"):
            self._stamp(case_id)
        record_clock(self.store, case_id, self.config.get("NTP_SERVER"))
        if self.config.get("WITNESS"):
            from .witness import witness_case

            witness_case(self.store, case_id, self.config, reason="capture")

    def retry_pending(self):
        for case_id in sorted(self.pending):
            try:
                if not self._stamp(case_id):
                    return  # the TSA is still down: no point trying the others now
            except Exception:
                log.exception("timestamp retry of case %s failed", case_id)


def init_app(app, explicit_config: bool = False) -> None:
    """Defaults, and the worker. An app built from an explicit test config does no network work unless
    that config asks for it (TSA_URL, WITNESS, NTP_SERVER), so test suites never reach the internet."""
    network_default = not explicit_config
    app.config.setdefault("TSA_URL", DEFAULT_TSA_URL if network_default else "")
    app.config.setdefault("WITNESS", network_default)
    app.config.setdefault("NTP_SERVER", "")
    app.config.setdefault("TSA_RETRY_SECONDS", 300)
    if isinstance(app.config["WITNESS"], str):  # from the environment: TESTIMONE_WITNESS=0 turns it off
        app.config["WITNESS"] = app.config["WITNESS"].strip().lower() not in ("", "0", "false", "no", "off")
    if not app.config.get("BACKGROUND", True):  # commands that do the work in the foreground
        return
    if not (app.config["TSA_URL"] or app.config["WITNESS"] or app.config["NTP_SERVER"]):
        return
    worker = EvidenceWorker(app)
    app.extensions["testimone.evidence_worker"] = worker
    app.extensions.setdefault("testimone.on_capture", []).append(worker.on_capture)
    worker.start()
