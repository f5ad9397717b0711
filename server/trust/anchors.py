"""Anchors of the audit chain: an RFC 3161 timestamp of the audit log's newest line.

Each line of audit.log carries the hash of the line before it, so a timestamp of line N fixes lines 1..N
at the TSA's time: dropping the newest lines, or rewriting them, no longer goes unnoticed. Lines written
after the last anchor are reported as "not yet anchored" (a forged line appended there with the right
`prev` cannot be told from a real one until the next anchor).

When: every ANCHOR_SECONDS (default 3600) if new events were logged (the background worker), and at
every evidence export. Kept in DATA_DIR/anchors.jsonl, one JSON line each:
    {"seq": N, "sha256": SHA-256 of audit line N, "time": the TSA's time, "tsa": its URL,
     "tsr": the TSA's answer (base64), "chain": the TSA's certificates (PEM)}
Check one offline: base64 -d the tsr, then `openssl ts -verify -data <line N> -in anchor.tsr -CAfile chain.pem`.
"""
import base64
import json

from rfc3161_client import VerificationError

from ..domain.integrity import sha256_hex
from ..store import ANCHORS
from .timestamps import _load_pem_chain, _verifier, decode_response, request_timestamp, split_credentials


def read_anchors(store) -> list[dict]:
    """Every anchor so far, from a Store or a StoreView."""
    data = store.anchors_file()
    return [json.loads(line) for line in data.split(b"\n") if line.strip()] if data else []


def anchor_now(store, tsa_url: str, ca_file: str | None = None) -> dict | None:
    """Timestamp the audit log's newest line; None when it is already anchored (or the log is empty).
    Raises TimestampError when the TSA fails."""
    seq, line = store.audit_head()
    anchors = read_anchors(store)
    if seq == 0 or (anchors and anchors[-1]["seq"] == seq):
        return None
    result = request_timestamp(line, tsa_url, ca_file)
    entry = {"seq": seq, "sha256": sha256_hex(line), "time": result["info"]["time"],
             "tsa": split_credentials(tsa_url)[0], "tsr": base64.b64encode(result["tsr"]).decode(),
             "chain": result["chain"].decode()}
    store.add_anchor(entry)
    return entry


def check_anchors(store, lines: list[bytes], first: int = 1) -> tuple[list[str], list[str]]:
    """(problems, notes): an anchor that no longer matches the log is a problem; lines after the last
    anchor are a note. `lines` are the log's from line number `first` on (an incremental verify): the anchors
    of earlier lines were checked before and are left out."""
    try:
        anchors = read_anchors(store)
    except (ValueError, KeyError) as error:
        return [f"{ANCHORS}: not valid ({error})"], []
    problems, total = [], first - 1 + len(lines)
    for number, anchor in enumerate(anchors, start=1):
        where = f"{ANCHORS} line {number}"
        seq = anchor.get("seq")
        if not isinstance(seq, int) or seq < 1:
            problems.append(f"{where}: no audit line number")
            continue
        if seq < first:
            continue
        if seq > total:
            problems.append(f"audit.log: {total} lines, but line {seq} was anchored at {anchor.get('time')} "
                            f"({where}): lines removed from the end of the log")
            continue
        line = lines[seq - first]
        if sha256_hex(line) != anchor.get("sha256"):
            problems.append(f"audit.log line {seq}: differs from the line anchored at {anchor.get('time')} ({where})")
            continue
        try:
            chain = _load_pem_chain(anchor["chain"].encode())
            _verifier(chain).verify_message(decode_response(base64.b64decode(anchor["tsr"])), line)
        except (VerificationError, ValueError, KeyError, TypeError) as error:
            problems.append(f"{where}: the timestamp does not verify against audit.log line {seq} ({error})")
    anchored = max((a["seq"] for a in anchors if isinstance(a.get("seq"), int)), default=0)
    notes = []
    if total > anchored:
        span = f"line {anchored + 1}" if anchored + 1 == total else f"lines {anchored + 1}-{total}"
        notes.append(f"audit.log {span}: not yet anchored (no trusted timestamp of the chain covers them yet) / "
                     f"non ancora ancorate a una marca temporale")
    return problems, notes
