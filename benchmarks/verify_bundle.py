"""Verify (full vs incremental) and one case's bundle with a big audit log (read at offsets vs the whole log).

The cases are the scale benchmark's (benchmarks/scale.py: realistic records, real capture.json and evidence
files, written by Testimone's own code and cached under benchmarks/.cache/). A copy of them gets extra audit
lines spread over random cases (written through the store, fsync off) until the log holds --audit-lines.
Then, side by side in one process, alternating, median of --runs:

  verify full         every file hashed, the whole chain walked (what `testimone verify` did before)
  verify incremental  the default now: only files whose size/mtime changed (none here), the chain's new lines
  audit_lines(case)   one case's lines: the whole log parsed (before; the store's fallback) vs read at offsets
  bundle              evidence.bundle(case) through the app, its PDFs already cached (the download path),
                      with the audit-line index switched off (before) and on (after)

    .venv/bin/python benchmarks/verify_bundle.py [--cases 1000] [--audit-lines 100000] [--runs 5]
"""
import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import scale  # noqa: E402  (the realistic cases and their cache)
from server import create_app  # noqa: E402
from server.services import evidence  # noqa: E402
from server.services.verify import verify  # noqa: E402
from server.store import Store, StoreView  # noqa: E402

CONFIG = {"TOKEN": scale.TOKEN, "TESTING": True, "BACKGROUND": False, "TSA_URL": "", "WITNESS": False,
          "RENDER_WORKERS": 0}


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def grow_audit_log(data_dir: Path, lines: int) -> int:
    ids = [case_id for case_id, _ in StoreView(data_dir).iter_records()]
    store = Store(data_dir)
    real_fsync, os.fsync = os.fsync, lambda fd: None
    try:
        rng = random.Random(13)
        for _ in range(max(0, lines - store.audit_head()[0])):
            store.audit("document.downloaded", rng.choice(ids), document="incident-report", lang="it")
        return store.audit_head()[0]
    finally:
        os.fsync = real_fsync
        store.close()


def side_by_side(runs: int, **variants) -> dict:
    """{name: median seconds}, the variants run alternately."""
    times = {name: [] for name in variants}
    for _ in range(runs):
        for name, function in variants.items():
            times[name].append(timed(function))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--audit-lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="testimone-verify-bench-") as work:
        data_dir = Path(work) / "data"
        shutil.copytree(scale.prepared(args.cases), data_dir)
        total_lines = grow_audit_log(data_dir, args.audit_lines)
        size = (data_dir / "audit.log").stat().st_size
        print(f"{args.cases:,} cases, audit.log {total_lines:,} lines ({size / 2**20:.1f} MiB), "
              f"median of {args.runs} runs, side by side\n")

        first = verify(data_dir, mode="full")
        assert first["ok"], first["problems"][:5]
        reports = {}

        def run(mode):
            reports[mode] = verify(data_dir, mode=mode)

        result = side_by_side(args.runs, full=lambda: run("full"), incremental=lambda: run("incremental"))
        for mode in ("full", "incremental"):
            assert reports[mode]["ok"]
            print(f"verify {mode:<12} {result[mode]:8.3f} s   files hashed {reports[mode]['hashed']['files']:,} of "
                  f"{reports[mode]['checked']['files']:,}, audit lines walked {reports[mode]['hashed']['audit_lines']:,}")
        print(f"  ratio full / incremental: {result['full'] / result['incremental']:.1f}\n")

        app = create_app({**CONFIG, "DATA_DIR": str(data_dir)})
        store = app.extensions["testimone.store"]
        try:
            case_id = store.list(limit=1)[0][0]["id"]
            indexed = Store._audit_index

            def whole_log(function):  # the store without its audit-line index: the code before this change
                def run_without_index():
                    Store._audit_index = lambda self: None
                    try:
                        function()
                    finally:
                        Store._audit_index = indexed
                return run_without_index

            expected = []
            whole_log(lambda: expected.extend(store.audit_lines(case_id)))()
            assert expected and store.audit_lines(case_id) == expected  # the same lines either way
            lines = side_by_side(args.runs, before=whole_log(lambda: store.audit_lines(case_id)),
                                 after=lambda: store.audit_lines(case_id))
            print(f"audit_lines(one case)  whole log {lines['before'] * 1000:8.1f} ms   at offsets "
                  f"{lines['after'] * 1000:8.2f} ms   ratio {lines['before'] / lines['after']:.0f}   "
                  f"({len(expected)} lines of this case)")
            with app.app_context():
                build = lambda: evidence.bundle(store, case_id, audit=False)  # noqa: E731
                build()  # renders and caches the PDFs once, as the first download does
                bundle = side_by_side(args.runs, before=whole_log(build), after=build)
            print(f"bundle(one case)       whole log {bundle['before'] * 1000:8.1f} ms   at offsets "
                  f"{bundle['after'] * 1000:8.1f} ms   ratio {bundle['before'] / bundle['after']:.1f}")
        finally:
            store.close()


if __name__ == "__main__":
    main()
