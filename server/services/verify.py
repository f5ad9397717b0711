"""Verification of a data directory: recompute every stored hash and walk the audit chain.

It reads through a StoreView and never opens a Store, so it works while the server runs (the store
holds an exclusive lock on the directory) and cannot change anything.

Checks, each failure naming the file or the audit line:
- capture.json of every case hashes to the record's `sha256`;
- every evidence file exists and hashes to the SHA-256 in the record, and the files listed in
  capture.json (the canonical record as captured) agree with the record and with the disk;
- audit.log: the hash chain (server.domain.integrity.check_audit_chain), a torn last line, and every event in
  a case's history is present in the log (a truncated log loses the latest ones);
- each case's RFC 3161 timestamp, when there is one (server.trust.timestamps.check_case_timestamp).
Erased files (consent withdrawn) are expected to be missing when the case history says so.
"""
import json
from collections import Counter
from pathlib import Path

from ..domain.integrity import check_audit_chain, sha256_hex
from ..store import StoreView


def erased_names(record: dict) -> set:
    """Files an erasure deleted on purpose (Store.erase callers pass `erased=[names]`)."""
    names = set()
    for event in record.get("history", []):
        if isinstance(event.get("erased"), list):
            names.update(event["erased"])
    return names


def check_case(data_dir: Path, record: dict) -> list[str]:
    case_id = record["id"]
    folder = data_dir / "cases" / case_id
    erased = erased_names(record)
    problems = []

    def hash_of(name: str) -> str | None:
        path = folder / name
        if not path.is_file():
            if name not in erased:
                problems.append(f"cases/{case_id}/{name}: missing")
            return None
        return sha256_hex(path.read_bytes())

    capture_hash = hash_of("capture.json")
    canonical = None
    if capture_hash is not None:
        if capture_hash != record.get("sha256"):
            problems.append(f"cases/{case_id}/capture.json: SHA-256 {capture_hash} differs from the "
                            f"record's {record.get('sha256')} (capture.json modified)")
        try:
            canonical = json.loads((folder / "capture.json").read_bytes())
        except ValueError:
            problems.append(f"cases/{case_id}/capture.json: not valid JSON")

    for entry in record.get("evidence", []):
        actual = hash_of(entry["name"])
        if actual is not None and actual != entry["sha256"]:
            problems.append(f"cases/{case_id}/{entry['name']}: SHA-256 {actual} differs from the "
                            f"recorded {entry['sha256']} (file modified)")

    if isinstance(canonical, dict):
        recorded = {entry["name"]: entry["sha256"] for entry in record.get("evidence", [])}
        for entry in canonical.get("evidence", []):
            if entry.get("name") in erased:
                continue
            if recorded.get(entry.get("name")) != entry.get("sha256"):
                problems.append(f"cases/{case_id}/{entry.get('name')}: capture.json lists SHA-256 "
                                f"{entry.get('sha256')}, the record {recorded.get(entry.get('name'))}")

    from ..trust.timestamps import check_case_timestamp

    problems.extend(check_case_timestamp(folder, record))
    return problems


def _audit_lines(data_dir: Path) -> tuple[list[bytes], list[str]]:
    path = data_dir / "audit.log"
    if not path.exists():
        return [], ["audit.log: missing"]
    lines = path.read_bytes().split(b"\n")
    last = lines.pop()
    problems = []
    if last:
        problems.append(f"audit.log line {len(lines) + 1}: incomplete line (file truncated or cut)")
    return lines, problems


def check_history_in_audit(records: dict, lines: list[bytes]) -> list[str]:
    """Every event of every case history must be in the log: a truncated log loses the newest events.

    Counted per (case, event): a history entry's time may differ from its log line's by milliseconds.
    """
    logged = Counter()
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            logged[(entry.get("case"), entry.get("event"))] += 1
    problems = []
    for case_id, record in sorted(records.items()):
        expected = Counter((case_id, event.get("event")) for event in record.get("history", []))
        for (_, event), count in sorted(expected.items()):
            if logged[(case_id, event)] < count:
                problems.append(f"audit.log: {count - logged[(case_id, event)]} event(s) {event} of case {case_id} "
                                "missing (log truncated or lines removed)")
    return problems


def verify(data_dir, case_id: str | None = None) -> dict:
    """The full report: {"ok", "checked": {...}, "problems": [...], "cases": {id: [problems]}}."""
    data_dir = Path(data_dir)
    records = StoreView(data_dir).records()
    if case_id is not None:
        if case_id not in records:
            return {"ok": False, "checked": {"cases": 0, "files": 0, "audit_lines": 0},
                    "problems": [f"case {case_id}: not found"], "cases": {}}
        selected = {case_id: records[case_id]}
    else:
        selected = records
    cases = {cid: check_case(data_dir, record) for cid, record in sorted(selected.items())}
    lines, problems = _audit_lines(data_dir)
    problems = check_audit_chain(lines) + problems + check_history_in_audit(selected, lines)
    all_problems = [p for cid in cases for p in cases[cid]] + problems
    files = sum(len(record.get("evidence", [])) + 1 for record in selected.values())
    return {"ok": not all_problems, "checked": {"cases": len(selected), "files": files, "audit_lines": len(lines)},
            "problems": all_problems, "cases": cases}


def format_report(report: dict) -> str:
    checked = report["checked"]
    head = (f"{checked['cases']} cases, {checked['files']} files, {checked['audit_lines']} audit lines checked / "
            f"{checked['cases']} casi, {checked['files']} file, {checked['audit_lines']} righe di audit verificati")
    if report["ok"]:
        return f"{head}\nOK: every hash and the audit chain hold / tutte le impronte e la catena di audit sono integre"
    lines = [head, f"FAILED / NON INTEGRO: {len(report['problems'])} problems / problemi"]
    lines += [f"  - {problem}" for problem in report["problems"]]
    return "\n".join(lines)
