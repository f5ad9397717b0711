"""Hashes, the canonical form of a record, and the hash-chained audit log (pure functions, no I/O)."""
import hashlib
import json

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8: the same record always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def audit_line(prev_hash: str, seq: int, at: str, event: str, case_id: str | None, details: dict) -> bytes:
    """One audit event as a line (without the newline); it carries the hash of the line before it."""
    entry = {"seq": seq, "at": at, "event": event, "case": case_id, "details": details, "prev": prev_hash}
    return canonical_json(entry)


def check_audit_chain(lines: list[bytes], prev: str = EMPTY_SHA256, first: int = 1) -> list[str]:
    """Problems found walking the chain: each names the line (1-based) that fails. `prev` and `first`: the
    hash of the line before `lines` and the number of the first one (to walk only the newest lines)."""
    problems = []
    for number, line in enumerate(lines, start=first):
        try:
            entry = json.loads(line)
        except ValueError:
            problems.append(f"audit.log line {number}: not valid JSON")
            prev = sha256_hex(line)
            continue
        if entry.get("prev") != prev:
            problems.append(f"audit.log line {number}: chain broken (line edited, removed or inserted before it)")
        if entry.get("seq") != number:
            problems.append(f"audit.log line {number}: sequence number {entry.get('seq')} out of place")
        prev = sha256_hex(line)
    return problems
