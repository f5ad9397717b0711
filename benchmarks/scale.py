"""Scale benchmark: what reads many cases, at 1,000 / 10,000 / 100,000 stored cases, side by side.

The data directory is filled by Testimone's own code (the app in this process, `POST /api/captures`
through Flask's test client), so every case has a real record, a real `capture.json` and real evidence
files, whatever the store's format is today. Only `os.fsync` is switched off while filling: durability
is not what this benchmark measures, and 100,000 fsynced captures would take an hour. A filled
directory is kept under `benchmarks/.cache/` (keyed by size, the store's LAYOUT and the hash of the code that shapes a stored case) and
copied for each run, so only the first run at a size pays for it.

The workload (fixed seed): a third testimonials, offences spread over every category and platform,
texts from a list of common words with one rare word in about 1 case in 5,000 (1 match at 1,000 cases, 20
at 100,000) and one "needle" in the same 3 cases at every size (a name: the same answer at every size),
posting dates (and so
open civil-damages deadlines) spread over five years.

Then the real server (`python -m server serve`, waitress) starts on a copy, and beside it a bare Flask
app on waitress that answers a page of 50 summaries from memory. The two are queried alternately so
they see the same machine noise. Reported per size:

  startup    seconds from process start to the first answered list page
  list       GET /api/captures?limit=50 (page 1), and a far page: up to page 1,000 (cursor walked beforehand)
  kind=      GET /api/captures?kind=offence;  q= common / rare word / needle
  dashboard  GET / (the case list page), when the server lets this benchmark in without a login
  ics first  GET /api/deadlines.ics, the first time ever in this data directory: every event written
             (once: they are kept in the case index; size of the answer too)
  ics        the same right after a write (a new offence captured through the API each time): the
             feed as calendar apps get it after each change
  ics kept   the same, polled again with nothing changed (the kept feed)
  rss        the server's resident memory after all of the above and 8 clients polling the feed 5 times each
  bare       the bare endpoint's p50, for the ratios

    .venv/bin/python benchmarks/scale.py [--sizes 1000,10000,100000] [--requests 30] [--runs 3]
"""
import argparse
import base64
import functools
import hashlib
import http.client
import inspect
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
TOKEN = "benchmark-token-0123456789"
COMMON = ("servizio cena pizza camerieri conto prenotazione tavolo dolce vino menu attesa cucina prezzo "
          "gentile lento sporco buono pessimo ottimo personale parcheggio terrazza pesce carne").split()
RARE = "zafferanoviola"
NEEDLE = "ermenegildo"
NEEDLE_CASES = (17, 517, 917)
CATEGORIES = ["insult", "defamation", "threat_or_blackmail", "fake_review", "harassment", "other"]
PLATFORMS = {"facebook": "https://www.facebook.com/trattoria.demo/posts/pfbid0Demo{n}?comment_id={n}",
             "tripadvisor": "https://www.tripadvisor.it/ShowUserReviews-g1-d2-r{n}-Trattoria_Demo.html",
             "other": "https://forum.example.org/thread/{n}#post-{n}"}
BARE_APP = textwrap.dedent("""
    import json, sys, waitress
    from flask import Flask
    page = json.loads(sys.argv[2])
    app = Flask("bare")
    @app.get("/api/captures")
    def captures():
        return {"items": page, "next_cursor": "x"}
    waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, _quiet=True)
""")


def tiny_png(rng: random.Random) -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), tuple(rng.randrange(256) for _ in range(3))).save(buffer, "PNG")
    return buffer.getvalue()


