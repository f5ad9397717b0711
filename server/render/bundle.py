"""The evidence bundle of one case, for a lawyer or any third party: a zip file or a folder.

    testimone-<id>/
      capture.json         the canonical record as captured (its SHA-256 is the case's fingerprint)
      evidence/<name>      every evidence file exactly as stored (screenshot, page snapshot, comment
                           HTML, RFC 3161 timestamp .tsq/.tsr/.pem, second-witness reports...)
      documents/<name>.pdf the case's signed PDFs (server/render/document_types.py: in_bundle)
      audit.jsonl          the case's events from the hash-chained audit log, lines verbatim
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

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from ..domain.integrity import sha256_hex
from . import document_types

ASSETS = Path(__file__).parent / "bundle_assets"
FORMAT = "testimone-bundle/1"
# Fixed time for zip entries: the same bundle content gives the same zip bytes.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def case_audit_lines(data_dir: Path, case_id: str) -> list[bytes]:
    path = data_dir / "audit.log"
    if not path.exists():
        return []
    lines = []
    for line in path.read_bytes().split(b"\n")[:-1]:
        try:
            if json.loads(line).get("case") == case_id:
                lines.append(line)
        except (ValueError, AttributeError):
            continue  # `testimone verify` names broken lines; the bundle carries the valid ones
    return lines


def _sign_manifest(data_dir: Path, manifest: bytes) -> tuple[bytes, bytes] | None:
    from ..trust.signing import FOLDER

    key_path, cert_path = data_dir / FOLDER / "key.pem", data_dir / FOLDER / "cert.pem"
    if not (key_path.exists() and cert_path.exists()):
        return None
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    signature = (pkcs7.PKCS7SignatureBuilder().set_data(manifest).add_signer(cert, key, hashes.SHA256())
                 .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                    pkcs7.PKCS7Options.Binary]))
    return signature, cert.public_bytes(serialization.Encoding.PEM)


def build(data_dir, record: dict, documents: dict | None = None, pdf_note: str | None = None,
          generator: str = "Testimone") -> dict:
    """All bundle files as {relative path: bytes}. `documents` maps a PDF name to its bytes."""
    data_dir = Path(data_dir)
    case_id = record["id"]
    folder = data_dir / "cases" / case_id
    files = {}
    missing = []
    if (folder / "capture.json").is_file():
        files["capture.json"] = (folder / "capture.json").read_bytes()
    else:
        missing.append("capture.json")
    for entry in record.get("evidence", []):
        path = folder / entry["name"]
        if path.is_file():
            files[f"evidence/{entry['name']}"] = path.read_bytes()
        else:
            missing.append(entry["name"])  # erased on purpose, or lost: `testimone verify` tells which
    for name, data in (documents or {}).items():
        files[f"documents/{name}"] = data
    audit = case_audit_lines(data_dir, case_id)
    files["audit.jsonl"] = b"".join(line + b"\n" for line in audit)

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
    signed = _sign_manifest(data_dir, files["manifest.json"])
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
