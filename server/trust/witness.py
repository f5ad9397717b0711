"""The second witness: the server fetches the case's permalink itself, independently of the browser.

It records what a member of the public would get: the resolved IP addresses, every HTTP hop (status,
headers), the TLS certificate chain (subject, issuer, validity, SHA-256 fingerprint), and the
SHA-256 of the body. It says plainly when the page needs a login (as Facebook mostly does) or when
this computer is offline. A recheck later records whether the comment text is still there.

Only the case's stored permalink (else its page URL) is ever fetched, and only at public addresses:
WITNESS_ALLOW_PRIVATE (tests only) allows loopback and private networks; WITNESS_CA_FILE adds a
trusted CA. Each report is stored as evidence (witness-N.json) and summarised in record["witness"].
"""
import hashlib
import html
import http.client
import ipaddress
import re
import socket
import ssl
import threading
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from cryptography import x509

from .. import i18n
from ..domain.integrity import canonical_json

TIMEOUT = 15
MAX_BODY = 20 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "Mozilla/5.0 (compatible; Testimone second witness)"
_naming = threading.Lock()
LOGIN_MARKERS = (re.compile(rb"<input[^>]+type=[\"']?password", re.I), re.compile(rb"id=[\"']login_form", re.I))

# The outcomes of a fetch (the API schema lists them); each one's message is "outcome.<outcome>" in the
# catalogues' "witness" context.
OUTCOMES = ("fetched", "login_required", "offline", "unreachable", "blocked", "error")


class WitnessStop(Exception):
    def __init__(self, outcome: str, detail: str):
        super().__init__(detail)
        self.outcome, self.detail = outcome, detail


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _describe(der: bytes) -> dict:
    cert = x509.load_der_x509_certificate(der)
    return {"subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
            "not_before": cert.not_valid_before_utc.isoformat(), "not_after": cert.not_valid_after_utc.isoformat(),
            "serial": format(cert.serial_number, "x"), "sha256": hashlib.sha256(der).hexdigest()}


def _chain(sock: ssl.SSLSocket, verified: bool) -> list[dict]:
    # Python 3.13 has SSLSocket.get_verified_chain(); 3.11/3.12 keep it on the internal object.
    obj = getattr(sock, "_sslobj", None)
    getter = getattr(obj, "get_verified_chain" if verified else "get_unverified_chain", None)
    if getter is not None:
        return [_describe(cert.public_bytes(ssl._ssl.ENCODING_DER)) for cert in getter() or []]
    leaf = sock.getpeercert(binary_form=True)
    return [_describe(leaf)] if leaf else []


