"""Fault injection for tests/test_faults.py. Python loads this file at start-up only in the server processes
that test starts (it puts this folder first on PYTHONPATH); production code has no hook of its own.

TESTIMONE_FAULT="<action> <step> [<n>]" acts on the n-th (default 1st) call of one write step of
server/store.py after the store has opened (start-up recovery is not counted):
  action  kill-before | kill-after   SIGKILL this process just before / just after the step
          enospc                     the step fails with "No space left on device"; an append first
                                     writes half of its line, as a disk that fills mid-write does
  step    <function>:<file name pattern>, e.g. _append:journal.jsonl, _append:audit.log, _publish:*,
          _write_new_file:capture.json, _write_new_file:consent-*, _remove:capture.json,
          _atomic_replace:testimone.json, _stage:* (a record file's next version), _replace:*
"""
import os

SPEC = os.environ.get("TESTIMONE_FAULT")

if SPEC:
    import errno
    import fnmatch
    import functools
    import signal

    import server.store as store

    action, step, *rest = SPEC.split()
    function_name, pattern = step.split(":", 1)
    wanted = int(rest[0]) if rest else 1
    state = {"armed": False, "seen": 0}

    def no_space():
        return OSError(errno.ENOSPC, "No space left on device (injected by tests/faults)")

    class HalfWrites:
        """A file whose writes stop halfway and then fail, as on a disk that fills up."""

        def __init__(self, handle):
            self._handle = handle

        def write(self, data):
            self._handle.write(bytes(data[:len(data) // 2]))
            raise no_space()

        def __getattr__(self, name):
            return getattr(self._handle, name)

    def file_name(args) -> str:
        target = args[-1] if function_name == "_publish" else args[0]
        return os.path.basename(getattr(target, "name", str(target)))

    def wrap(original):
        @functools.wraps(original)
        def step_with_fault(*args, **kwargs):
            if not (state["armed"] and fnmatch.fnmatch(file_name(args), pattern)):
                return original(*args, **kwargs)
            state["seen"] += 1
            if state["seen"] != wanted:
                return original(*args, **kwargs)
            if action == "kill-before":
                os.kill(os.getpid(), signal.SIGKILL)
            if action == "enospc":
                if function_name == "_append":
                    return original(HalfWrites(args[0]), *args[1:], **kwargs)
                raise no_space()
            result = original(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
            return result
        return step_with_fault

    setattr(store, function_name, wrap(getattr(store, function_name)))
    opened = store.Store.__init__

    def open_then_arm(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        state["armed"] = True

    store.Store.__init__ = open_then_arm