def capture_body(n: int, rng: random.Random, today) -> dict:
    """One capture with the fields and sizes the extension sends (invented people and texts)."""
    from datetime import timedelta
    kind = "testimonial" if n % 3 == 0 else "offence"
    platform = list(PLATFORMS)[n % len(PLATFORMS)]
    words = [rng.choice(COMMON) for _ in range(rng.randrange(25, 90))]
    if n % 5000 == 17:
        words.insert(rng.randrange(len(words)), RARE)
    if n in NEEDLE_CASES:
        words.insert(rng.randrange(len(words)), NEEDLE)
    posted = today - timedelta(days=rng.randrange(1, 5 * 365))
    url = PLATFORMS[platform].format(n=n)
    html = "<div role='article' aria-label='Commento di Persona {n}'>" + " ".join(words) + "</div>"
    mhtml = (b"From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n"
             b"\tboundary=\"----B----\"\r\n\r\n------B----\r\nContent-Type: text/html\r\n\r\n"
             + html.encode() * 4 + b"\r\n------B------\r\n")
    body = {
        "kind": kind, "platform": platform, "page_url": url.split("?")[0], "permalink": url,
        "author": {"name": f"Persona Inventata {n}", "profile_url": f"https://www.facebook.com/persona.{n}"},
        "text": " ".join(words).capitalize() + ".",
        "posted_at": posted.isoformat() + "T12:00:00+01:00", "posted_at_text": posted.strftime("%d/%m/%Y"),
        "comment_html": html.format(n=n) * 3,
        "screenshot": {"media_type": "image/png", "data": base64.b64encode(tiny_png(rng)).decode(),
                       "rect": {"x": 10, "y": 20, "width": 300, "height": 120}},
        "page_snapshot": {"media_type": "multipart/related", "data": base64.b64encode(mhtml).decode()},
        "context": {"timezone": "Europe/Rome", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0",
                    "extension_version": "0.1.0", "server_ip": "157.240.0.35", "language": "it"},
    }
    if platform == "tripadvisor":
        body["rating"] = 1 + n % 5
    if kind == "testimonial":
        body["testimonial"] = {"purposes": ["website", "social"], "photo": bool(n % 2)}
    else:
        known = min(today, posted + timedelta(days=rng.randrange(0, 20)))  # learnt of soon after the post
        body["offence"] = {"category": CATEGORIES[n % len(CATEGORIES)], "known_since": known.isoformat(),
                           "notes": "Nota inventata per il benchmark."}
    return body


@functools.cache  # once per run: a file edited while a run goes on must not start a second fill
def source_hash() -> str:
    digest = hashlib.sha256()
    # The workload, the store's layout and the code that decides what a stored case holds (not the documents,
    # strings, dashboard, deadlines, index...: a change there must not cost a new fill of 100,000 cases; the
    # case index is derived and rebuilt by the server when its layout changed).
    sys.path.insert(0, str(ROOT))
    from server import store
    shaping = [ROOT / "server" / "api" / "captures.py", ROOT / "server" / "services" / "cases.py",
               ROOT / "server" / "domain" / "schemas.py", ROOT / "server" / "domain" / "kinds.py",
               ROOT / "server" / "domain" / "integrity.py"]
    digest.update(f"layout {store.LAYOUT}".encode())
    # Of this file, the workload only (editing how it measures must not cost a new fill either).
    digest.update("".join(inspect.getsource(part) for part in (capture_body, fill, tiny_png)).encode())
    digest.update(json.dumps([COMMON, RARE, NEEDLE, NEEDLE_CASES, CATEGORIES, PLATFORMS]).encode())
    for path in sorted(shaping):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def create_app(config: dict):
    sys.path.insert(0, str(ROOT))
    from server import create_app
    return create_app(config)


def fill(data_dir: Path, count: int) -> None:
    """`count` captures written by Testimone's own code into `data_dir` (fsync off, see above)."""
    from datetime import date
    real_fsync, os.fsync = os.fsync, lambda fd: None
    try:
        app = create_app({"DATA_DIR": str(data_dir), "TOKEN": TOKEN, "TESTING": True, "BACKGROUND": False,
                          "TSA_URL": "", "WITNESS": False, "RENDER_WORKERS": 0})
        client = app.test_client()
        headers = {"Authorization": f"Bearer {TOKEN}", "Host": "127.0.0.1:8765"}
        rng, today, started = random.Random(20261201), date.today(), time.monotonic()
        for n in range(1, count + 1):
            answer = client.post("/api/captures", json=capture_body(n, rng, today), headers=headers,
                                 base_url="http://127.0.0.1:8765")
            if answer.status_code != 201:
                raise SystemExit(f"fill: capture {n} answered {answer.status_code}: {answer.get_data(as_text=True)}")
            if n % 5000 == 0:
                print(f"  filled {n:,} of {count:,} ({time.monotonic() - started:.0f} s)", flush=True)
        close(app)
        close(create_app({"DATA_DIR": str(data_dir), "TOKEN": TOKEN, "BACKGROUND": False, "TSA_URL": "",
                          "WITNESS": False, "RENDER_WORKERS": 0}))
    finally:  # the second opening absorbed the journal into the snapshot, as a restart does
        os.fsync = real_fsync


