"""Ingest benchmark: POST /api/captures on the real server vs a bare Flask endpoint, side by side.

Each round posts the same realistic capture (about 300 KB screenshot, 1 MB page snapshot) alternately to
  - Testimone (`python -m server serve`, waitress, real data dir with N cases already stored), and
  - a bare Flask app on waitress whose endpoint only reads the body, writes it to one file on the same
    disk and fsyncs it (the least a "201 means it is stored" answer costs), and answers 201,
so both see the same machine noise. Reported: p50/p95 of each and their ratio, for each N.

    .venv/bin/python benchmarks/ingest.py [--requests 40] [--sizes 100,10000,100000]
"""
import argparse
import base64
import http.client
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from PIL import Image

TOKEN = "benchmark-token"
BARE_APP = textwrap.dedent("""
    import os, sys, waitress
    from flask import Flask, request
    app = Flask("bare")
    @app.post("/api/captures")
    def capture():
        with open(os.path.join(sys.argv[2], "body"), "wb") as body:
            body.write(request.get_data())
            body.flush()
            os.fsync(body.fileno())
        return {"id": "x"}, 201
    waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, _quiet=True)
""")


def realistic_capture() -> bytes:
    rng = random.Random(7)
    image = Image.new("RGB", (1366, 768), (245, 246, 248))
    noise = Image.frombytes("RGB", (316, 316), rng.randbytes(316 * 316 * 3))
    image.paste(noise, (100, 200))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    html = "".join(f"<div class='x{rng.randrange(10**6)}'>{rng.randbytes(48).hex()}</div>\n" for _ in range(9000))
    snapshot = (b"From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n"
                b"\tboundary=\"----B----\"\r\n\r\n------B----\r\nContent-Type: text/html\r\n\r\n" + html.encode())
    body = {
        "kind": "offence", "page_url": "https://www.facebook.com/trattoria.demo/posts/pfbid0Demo",
        "permalink": "https://www.facebook.com/trattoria.demo/posts/pfbid0Demo?comment_id=1772521800368774",
        "author": {"name": "Ottavio Inventato", "profile_url": "https://www.facebook.com/ottavio.inventato"},
        "text": "Commento inventato per il benchmark. " * 10,
        "comment_html": "<div role='article'>" + "x" * 4000 + "</div>",
        "screenshot": {"media_type": "image/png", "data": base64.b64encode(buffer.getvalue()).decode(),
                       "rect": {"x": 100, "y": 200, "width": 316, "height": 316}},
        "page_snapshot": {"media_type": "multipart/related", "data": base64.b64encode(snapshot).decode()},
        "offence": {"category": "defamation", "known_since": "2026-11-20"},
    }
    print(f"capture: screenshot {len(buffer.getvalue()) / 1024:.0f} KiB, snapshot {len(snapshot) / 1024:.0f} KiB")
    return json.dumps(body).encode()


def prefill(data_dir: Path, count: int) -> None:
    """N stored cases written straight into the store's files (as the store itself would leave them)."""
    cases, records = data_dir / "cases", data_dir / "records"
    cases.mkdir(parents=True)
    records.mkdir()
    for n in range(1, count + 1):
        case_id = f"20250101-{n:06d}-{n:06x}"
        (cases / case_id).mkdir()
        (cases / case_id / "capture.json").write_text("{}")
        record = {"id": case_id, "kind": "offence", "status": "documented", "platform": "facebook",
                  "page_url": "https://www.facebook.com/x", "author": {"name": f"Persona {n}", "profile_url": None},
                  "text": f"commento precompilato numero {n}", "captured_at": "2025-01-01T00:00:00.000Z",
                  "sha256": "0" * 64, "evidence": [], "history": []}
        (records / f"{n}-{case_id}.json").write_text(json.dumps(record))
    (data_dir / "testimone.json").write_text(json.dumps({"settings": {}}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on {port} did not start")


def post(connection: http.client.HTTPConnection, body: bytes, port: int) -> float:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}",
               "Host": f"127.0.0.1:{port}"}
    start = time.perf_counter()
    connection.request("POST", "/api/captures", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    if response.status != 201:
        raise SystemExit(f"unexpected status {response.status}")
    return elapsed * 1000


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def run(size: int, body: bytes, requests: int) -> dict:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        data_dir = Path(folder) / "data"
        prefill(data_dir, size)
        real_port, bare_port = free_port(), free_port()
        env = {**os.environ, "TESTIMONE_DATA_DIR": str(data_dir), "TESTIMONE_PORT": str(real_port),
               "TESTIMONE_TOKEN": TOKEN, "TESTIMONE_TSA_URL": "", "TESTIMONE_WITNESS": "0"}
        real = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port), folder])
        try:
            wait_for(real_port)
            wait_for(bare_port)
            real_conn = http.client.HTTPConnection("127.0.0.1", real_port)
            bare_conn = http.client.HTTPConnection("127.0.0.1", bare_port)
            for _ in range(3):  # warm up both
                post(real_conn, body, real_port)
                post(bare_conn, body, bare_port)
            real_ms, bare_ms = [], []
            for _ in range(requests):
                bare_ms.append(post(bare_conn, body, bare_port))
                real_ms.append(post(real_conn, body, real_port))
        finally:
            real.terminate()
            bare.terminate()
            real.wait()
            bare.wait()
    result = {"stored": size, "real_p50": statistics.median(real_ms), "real_p95": percentile(real_ms, 0.95),
              "bare_p50": statistics.median(bare_ms), "bare_p95": percentile(bare_ms, 0.95)}
    result["ratio_p50"] = result["real_p50"] / result["bare_p50"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--sizes", default="100,10000,100000")
    args = parser.parse_args()
    body = realistic_capture()
    print(f"body: {len(body) / 1024 / 1024:.2f} MiB JSON, {args.requests} requests per server per size\n")
    print("| cases stored | Testimone p50 | p95 | bare Flask p50 | p95 | ratio p50 |")
    print("|---:|---:|---:|---:|---:|---:|")
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(size, body, args.requests)
        results.append(r)
        print(f"| {size:,} | {r['real_p50']:.1f} ms | {r['real_p95']:.1f} ms | {r['bare_p50']:.1f} ms | "
              f"{r['bare_p95']:.1f} ms | {r['ratio_p50']:.2f} |", flush=True)
    if len(results) > 1:
        print(f"\np50 at {results[-1]['stored']:,} cases / p50 at {results[0]['stored']:,} cases: "
              f"{results[-1]['real_p50'] / results[0]['real_p50']:.2f}")


if __name__ == "__main__":
    main()
