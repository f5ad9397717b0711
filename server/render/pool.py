"""PDFs are rendered and signed outside the request threads, in one or two worker processes.

WeasyPrint and pyHanko are CPU-bound Python (about 1.3 s and 0.8 s per incident report): run in a
request thread they hold the interpreter lock, and with one render at a time every waiting request held
a waitress thread, so a burst of PDF requests stalled the whole server (health took 11 s). Here each
step runs in a worker process at a lower CPU priority; the request thread only waits for it, without the
lock. At most `workers + queue` steps are admitted at once (fewer than the server's threads, so health,
captures and the dashboard always find a free thread); one more is refused with RenderBusy (the API
answers 503 with Retry-After).

Without a configured pool (the command line, tests of the renderer) the steps run in-process.
"""
import atexit
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

RETRY_AFTER_SECONDS = 5
WORKER_NICENESS = 10


class RenderBusy(Exception):
    """Every render slot is taken: try again in RETRY_AFTER_SECONDS."""

    retry_after = RETRY_AFTER_SECONDS


def _orphaned_exit(server_pid: int) -> None:
    while os.getppid() == server_pid:
        time.sleep(1)
    os._exit(0)  # the server is gone (even killed): so is its worker


def _warm() -> None:
    """Yield the CPU to the server (health, captures, the dashboard come first), end with the server, and
    load WeasyPrint and the fonts when a worker starts, not on the first PDF it renders."""
    os.nice(WORKER_NICENESS)
    threading.Thread(target=_orphaned_exit, args=(os.getppid(),), daemon=True).start()
    from . import pdf

    pdf.write_pdf("<p>Testimone</p>")


class RenderPool:
    def __init__(self, workers: int, queue: int):
        self.workers = workers
        self.capacity = workers + queue
        self._slots = threading.BoundedSemaphore(self.capacity)
        self._lock = threading.Lock()
        self.running = 0
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the server has threads (waitress, background), a fork would copy their locks.
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_warm)
        return self._executor

    def run(self, function, *args):
        """`function(*args)` in a worker (both must pickle; `function` importable there), or RenderBusy."""
        if not self._slots.acquire(blocking=False):
            raise RenderBusy()
        try:
            with self._lock:
                self.running += 1
                try:
                    future = self._pool().submit(function, *args)
                except BrokenProcessPool:  # a worker died (out of memory?): start afresh
                    self._executor = None
                    future = self._pool().submit(function, *args)
            return future.result()
        finally:
            with self._lock:
                self.running -= 1
            self._slots.release()

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (for the benchmark's memory report)."""
        return [process.pid for process in (self._executor._processes or {}).values()] if self._executor else []

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


_pool: RenderPool | None = None


def configure(workers: int, queue: int) -> None:
    """One pool per server process, shared by its apps; 0 workers: render in-process."""
    global _pool
    if _pool is not None:
        _pool.shutdown()
    _pool = RenderPool(workers, queue) if workers > 0 else None


def current() -> RenderPool | None:
    return _pool


def run(function, *args):
    """In a worker when the server has a pool, else here."""
    return _pool.run(function, *args) if _pool is not None else function(*args)


atexit.register(lambda: _pool and _pool.shutdown())
