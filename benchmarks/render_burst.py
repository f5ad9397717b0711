"""Health latency during a burst of PDF requests: `python benchmarks/render_burst.py [--pdfs 20]`.

Starts the real server (`python -m server serve`) twice, side by side in one run: with the render pool
(PDFs in worker processes, bounded queue, 503 + Retry-After when full; the default) and with
TESTIMONE_RENDER_WORKERS=0 (every render in a request thread, one at a time: how it was before). In each:
`--pdfs` offence cases are stored, then as many clients ask for their incident report at once (a client
told 503 waits Retry-After seconds and asks again) while GET /api/health is asked every 50 ms, each on its
own connection whether or not the previous one was answered (so a stalled server shows as slow answers,
not as fewer questions).
Reported: health latency p50/p95/max during the burst (target p95 ≤ 100 ms), how long until every PDF
was delivered, how many 503s were answered, and peak memory (RSS) of the server process and, apart,
of its child processes (the render workers and multiprocessing's small resource tracker).
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import make_capture  # noqa: E402

TOKEN = "benchmark-token-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url: str, body=None, timeout=300):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            pass
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(label: str, workers: int, pdfs: int) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "TESTIMONE_DATA_DIR": data, "TESTIMONE_PORT": str(port), "TESTIMONE_TOKEN": TOKEN,
               "TESTIMONE_TSA_URL": "", "TESTIMONE_WITNESS": "0", "TESTIMONE_RENDER_WORKERS": str(workers)}
        server = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    if call(f"{base}/api/health", timeout=1)[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            ids = [json.loads(call(f"{base}/api/captures", make_capture())[2])["id"] for _ in range(pdfs)]
            # Warm-up, as a running server is: the workers have started and rendered once.
            call(f"{base}/api/captures/{ids[0]}/removal-demand.pdf")
            latencies, busy, done = [], [0], threading.Event()
            peak = {"server": 0.0, "workers": 0.0}

            def probe():
                start = time.perf_counter()
                call(f"{base}/api/health", timeout=120)
                latencies.append(time.perf_counter() - start)

            def watch():
                probes = []
                while not done.is_set():
                    probes.append(threading.Thread(target=probe))
                    probes[-1].start()
                    peak["server"] = max(peak["server"], rss_mb(server.pid))
                    peak["workers"] = max(peak["workers"], sum(rss_mb(child) for child in children(server.pid)))
                    time.sleep(0.05)
                for thread in probes:
                    thread.join()

            def fetch(case_id):
                while True:
                    status, headers, body = call(f"{base}/api/captures/{case_id}/document.pdf")
                    if status != 503:
                        assert status == 200 and body.startswith(b"%PDF-"), (status, body[:200])
                        return
                    busy[0] += 1
                    time.sleep(int(headers["Retry-After"]))

            watcher = threading.Thread(target=watch)
            watcher.start()
            start = time.perf_counter()
            clients = [threading.Thread(target=fetch, args=(case_id,)) for case_id in ids]
            for client in clients:
                client.start()
            for client in clients:
                client.join()
            burst = time.perf_counter() - start
            done.set()
            watcher.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"label": label, "p50": percentile(latencies, 0.5) * 1000, "p95": percentile(latencies, 0.95) * 1000,
            "max": max(latencies) * 1000, "samples": len(latencies), "burst": burst, "busy": busy[0], **peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdfs", type=int, default=20)
    arguments = parser.parse_args()
    results = [run("render pool (2 workers, queue 4)", 2, arguments.pdfs),
               run("in request threads (before)", 0, arguments.pdfs)]
    print(f"{arguments.pdfs} incident reports requested at once, health asked every 50 ms "
          f"({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs)")
    print("| mode | health p50 | health p95 | health max | samples | all PDFs delivered | 503s "
          "| server RSS | render processes RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['label']} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['max']:.1f} ms | {r['samples']} "
              f"| {r['burst']:.1f} s | {r['busy']} | {r['server']:.0f} MB | {r['workers']:.0f} MB |")
    print(f"health p95 ratio, before / pool: {results[1]['p95'] / results[0]['p95']:.1f}")


if __name__ == "__main__":
    main()
