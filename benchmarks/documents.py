"""Benchmark of the PDF documents: `python benchmarks/documents.py [--runs N]`.

For each document, with a 1366×768 screenshot:
- render: median time of server.documents.render with an empty cache (Jinja + safe fetcher + WeasyPrint);
- bare: median time of weasyprint.HTML(string=final_html).write_pdf() on the same final HTML, in the same
  run, interleaved with the renders so both see the same machine load (target: render ≤ 1.2 × bare);
- cache hit: median time of documents.render for an unchanged case (no HTTP);
- cached: median time of a second download through the real app (Flask test client, real store on disk,
  audit event fsynced), i.e. what the user waits for an unchanged document (target: ≤ 20 ms).
"""
import argparse
import base64
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import weasyprint  # noqa: E402

from server import create_app  # noqa: E402
from server.render import pdf as documents, samples  # noqa: E402
from server.services import documents as document_service  # noqa: E402

TOKEN = "benchmark-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
BASE = "http://127.0.0.1:8765"


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def render_vs_bare(runs: int) -> list[tuple[str, float, float]]:
    shot = samples.screenshot()
    rows = []
    for document, record, label in document_service.sample_cases()[:4]:
        html = documents.render_html(document, record, samples.PROFILE, "it", shot, issued_on=date(2026, 11, 24))
        ours, bare = [], []

        def ours_once():
            documents.clear_cache()
            documents.render(document, record, samples.PROFILE, "it", shot, issued_on=date(2026, 11, 24))

        def bare_once():
            weasyprint.HTML(string=html, base_url=documents.BASE_URL).write_pdf()

        ours_once(), bare_once()  # warm-up: imports, font configuration
        for _ in range(runs):
            ours.append(timed(ours_once))
            bare.append(timed(bare_once))
        rows.append((label, statistics.median(ours), statistics.median(bare)))
    return rows


def cache_hit(runs: int) -> float:
    """documents.render on an unchanged case: hashing the inputs and a dictionary look-up."""
    record, shot = samples.offence(), samples.screenshot()
    documents.render("incident_report", record, samples.PROFILE, "it", shot, issued_on=date(2026, 11, 24))
    return statistics.median(timed(lambda: documents.render("incident_report", record, samples.PROFILE, "it", shot,
                                                            issued_on=date(2026, 11, 24))) for _ in range(runs))


def cached_download(runs: int) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app({"DATA_DIR": data_dir, "TOKEN": TOKEN, "TESTING": True})
        client = app.test_client()
        client.put("/api/profile", json=samples.PROFILE, headers=HEADERS, base_url=BASE)
        rows = []
        for kind, path in (("offence", "document.pdf"), ("offence", "removal-demand.pdf"),
                           ("testimonial", "document.pdf")):
            body = {"kind": kind, "page_url": "https://www.facebook.com/gelso.invento/posts/1",
                    "text": "Testo di prova per il benchmark.",
                    "screenshot": {"media_type": "image/png",
                                   "data": base64.b64encode(samples.screenshot()).decode(),
                                   "rect": samples.COMMENT_RECT}}
            body[kind] = ({"category": "defamation", "known_since": "2026-11-20"} if kind == "offence"
                          else {"purposes": ["website"], "photo": False})
            case_id = client.post("/api/captures", json=body, headers=HEADERS, base_url=BASE).json["id"]
            url = f"/api/captures/{case_id}/{path}"
            first = client.get(url, headers=HEADERS, base_url=BASE)
            assert first.status_code == 200, first.data
            times = [timed(lambda: client.get(url, headers=HEADERS, base_url=BASE)) for _ in range(runs)]
            rows.append((f"{kind} {path}", statistics.median(times)))
        app.extensions["testimone.store"].close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed renders per document (default 5)")
    parser.add_argument("--cached-runs", type=int, default=50, help="timed cached downloads (default 50)")
    args = parser.parse_args()

    print(f"{'document':<20} {'render s':>9} {'bare s':>8} {'ratio':>6}  (target ≤ 1.2)")
    for label, ours, bare in render_vs_bare(args.runs):
        print(f"{label:<20} {ours:>9.3f} {bare:>8.3f} {ours / bare:>6.2f}")
    print(f"\n{'cache hit in documents.render':<32} {cache_hit(args.cached_runs) * 1000:>9.2f} ms")
    print(f"\n{'cached download':<32} {'median ms':>9}  (target ≤ 20)")
    for label, seconds in cached_download(args.cached_runs):
        print(f"{label:<32} {seconds * 1000:>9.2f}")


if __name__ == "__main__":
    main()
