"""The evidence bundle of one case, for a lawyer or any third party: a zip file or a folder.

    testimone-<id>/
      capture.json         the canonical record as captured (its SHA-256 is the case's fingerprint)
      evidence/<name>      every evidence file exactly as stored (screenshot, page snapshot, comment
                           HTML, RFC 3161 timestamp .tsq/.tsr/.pem, second-witness reports...)
      documents/<name>.pdf the case's signed PDFs (server/render/document_types.py: in_bundle)
      audit.jsonl          the case's events from the hash-chained audit log, lines verbatim
      anchors.jsonl        the RFC 3161 timestamps of the whole log's newest line so far (the export's own
                           last): a copy out of the computer's reach, so that a log cut short at home
                           no longer matches what the lawyer holds
      manifest.json        every file above with path, bytes, sha256
      manifest.sig         detached CMS signature of manifest.json by this install's key
      signer.pem           the certificate of that key (self-signed)
      SHA256SUMS           `sha256sum -c SHA256SUMS` checks every file
      VERIFY.txt           how to check all of it with standard tools (Italian and English)
      verify.py            the same checks, Python standard library only

It is built from the files on disk, so `testimone export` also works while the server runs.
Nothing secret goes in: no pairing token, no cookies, no key.
"""
import io
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from ..domain.integrity import sha256_hex
from ..trust.signing import sign_detached
from . import document_types

ASSETS = Path(__file__).parent / "bundle_assets"
FORMAT = "testimone-bundle/1"
# Fixed time for zip entries: the same bundle content gives the same zip bytes.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _read(store, case_id: str, name: str) -> bytes | None:
    try:
        return store.read_evidence(case_id, name)
    except FileNotFoundError:
        return None  # erased on purpose, or lost: `testimone verify` tells which


def build(store, record: dict, documents: dict | None = None, pdf_note: str | None = None,
          generator: str = "Testimone") -> dict:
    """All bundle files as {relative path: bytes}, read through `store` (a Store or a StoreView).
    `documents` maps a PDF name to its bytes."""
    case_id = record["id"]
    files = {}
    missing = []
    for name, target in [("capture.json", "capture.json")] + [(e["name"], f"evidence/{e['name']}")
                                                              for e in record.get("evidence", [])]:
        data = _read(store, case_id, name)
        if data is None:
            missing.append(name)
        else:
            files[target] = data
    for name, data in (documents or {}).items():
        files[f"documents/{name}"] = data
    files["audit.jsonl"] = b"".join(line + b"\n" for line in store.audit_lines(case_id))
    anchors = store.anchors_file()
    if anchors:
        files["anchors.jsonl"] = anchors

    stamp = record.get("timestamp") or {}
    manifest = {
        "format": FORMAT, "case": case_id, "kind": record.get("kind"), "generator": generator,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "captured_at": record.get("captured_at"), "record_sha256": record.get("sha256"),
        "evidence": record.get("evidence", []), "missing": missing,
        "timestamp": ({key: stamp.get(key) for key in ("status", "time", "tsa", "url", "serial", "files")}
                      if stamp else None),
        "documents": sorted(documents or {}) if documents else pdf_note,
        "files": [{"path": path, "bytes": len(data), "sha256": sha256_hex(data)}
                  for path, data in sorted(files.items())],
    }
    files["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n"
    signed = sign_detached(store.data_dir, files["manifest.json"])
    if signed:
        files["manifest.sig"], files["signer.pem"] = signed
    files["VERIFY.txt"] = (ASSETS / "VERIFY.txt").read_bytes()
    files["verify.py"] = (ASSETS / "verify.py").read_bytes()
    files["SHA256SUMS"] = "".join(f"{sha256_hex(data)}  {path}\n" for path, data in sorted(files.items())).encode()
    return files


def to_zip(files: dict, case_id: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(files.items()):
            info = zipfile.ZipInfo(f"testimone-{case_id}/{path}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def to_folder(files: dict, target) -> Path:
    """Write the bundle into `target` (a new or empty folder)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise FileExistsError(f"{target} is not empty")
    for path, data in files.items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
    return target


def document_name(document: str, lang: str) -> str:
    return f"{document_types.get(document).file_stem}-{lang}.pdf"
