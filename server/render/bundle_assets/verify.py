#!/usr/bin/env python3
"""Check a Testimone evidence bundle. Python 3.8+ standard library only; no Testimone needed.

    python3 verify.py [BUNDLE_FOLDER]        (default: the folder this file is in)

Checks every SHA-256 (SHA256SUMS, manifest.json, capture.json), the case's audit events, that the
RFC 3161 timestamp is about this capture.json, and, when the tools are installed, the timestamp
signature (openssl ts), the manifest signature (openssl cms) and the PDF signature (pdfsig).
Exit status 0 when everything holds, 1 otherwise; each failure names the file.
Verifica un pacchetto di prove Testimone: esito 0 se tutto è integro, 1 altrimenti.
"""
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

FIXED = {"SHA256SUMS", "manifest.json", "manifest.sig", "signer.pem", "VERIFY.txt", "verify.py"}


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Report:
    def __init__(self):
        self.failures = 0

    def ok(self, message):
        print(f"OK    {message}")

    def fail(self, message):
        self.failures += 1
        print(f"FAIL  {message}")

    def note(self, message):
        print(f"NOTE  {message}")


def check_sums(root, report):
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        report.fail("SHA256SUMS: missing / mancante")
        return
    listed = set()
    for line in sums.read_text("utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed.add(name)
        path = root / name
        if not path.is_file():
            report.fail(f"{name}: missing / mancante")
        elif sha256(path) != digest:
            report.fail(f"{name}: SHA-256 differs from SHA256SUMS (file modified / file modificato)")
    extra = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                   if p.is_file() and str(p.relative_to(root)) not in listed | {"SHA256SUMS"})
    for name in extra:
        report.fail(f"{name}: not in SHA256SUMS (file added / file aggiunto)")
    report.ok(f"SHA256SUMS: {len(listed)} files checked")


def check_manifest(root, report):
    try:
        manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as error:
        report.fail(f"manifest.json: unreadable ({error})")
        return None
    for entry in manifest.get("files", []):
        path = root / entry["path"]
        if not path.is_file():
            report.fail(f"{entry['path']}: listed in manifest.json but missing / mancante")
        elif path.stat().st_size != entry["bytes"] or sha256(path) != entry["sha256"]:
            report.fail(f"{entry['path']}: differs from manifest.json (file modified / file modificato)")
    listed = {entry["path"] for entry in manifest.get("files", [])}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = str(path.relative_to(root))
        if name not in listed and name not in FIXED:
            report.fail(f"{name}: not in manifest.json (file added / file aggiunto)")
    report.ok(f"manifest.json: {len(listed)} files listed")
    return manifest


def check_capture(root, manifest, report):
    capture_path = root / "capture.json"
    if not capture_path.is_file():
        report.note("capture.json: not in the bundle (erased) / non presente (cancellato)")
        return None
    digest = sha256(capture_path)
    if digest != manifest.get("record_sha256"):
        report.fail("capture.json: SHA-256 differs from the case fingerprint in manifest.json")
    capture = json.loads(capture_path.read_text("utf-8"))
    missing = set(manifest.get("missing") or [])
    for entry in capture.get("evidence", []):
        path = root / "evidence" / entry["name"]
        if entry["name"] in missing and not path.exists():
            report.note(f"evidence/{entry['name']}: erased / cancellato")
        elif not path.is_file():
            report.fail(f"evidence/{entry['name']}: listed in capture.json but missing / mancante")
        elif sha256(path) != entry["sha256"]:
            report.fail(f"evidence/{entry['name']}: SHA-256 differs from capture.json (file modified)")
    report.ok(f"capture.json: SHA-256 {digest}, {len(capture.get('evidence', []))} evidence files")
    return digest