def _resolve(host: str, port: int, allow_private: bool) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise WitnessStop("offline", f"{host}: {error}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))  # the system's order of preference
    if not allow_private and not all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
        raise WitnessStop("blocked", f"{host} resolves to {', '.join(addresses)}")
    return addresses


def _connect(url: str, config: dict) -> tuple[http.client.HTTPConnection, dict]:
    """A connection to a resolved address, recorded as the one used (no second lookup), TLS recorded."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WitnessStop("blocked", f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(parts.hostname, port, bool(config.get("WITNESS_ALLOW_PRIVATE")))
    hop = {"url": url, "addresses": addresses}
    errors = []
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=TIMEOUT)
            hop["connected_to"] = address
            break
        except OSError as error:
            errors.append(f"{address}:{port}: {error}")
    else:
        raise WitnessStop("unreachable", "; ".join(errors))
    if parts.scheme == "https":
        sock, hop["tls"] = _tls(sock, parts.hostname, hop["connected_to"], port, config)
    connection = http.client.HTTPConnection(parts.hostname, port, timeout=TIMEOUT)
    connection.sock = sock
    return connection, hop


def _tls(sock, hostname, address, port, config):
    context = ssl.create_default_context(cafile=config.get("WITNESS_CA_FILE") or None)
    try:
        tls_sock = context.wrap_socket(sock, server_hostname=hostname)
        return tls_sock, {"verified": True, "error": None, "version": tls_sock.version(),
                          "chain": _chain(tls_sock, verified=True)}
    except ssl.SSLCertVerificationError as error:
        # Not trusted here: record why, then look again without checking, to record what was offered.
        sock.close()
        failure = error.verify_message or str(error)
    except (ssl.SSLError, OSError) as error:
        sock.close()
        raise WitnessStop("unreachable", f"TLS with {hostname}: {error}") from None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        tls_sock = context.wrap_socket(socket.create_connection((address, port), timeout=TIMEOUT),
                                       server_hostname=hostname)
    except OSError as error:
        raise WitnessStop("unreachable", f"TLS with {hostname}: {error}") from None
    return tls_sock, {"verified": False, "error": failure, "version": tls_sock.version(),
                      "chain": _chain(tls_sock, verified=False)}


def fetch(url: str, config: dict) -> dict:
    """Fetch `url` following redirects; the report (without text_present)."""
    report = {"url": url, "at": _now(), "hops": []}
    try:
        for _ in range(MAX_REDIRECTS + 1):
            connection, hop = _connect(url, config)
            report["hops"].append(hop)
            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                connection.request("GET", target, headers={
                    "User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.8",
                    "Accept-Language": "it-IT,it;q=0.9,en;q=0.8"})
                answer = connection.getresponse()
                hop["status"] = answer.status
                hop["headers"] = [[name, value] for name, value in answer.getheaders()]
                location = answer.getheader("Location")
                if answer.status in (301, 302, 303, 307, 308) and location:
                    url = urljoin(url, location)
                    hop["location"] = url
                    continue
                body = answer.read(MAX_BODY + 1)
            except (OSError, http.client.HTTPException) as error:
                raise WitnessStop("unreachable", f"{url}: {error}") from None
            finally:
                connection.close()
            report.update(final_url=url, status=answer.status, body_sha256=hashlib.sha256(body).hexdigest(),
                          body_bytes=min(len(body), MAX_BODY), body_truncated=len(body) > MAX_BODY)
            report["outcome"] = "login_required" if _needs_login(url, answer.status, body) else "fetched"
            report["_body"] = body
            report["_charset"] = answer.headers.get_content_charset() or "utf-8"
            return report
        raise WitnessStop("error", f"more than {MAX_REDIRECTS} redirects")
    except WitnessStop as stop:
        report.update(outcome=stop.outcome, detail=stop.detail)
        return report


def _needs_login(url: str, status: int, body: bytes) -> bool:
    path = urlsplit(url).path.lower()
    if status in (401, 407) or "/login" in path or "/checkpoint" in path:
        return True
    return any(marker.search(body[:500_000]) for marker in LOGIN_MARKERS)


def _plain(text: str) -> str:
    """Text without markup, entities or any white space: pages wrap and tag a comment in many ways
    (`un <b>incapace</b>.`), so only the sequence of visible characters is compared."""
    text = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", text, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return "".join(text.split()).casefold()


def text_present(comment: str | None, body: bytes, charset: str) -> bool | None:
    """Is the comment's text on the page? None when there is nothing to look for."""
    if not comment or not comment.strip():
        return None
    try:
        page = body.decode(charset, errors="replace")
    except LookupError:
        page = body.decode("utf-8", errors="replace")
    return _plain(comment) in _plain(page)


def witness(record: dict, config: dict, reason: str) -> dict:
    """Fetch the case's permalink now; the full report."""
    url = record.get("permalink") or record.get("page_url")
    report = {"case": record["id"], "reason": reason, **fetch(url, config)} if url else {
        "case": record["id"], "reason": reason, "at": _now(), "url": None, "outcome": "error",
        "detail": "the case has no URL", "hops": []}
    body, charset = report.pop("_body", None), report.pop("_charset", "utf-8")
    report["text_present"] = text_present(record.get("text"), body, charset) \
        if report["outcome"] == "fetched" else None
    report["message"] = i18n.both("witness", f"outcome.{report['outcome']}")
    return report


def summary(report: dict, name: str) -> dict:
    hops = report.get("hops") or [{}]
    return {"at": report["at"], "reason": report["reason"], "outcome": report["outcome"],
            "status": report.get("status"), "addresses": hops[0].get("addresses", []),
            "text_present": report["text_present"], "body_sha256": report.get("body_sha256"),
            "tls_verified": (hops[0].get("tls") or {}).get("verified"), "file": name,
            "message": report["message"]}


def witness_case(store, case_id: str, config: dict, reason: str = "recheck") -> dict | None:
    """Witness one case and store the report as evidence; returns the summary (None: no such case)."""
    record = store.get(case_id)
    if record is None:
        return None
    report = witness(record, config, reason)
    with _naming:  # the background worker and a recheck request may finish at the same moment
        number = 1
        while store.case_file_exists(case_id, f"witness-{number}.json"):
            number += 1
        name = f"witness-{number}.json"
        entry = store.add_evidence(case_id, name, canonical_json(report), "application/json")
    result = {**summary(report, name), "sha256": entry["sha256"]}

    def remember(rec):
        rec.setdefault("witness", []).append(result)
    store.update(case_id, remember, f"witness.{reason}", outcome=report["outcome"], file=name,
                 text_present=report["text_present"])
    return result
