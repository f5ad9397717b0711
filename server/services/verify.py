"""Verification of a data directory: recompute every stored hash and walk the audit chain.

It reads through a StoreView and never opens a Store, so it works while the server runs (the store
holds an exclusive lock on the directory) and cannot change anything.

Checks, each failure naming the file or the audit line:
- capture.json of every case hashes to the record's `sha256`;
- every evidence file exists and hashes to the SHA-256 in the record, and the files listed in
  capture.json (the canonical record as captured) agree with the record and with the disk;
- audit.log: the hash chain (server.domain.integrity.check_audit_chain), a torn last line, and every event in
  a case's history is present in the log (a truncated log loses the latest ones);
- every field of capture.json reads the same in the record (the documents print the record);
- the anchors of the audit chain (server.trust.anchors): lines after the last one are a note;
- each case's RFC 3161 timestamp, when there is one (server.trust.timestamps.check_case_timestamp).
Erased files (consent withdrawn) are expected to be missing when the audit log's erasure event lists them.
"""
import json
from collections import Counter
from pathlib import Path

from ..domain.integrity import check_audit_chain, sha256_hex
from ..store import StoreDamaged, StoreView
from ..trust.anchors import check_anchors


def audit_events(lines: list[bytes]) -> dict:
    """{case id: [audit entries of that case]}, in log order (lines that are not JSON are skipped:
    check_audit_chain names them)."""
    events = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            events.setdefault(entry.get("case"), []).append(entry)
    return events


def erased_names(events: list[dict]) -> set:
    """Files an erasure deleted on purpose, as the hash-chained audit log says ({name: sha256} or a list):
    a file deleted without such an event is a loss, whatever the record says."""
    names = set()
    for event in events:
        erased = (event.get("details") or {}).get("erased")
        if isinstance(erased, (list, dict)):
            names.update(erased)
    return names


# Fields of capture.json that a case may change later, each with the record's history of the change.
CHANGEABLE = {("offence", "known_since")}


def check_fields(case_id: str, record: dict, canonical: dict) -> list[str]:
    """Every field of the hashed capture.json must read the same in the record, which is what the
    documents and the dashboard print: an edit of the database is caught here."""
    problems = []
    for key, value in sorted(canonical.items()):
        if key == "evidence":
            continue  # compared file by file below
        current = record.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            changes = record.get("known_since_changes") or []
            for sub in sorted(set(value) | set(current)):
                expected = value.get(sub)
                actual = current.get(sub)
                if (key, sub) in CHANGEABLE:
                    actual = changes[0]["from"] if changes else actual
                if actual != expected:
                    problems.append(f"cases/{case_id}: field {key}.{sub} of the record differs from capture.json "
                                    "(record edited)")
        elif current != value:
            problems.append(f"cases/{case_id}: field {key} of the record differs from capture.json (record edited)")
    return problems


def check_case(data_dir: Path, record: dict, events: list[dict]) -> list[str]:
    case_id = record["id"]
    folder = data_dir / "cases" / case_id
    erased = erased_names(events)
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
        if capture_hash == record.get("sha256"):
            problems.extend(check_fields(case_id, record, canonical))
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


def check_history_in_audit(records: dict, events: dict) -> list[str]:
    """Every event of every case history must be in the log: a truncated log loses the newest events.

    Counted per (case, event): a history entry's time may differ from its log line's by milliseconds.
    """
    problems = []
    for case_id, record in sorted(records.items()):
        logged = Counter(entry.get("event") for entry in events.get(case_id, []))
        expected = Counter(event.get("event") for event in record.get("history", []))
        for event, count in sorted(expected.items()):
            if logged[event] < count:
                problems.append(f"audit.log: {count - logged[event]} event(s) {event} of case {case_id} "
                                "missing (log truncated or lines removed)")
    return problems


def verify(data_dir, case_id: str | None = None) -> dict:
    """The full report: {"ok", "checked": {...}, "problems": [...], "notes": [...], "cases": {id: [problems]}}.
    Notes do not make it fail: the audit lines not yet covered by an anchor."""
    data_dir = Path(data_dir)
    try:
        records = StoreView(data_dir).records()
    except StoreDamaged as error:
        return {"ok": False, "checked": {"cases": 0, "files": 0, "audit_lines": 0}, "problems": [str(error)],
                "cases": {}}
    if case_id is not None:
        if case_id not in records:
            return {"ok": False, "checked": {"cases": 0, "files": 0, "audit_lines": 0},
                    "problems": [f"case {case_id}: not found"], "cases": {}}
        selected = {case_id: records[case_id]}
    else:
        selected = records
    lines, problems = _audit_lines(data_dir)
    events = audit_events(lines)
    cases = {cid: check_case(data_dir, record, events.get(cid, [])) for cid, record in sorted(selected.items())}
    anchor_problems, notes = check_anchors(data_dir, lines)
    problems = check_audit_chain(lines) + problems + anchor_problems + check_history_in_audit(selected, events)
    all_problems = [p for cid in cases for p in cases[cid]] + problems
    files = sum(len(record.get("evidence", [])) + 1 for record in selected.values())
    return {"ok": not all_problems, "checked": {"cases": len(selected), "files": files, "audit_lines": len(lines)},
            "problems": all_problems, "notes": notes, "cases": cases}


def format_report(report: dict) -> str:
    checked = report["checked"]
    head = (f"{checked['cases']} cases, {checked['files']} files, {checked['audit_lines']} audit lines checked / "
            f"{checked['cases']} casi, {checked['files']} file, {checked['audit_lines']} righe di audit verificati")
    notes = [f"  note: {note}" for note in report.get("notes", [])]
    if report["ok"]:
        return "\n".join([head, "OK: every hash and the audit chain hold / tutte le impronte e la catena di audit "
                                 "sono integre", *notes])
    lines = [head, f"FAILED / NON INTEGRO: {len(report['problems'])} problems / problemi"]
    lines += [f"  - {problem}" for problem in report["problems"]]
    return "\n".join(lines + notes)