def check_audit(root, manifest, capture_digest, report):
    path = root / "audit.jsonl"
    if not path.is_file():
        report.fail("audit.jsonl: missing / mancante")
        return
    lines = path.read_bytes().split(b"\n")[:-1]
    previous = None
    created = False
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            report.fail(f"audit.jsonl line {number}: not valid JSON")
            previous = None
            continue
        if entry.get("case") != manifest.get("case"):
            report.fail(f"audit.jsonl line {number}: belongs to another case")
        # Lines that were consecutive in the full log must still chain: prev = SHA-256 of the line before.
        consecutive = previous and isinstance(previous[0], int) and entry.get("seq") == previous[0] + 1
        if consecutive and entry.get("prev") != previous[1]:
            report.fail(f"audit.jsonl line {number}: chain broken (line before it edited)")
        if entry.get("event") == "capture.created":
            created = True
            if capture_digest and entry.get("details", {}).get("sha256") != capture_digest:
                report.fail(f"audit.jsonl line {number}: records another capture.json SHA-256")
        previous = (entry.get("seq"), hashlib.sha256(line).hexdigest())
    if not created:
        report.fail("audit.jsonl: the capture.created event is missing")
    report.ok(f"audit.jsonl: {len(lines)} events")


def run(command):
    return subprocess.run(command, capture_output=True, text=True)


def check_timestamp(root, manifest, report):
    stamp = manifest.get("timestamp") or {}
    if stamp.get("status") != "stamped":
        report.note(f"RFC 3161 timestamp: {stamp.get('status') or 'none'} / marca temporale assente")
        return
    tsr, chain = root / "evidence" / stamp["files"]["tsr"], root / "evidence" / stamp["files"]["chain"]
    capture = root / "capture.json"
    if not (tsr.is_file() and chain.is_file() and capture.is_file()):
        report.fail("RFC 3161 timestamp: files missing / file mancanti")
        return
    if hashlib.sha256(capture.read_bytes()).digest() not in tsr.read_bytes():
        report.fail(f"{tsr.relative_to(root)}: does not timestamp this capture.json")
        return
    if not shutil.which("openssl"):
        report.note("openssl not installed: timestamp signature not checked (the imprint matches)")
        return
    result = run(["openssl", "ts", "-verify", "-data", str(capture), "-in", str(tsr), "-CAfile", str(chain)])
    if result.returncode == 0:
        report.ok(f"RFC 3161 timestamp {stamp.get('time')} by {stamp.get('tsa')}: openssl ts -verify OK")
    else:
        report.fail(f"{tsr.relative_to(root)}: openssl ts -verify failed: {result.stderr.strip()[:200]}")


def check_manifest_signature(root, report):
    if not (root / "manifest.sig").is_file():
        report.note("manifest.sig: not present / assente")
        return
    if not shutil.which("openssl"):
        report.note("openssl not installed: manifest signature not checked")
        return
    result = run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(root / "manifest.sig"),
                  "-content", str(root / "manifest.json"), "-CAfile", str(root / "signer.pem"),
                  "-purpose", "any", "-out", "/dev/null" if sys.platform != "win32" else "NUL"])
    if result.returncode == 0:
        report.ok("manifest.sig: signature of manifest.json valid (openssl cms)")
    else:
        report.fail("manifest.sig: signature does not match manifest.json (manifest replaced or edited)")


def check_pdfs(root, report):
    for pdf in sorted((root / "documents").glob("*.pdf")):
        if not shutil.which("pdfsig"):
            report.note("pdfsig (poppler-utils) not installed: PDF signatures not checked")
            return
        result = run(["pdfsig", str(pdf)])
        if "Signature is Valid" in result.stdout and "Total document signed" in result.stdout:
            report.ok(f"{pdf.relative_to(root)}: signature valid, document not modified (pdfsig)")
        else:
            report.fail(f"{pdf.relative_to(root)}: signature invalid or document modified (pdfsig)")


def main(argv):
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent)
    report = Report()
    check_sums(root, report)
    manifest = check_manifest(root, report)
    if manifest is not None:
        digest = check_capture(root, manifest, report)
        check_audit(root, manifest, digest, report)
        check_timestamp(root, manifest, report)
    check_manifest_signature(root, report)
    check_pdfs(root, report)
    if report.failures:
        print(f"\nFAILED / NON INTEGRO: {report.failures} problem(s) / problemi")
        return 1
    print("\nALL CHECKS PASSED / TUTTI I CONTROLLI SUPERATI")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
