"""Verification of a data directory: recompute every stored hash and walk the audit chain.

It reads through a StoreView and never opens a Store, so it works while the server runs (the store
holds an exclusive lock on the directory) and cannot change the records, the evidence or the logs. It
writes one derived file, the marks of what it found intact (server/verify_marks.py), so that the next run
can be incremental:

- mode "incremental" (the default): a file whose size and mtime are those it had when it last hashed to
  its recorded SHA-256 is not hashed again; a case whose record and files are all unchanged is skipped
  whole; the audit chain is walked from the last verified line (if that line still sits where it was,
  byte for byte; else the whole chain). A quick daily check: size and mtime can be restored by someone
  with access to the computer, so only
- mode "full" proves integrity: every file hashed, the whole chain walked (docs/security.md).
`case` and `since` choose cases (one; those captured or changed since a date), which are hashed in full.

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
import sqlite3
from collections import Counter
from datetime import date

from ..domain.errors import Invalid
from ..domain.integrity import canonical_json, check_audit_chain, sha256_hex
from ..store import StoreDamaged, StoreView, iso_utc, utc_now
from ..trust.anchors import check_anchors
from ..trust.timestamps import check_case_timestamp

MODES = ("incremental", "full")
MANY_CHANGED = 200  # beyond this many cases to check, the audit log is read once instead of case by case
AUDIT_MARK = ("audit_seq", "audit_offset", "audit_length", "audit_sha256")


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



def check_case(view, record: dict, events: list[dict], marks: dict | None = None) -> tuple[list[str], dict, int]:
    """(problems, {name: (size, mtime_ns, sha256) of each file that hashed to its recorded SHA-256}, how many
    files were read and hashed).

    `marks`: {name: (size, mtime_ns, sha256, verified_at)} of an earlier run; a file with the same size and
    mtime is taken to still have that SHA-256 (incremental verify) and is not read."""
    case_id = record["id"]
    erased = erased_names(events)
    marks = marks or {}
    problems, intact, hashed = [], {}, [1]  # capture.json is always read: it is small, and compared below

    def hash_of(name: str, expected: str | None) -> str | None:
        stat = view.case_file_stat(case_id, name)
        mark = marks.get(name)
        if stat is not None and mark is not None and tuple(mark[:2]) == stat:
            actual = mark[2]
        else:
            data = view.read_case_file(case_id, name) if stat is not None else None
            if data is None:
                if name not in erased:
                    problems.append(f"cases/{case_id}/{name}: missing")
                return None
            actual = sha256_hex(data)
            hashed[0] += 1
        if actual == expected:
            intact[name] = (*stat, actual)
        return actual

    stat, raw = view.case_file_stat(case_id, "capture.json"), view.read_case_file(case_id, "capture.json")
    capture_hash = sha256_hex(raw) if raw is not None else None  # small, and read below in any case
    if raw is None and "capture.json" not in erased:
        problems.append(f"cases/{case_id}/capture.json: missing")
    elif capture_hash == record.get("sha256") and stat is not None:
        intact["capture.json"] = (*stat, capture_hash)
    canonical = None
    if capture_hash is not None:
        if capture_hash != record.get("sha256"):
            problems.append(f"cases/{case_id}/capture.json: SHA-256 {capture_hash} differs from the "
                            f"record's {record.get('sha256')} (capture.json modified)")
        try:
            canonical = json.loads(raw)
        except ValueError:
            problems.append(f"cases/{case_id}/capture.json: not valid JSON")

    for entry in record.get("evidence", []):
        actual = hash_of(entry["name"], entry["sha256"])
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

    problems.extend(check_case_timestamp(lambda name: view.read_case_file(case_id, name), record))
    return problems, intact, hashed[0]


def _split(data: bytes, first: int) -> tuple[list[bytes], list[str]]:
    """The complete lines of audit.log bytes whose first line is number `first`, and a torn last line."""
    lines = data.split(b"\n")
    last = lines.pop()
    problems = []
    if last:
        problems.append(f"audit.log line {first + len(lines)}: incomplete line (file truncated or cut)")
    return lines, problems


def history_problems(case_id: str, record: dict, events: list[dict]) -> list[str]:
    """Every event of the case's history must be in the log: a truncated log loses the newest events.

    Counted per event name: a history entry's time may differ from its log line's by milliseconds.
    """
    problems = []
    logged = Counter(entry.get("event") for entry in events)
    expected = Counter(event.get("event") for event in record.get("history", []))
    for event, count in sorted(expected.items()):
        if logged[event] < count:
            problems.append(f"audit.log: {count - logged[event]} event(s) {event} of case {case_id} "
                            "missing (log truncated or lines removed)")
    return problems


def check_audit(view, mark: dict | None) -> dict:
    """The audit log: the chain from the last verified line (`mark`, when it still holds) or from the start.
    {"problems", "notes", "lines" (how many in the log), "walked" (how many checked now), "events" ({case:
    entries} when the whole log was read, else None), "mark" (the newest line, to remember), "note"}."""
    note = None
    if mark:
        seq, offset, length, sha = (int(mark[key]) if key != "audit_sha256" else mark[key] for key in AUDIT_MARK)
        data = view.read_audit_log(offset)
        if data is not None and data[length:length + 1] == b"\n" and sha256_hex(data[:length]) == sha:
            lines, torn = _split(data[length + 1:], seq + 1)
            head = [data[:length]]
            problems = check_audit_chain(lines, prev=sha, first=seq + 1) + torn
            anchor_problems, notes = check_anchors(view, head + lines, first=seq)
            return {"problems": problems + anchor_problems, "notes": notes, "lines": seq + len(lines),
                    "walked": len(lines), "events": None,
                    "mark": _newest(offset + length + 1, lines, seq) if lines else dict(mark), "note": None}
        note = ("audit.log changed before its last verified line: the whole chain was walked / il registro è "
                "cambiato prima dell'ultima riga verificata: verificata tutta la catena")
    data = view.read_audit_log()
    if data is None:
        return {"problems": ["audit.log: missing"], "notes": [], "lines": 0, "walked": 0, "events": {},
                "mark": None, "note": note}
    lines, torn = _split(data, 1)
    anchor_problems, notes = check_anchors(view, lines)
    return {"problems": check_audit_chain(lines) + torn + anchor_problems, "notes": notes, "lines": len(lines),
            "walked": len(lines), "events": audit_events(lines), "mark": _newest(0, lines, 0) if lines else None,
            "note": note}


def _newest(base: int, lines: list[bytes], seq_before: int) -> dict:
    """The mark of the last of `lines`, which start at byte `base` of the log after line `seq_before`."""
    offset = base + sum(len(line) + 1 for line in lines[:-1])
    return dict(zip(AUDIT_MARK, (seq_before + len(lines), offset, len(lines[-1]), sha256_hex(lines[-1]))))


def parse_since(since: str | None) -> str | None:
    if since is None:
        return None
    try:
        return date.fromisoformat(since).isoformat()
    except (TypeError, ValueError):
        raise Invalid("since", "verify.since") from None


def changed_since(record: dict, since: str) -> bool:
    """Captured, or any step recorded, on or after the day `since` (UTC)."""
    return any((moment or "") >= since for moment in [record.get("captured_at")]
               + [event.get("at") for event in record.get("history", [])])


def verify(data_dir, case_id: str | None = None, mode: str = "incremental", since: str | None = None) -> dict:
    """The report: {"ok", "mode", "checked": {cases, files, audit_lines}, "hashed": {files, audit_lines},
    "unchanged": {cases, files, since}, "problems", "notes", "cases": {id: [problems]}}.
    Notes do not make it fail (the audit lines not yet covered by an anchor, how the run was done).

    `mode`: "incremental" (default) or "full" (module docstring); `case`, `since`: which cases."""
    if mode not in MODES:
        raise Invalid("mode", "verify.mode", allowed=", ".join(MODES))
    since = parse_since(since)
    empty = {"cases": 0, "files": 0, "audit_lines": 0}
    try:
        view = StoreView(data_dir)
    except StoreDamaged as error:
        return {"ok": False, "mode": mode, "checked": empty, "problems": [str(error)], "cases": {}}
    if case_id is not None and view.get(case_id) is None:
        return {"ok": False, "mode": mode, "checked": empty, "problems": [f"case {case_id}: not found"], "cases": {}}
    notes = []
    try:
        file_marks, case_marks, meta = view.verify_marks().load()
    except sqlite3.Error as error:
        file_marks, case_marks, meta = {}, {}, {}
        notes.append(f"verify marks unreadable ({error}): everything is hashed / segni di verifica illeggibili")
    full = mode == "full"
    audit = check_audit(view, None if full or not all(key in meta for key in AUDIT_MARK) else meta)
    by_case_marks = {}
    for (cid, name), mark in file_marks.items():
        by_case_marks.setdefault(cid, {})[name] = mark

    now = iso_utc(utc_now())
    cases, history, intact_rows, case_rows, checked_ids = {}, [], [], [], []
    counts = Counter()
    oldest = None
    reuse = not full and case_id is None and since is None
    for cid in ([case_id] if case_id is not None else view.case_ids()):
        # A record file that kept its size and mtime since the case was found intact is not read again: its
        # evidence list is the one the marks were made from (a record still in the journal has no stamp).
        stamp = view.record_stamp(cid) if reuse else None
        marks = by_case_marks.get(cid, {}) if reuse else {}
        if stamp is not None and (case_marks.get(cid) or (None,))[0] == stamp and "capture.json" in marks and all(
                tuple(mark[:2]) == view.case_file_stat(cid, name) for name, mark in marks.items()):
            cases[cid] = []
            counts["cases"] += 1
            counts["files"] += len(marks)
            counts["unchanged_cases"] += 1
            counts["unchanged_files"] += len(marks)
            oldest = min(oldest or case_marks[cid][1], case_marks[cid][1])
            if audit["events"] is not None:  # the whole log was read (first run, or it changed): is all of it there?
                missing = history_problems(cid, view.get(cid), audit["events"].get(cid, []))
                if missing:
                    history += missing
                    checked_ids.append(cid)  # its mark goes: the next run looks at it again
            continue
        record = view.get(cid)
        if since is not None and not changed_since(record, since):
            continue
        names = ["capture.json"] + [entry["name"] for entry in record.get("evidence", [])]
        counts["cases"] += 1
        counts["files"] += len(names)
        if audit["events"] is None and len(checked_ids) == MANY_CHANGED:  # one scan is cheaper than many seeks
            audit["events"] = audit_events(view.audit_lines())
        events = (audit["events"].get(cid, []) if audit["events"] is not None
                  else audit_events(view.audit_lines(cid)).get(cid, []))
        problems, intact, hashed = check_case(view, record, events, marks)
        counts["hashed_files"] += hashed
        counts["unchanged_files"] += len(names) - hashed
        cases[cid] = problems
        missing = history_problems(cid, record, events)
        history += missing
        checked_ids.append(cid)
        intact_rows += [(cid, name, *values, now) for name, values in intact.items()]
        if not (problems or missing):
            case_rows.append((cid, stamp or view.record_stamp(cid) or sha256_hex(canonical_json(record)), now))

    cases = dict(sorted(cases.items()))
    problems = audit["problems"] + sorted(history)
    all_problems = [p for cid in cases for p in cases[cid]] + problems
    whole = case_id is None and since is None
    try:
        view.verify_marks().save(intact_rows, case_rows, checked_ids, {
            **dict.fromkeys(AUDIT_MARK), **((audit["mark"] or {}) if not audit["problems"] else {}),
            **({"last_full": now} if full and whole else {})}, start_afresh=full and whole)
    except (sqlite3.Error, OSError) as error:
        notes.append(f"verify marks not saved ({error}): the next verify hashes everything again / "
                     "segni di verifica non salvati")
    notes = ([audit["note"]] if audit["note"] else []) + audit["notes"] + notes
    return {"ok": not all_problems, "mode": mode, "since": since,
            "checked": {"cases": counts["cases"], "files": counts["files"], "audit_lines": audit["lines"]},
            "hashed": {"files": counts["hashed_files"], "audit_lines": audit["walked"]},
            "unchanged": {"cases": counts["unchanged_cases"], "files": counts["unchanged_files"], "since": oldest},
            "last_full": now if full and whole else meta.get("last_full"),
            "problems": all_problems, "notes": notes, "cases": cases}


def format_report(report: dict) -> str:
    checked = report["checked"]
    head = (f"{checked['cases']} cases, {checked['files']} files, {checked['audit_lines']} audit lines checked / "
            f"{checked['cases']} casi, {checked['files']} file, {checked['audit_lines']} righe di audit verificati")
    hashed, unchanged = report.get("hashed"), report.get("unchanged") or {}
    if report.get("mode") == "full":
        head += "\nfull verify: every file hashed again / verifica completa: ogni file ricalcolato"
    elif hashed is not None and unchanged.get("files"):
        head += (f"\nincremental: hashed {hashed['files']} of {checked['files']} files; {unchanged['files']} unchanged "
                 f"since {unchanged['since'] or 'their last check'}; run `testimone verify --full` to hash everything "
                 f"(last full verify: {report.get('last_full') or 'never'}) / incrementale: ricalcolati "
                 f"{hashed['files']} file su {checked['files']}; {unchanged['files']} invariati dall'ultima verifica; "
                 "`testimone verify --full` li ricalcola tutti")
    elif hashed is not None:
        head += ("\nincremental, but nothing to skip: every file hashed / incrementale: ogni file ricalcolato "
                 "(nessuna verifica precedente da riusare)")
    notes = [f"  note: {note}" for note in report.get("notes", [])]
    if report["ok"]:
        return "\n".join([head, "OK: every hash and the audit chain hold / tutte le impronte e la catena di audit "
                                 "sono integre", *notes])
    lines = [head, f"FAILED / NON INTEGRO: {len(report['problems'])} problems / problemi"]
    lines += [f"  - {problem}" for problem in report["problems"]]
    return "\n".join(lines + notes)