def close(app) -> None:
    app.extensions["testimone.store"].close()


def prepared(count: int) -> Path:
    folder = CACHE / f"{count}-{source_hash()}"
    if not (folder / "complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"filling {count:,} cases into {folder} (once per size and server version)", flush=True)
        fill(folder / "data", count)
        (folder / "complete").touch()
    # A filled directory kept from an earlier version of the store or the index is opened once by this
    # version, as the first start after an upgrade does (the index gains what it lacks): the runs measure
    # the starts that come after, not the upgrade.
    opened_by = hashlib.sha256(b"".join((ROOT / "server" / name).read_bytes()
                                        for name in ("store.py", "case_index.py"))).hexdigest()[:12]
    if not (folder / f"opened-{opened_by}").exists():
        print(f"opening {folder} once with this version of the store", flush=True)
        close(create_app({"DATA_DIR": str(folder / "data"), "TOKEN": TOKEN, "BACKGROUND": False, "TSA_URL": "",
                          "WITNESS": False, "RENDER_WORKERS": 0}))
        for old in folder.glob("opened-*"):
            old.unlink()
        (folder / f"opened-{opened_by}").touch()
    return folder / "data"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Client:
    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    cookie = None  # the dashboard's session, once logged in

    def get(self, path: str) -> tuple[int, bytes, float]:
        headers = {"Authorization": f"Bearer {TOKEN}", "Host": f"127.0.0.1:{self.port}"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        start = time.perf_counter()
        self.connection.request("GET", path, headers=headers)
        response = self.connection.getresponse()
        body = response.read()
        if response.getheader("Set-Cookie"):
            self.cookie = response.getheader("Set-Cookie").split(";")[0]
        return response.status, body, (time.perf_counter() - start) * 1000


def wait_until_listed(port: int, started: float) -> float:
    while time.monotonic() - started < 900:
        try:
            status, _, _ = Client(port).get("/api/captures?limit=50")
            if status == 200:
                return time.monotonic() - started
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"server on {port} did not answer a list page")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def p50(client: Client, path: str, requests: int) -> float | None:
    """Median of `requests` answers, or of at least 3 when they take more than 20 s together."""
    times = []
    while len(times) < requests and (len(times) < 3 or sum(times) < 20_000):
        status, _, elapsed = client.get(path)
        if status != 200:
            return None
        times.append(elapsed)
    return statistics.median(times)


def feed_after_writes(client: Client, count: int, requests: int) -> float:
    """p50 of the feed's build right after a write: each time a new offence (its complaint deadline falls
    within the feed's year) is captured through the API, then the feed is asked for."""
    from datetime import date
    rng, times = random.Random(count), []
    for n in range(requests):
        body = capture_body(3 * (count + n) + 1, rng, date.today())  # never a multiple of 3: an offence
        body["offence"]["known_since"] = date.today().isoformat()
        client.connection.request("POST", "/api/captures", body=json.dumps(body), headers={
            "Authorization": f"Bearer {TOKEN}", "Host": f"127.0.0.1:{client.port}", "Content-Type": "application/json"})
        answer = client.connection.getresponse()
        answer.read()
        if answer.status != 201:
            raise SystemExit(f"a capture during the feed benchmark answered {answer.status}")
        status, _, elapsed = client.get("/api/deadlines.ics")
        times.append(elapsed)
    return statistics.median(times)


def measure(count: int, requests: int, work: Path) -> dict:
    source = prepared(count)
    data_dir = work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir()
    for path in source.iterdir():  # evidence is write-once: hard links are safe and quick; the rest is copied
        if path.is_dir():
            subprocess.run(["cp", "-al", str(path), str(data_dir / path.name)], check=True)
        else:
            shutil.copy2(path, data_dir / path.name)
    # The copy leaves hundreds of thousands of metadata changes to write back; the server's first fsync at
    # start would wait for them (1.0 → 2.5 s at 100,000): write them now, outside the measured start.
    os.sync()
    port, bare_port = free_port(), free_port()
    env = {**os.environ, "TESTIMONE_DATA_DIR": str(data_dir), "TESTIMONE_PORT": str(port),
           "TESTIMONE_TOKEN": TOKEN, "TESTIMONE_TSA_URL": "", "TESTIMONE_WITNESS": "0",
           "TESTIMONE_NTP_SERVER": ""}
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare = None
    try:
        result = {"cases": count, "startup_s": wait_until_listed(port, started)}
        real = Client(port)
        _, first_page, _ = real.get("/api/captures?limit=50")
        bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port),
                                 json.dumps(json.loads(first_page)["items"])])
        wait_until_listed(bare_port, time.monotonic())
        bare_client = Client(bare_port)
        cursor, pages = None, 1
        while pages < min(1000, count // 50):
            _, body, _ = real.get("/api/captures?limit=50" + (f"&cursor={quote(cursor)}" if cursor else ""))
            cursor = json.loads(body)["next_cursor"]
            pages += 1
        result["far page"] = pages
        paths = {"list": "/api/captures?limit=50",
                 "list far page": "/api/captures?limit=50" + (f"&cursor={quote(cursor)}" if cursor else ""),
                 "kind=offence": "/api/captures?limit=50&kind=offence",
                 "q common": "/api/captures?limit=50&q=pizza",
                 "q rare": f"/api/captures?limit=50&q={RARE}",
                 "q needle": f"/api/captures?limit=50&q={NEEDLE}"}
        for name, path in paths.items():  # alternate with the bare endpoint: same noise for both
            result[name] = p50(real, path, requests)
            result.setdefault("bare", []).append(p50(bare_client, "/api/captures", requests))
        result["bare"] = statistics.median(result["bare"])
        sys.path.insert(0, str(ROOT))
        from server import security
        real.get(f"/login?key={security.new_login_key(data_dir)}")  # what the link `make run` prints does
        result["dashboard"] = p50(real, "/", max(3, requests // 5))
        status, ics, elapsed = real.get("/api/deadlines.ics")  # the first build ever in this data directory
        result["ics first"], result["ics_kib"] = (elapsed, len(ics) / 1024) if status == 200 else (None, None)
        result["ics"] = feed_after_writes(real, count, requests)
        result["ics kept"] = p50(real, "/api/deadlines.ics", requests)  # polled again, nothing changed
        polls = [threading.Thread(target=lambda: [Client(port).get("/api/deadlines.ics") for _ in range(5)])
                 for _ in range(8)]  # calendar apps polling together
        for poll in polls:
            poll.start()
        for poll in polls:
            poll.join()
        result["rss_mib"] = rss_mib(server.pid)
        return result
    finally:
        for process in (server, bare):
            if process:
                process.terminate()
                process.wait()


def median_of(runs: list[dict]) -> dict:
    merged = {}
    for key in runs[0]:
        values = [run[key] for run in runs if run.get(key) is not None]
        merged[key] = statistics.median(values) if values else None
    return merged


def show(value, unit="ms") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.1f} {unit}" if unit != "s" else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    work = CACHE / "work"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in sizes:
        prepared(size)
    for size in sizes:
        runs = [measure(size, args.requests, work) for _ in range(args.runs)]
        rows.append(median_of(runs))
        print(json.dumps(rows[-1]), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    keys = [key for key in rows[0] if key not in ("cases", "bare", "ics_kib", "far page")]
    print(f"\nmedian of {args.runs} runs, p50 of {args.requests} requests each; the far page is page "
          f"{rows[-1]['far page']:.0f} (of 50)\n")
    print("| " + " | ".join(["cases"] + keys + ["bare", "ics size"]) + " |")
    print("|" + "---:|" * (len(keys) + 3))
    for row in rows:
        cells = [f"{row['cases']:,}"]
        cells += [show(row[k], "s" if k == "startup_s" else "MiB" if k == "rss_mib" else "ms") for k in keys]
        cells += [show(row["bare"]), show(row["ics_kib"], "KiB")]
        print("| " + " | ".join(cells) + " |")
    first, last = rows[0], rows[-1]
    print(f"\ngrowth {last['cases']:,} / {first['cases']:,}:")
    for key in ("list", "kind=offence", "q common", "q rare", "q needle"):
        if first[key] and last[key]:
            print(f"  {key}: {last[key] / first[key]:.2f}x (target <= 1.5), "
                  f"{last[key] / last['bare']:.1f}x the bare endpoint")


if __name__ == "__main__":
    main()
