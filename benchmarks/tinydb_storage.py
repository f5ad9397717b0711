"""Why the store journals (docs/decisions/0001): the cost of one insert and one read with TinyDB's
default JSONStorage versus Testimone's store, with N records already stored, measured side by side.

    .venv/bin/python benchmarks/tinydb_storage.py [--sizes 100,10000,100000]
"""
import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from tinydb import Query, TinyDB

from server.store import Store


def record(n: int) -> dict:
    return {"id": f"20250101-{n:06d}-{n:06x}", "kind": "offence", "status": "documented", "platform": "facebook",
            "page_url": "https://www.facebook.com/trattoria.demo/posts/pfbid0Demo",
            "author": {"name": f"Persona Inventata {n}", "profile_url": None},
            "text": f"commento precompilato numero {n} " * 8, "captured_at": "2025-01-01T00:00:00.000Z",
            "sha256": "0" * 64, "evidence": [], "history": []}


def timed(action, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,10000,100000")
    args = parser.parse_args()
    print("| records | JSONStorage insert | Store update (journal+fsync) | JSONStorage get | Store get |")
    print("|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            table = {str(n): record(n) for n in range(1, size + 1)}
            (base / "plain.json").write_text(json.dumps({"cases": table}))
            (base / "store").mkdir()
            (base / "store" / "testimone.json").write_text(json.dumps({"cases": table}))
            plain = TinyDB(base / "plain.json").table("cases")
            store = Store(base / "store")
            counter = iter(range(size + 1, size + 10**6))
            repeat = 5 if size >= 100_000 else 20
            plain_insert = timed(lambda: plain.insert(record(next(counter))), repeat)
            store_update = timed(lambda: store.update(record(7)["id"], lambda r: r.update(status="x"), "bench"),
                                 repeat)
            plain_get = timed(lambda: plain.get(Query().id == record(7)["id"]), repeat)
            store_get = timed(lambda: store.get(record(7)["id"]), repeat)
            store.close()
            print(f"| {size:,} | {plain_insert:.2f} ms | {store_update:.2f} ms | {plain_get:.2f} ms | "
                  f"{store_get:.3f} ms |", flush=True)


if __name__ == "__main__":
    main()
