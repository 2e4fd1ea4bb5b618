# Yardstick's runner for one candidate program of a code benchmark, inside the sandbox. It reproduces the
# observable behaviour of HF evaluate's `code_eval` metric (which lm-eval's humaneval and mbpp use), so that a
# program passes here exactly when it passes there:
#   * the program text is executed with `exec` in a fresh, empty globals dict (so `__name__` is not
#     "__main__" and a main block does not run);
#   * print output is swallowed, reading stdin fails, and a wall-clock alarm of TIMEOUT seconds raises;
#   * before it runs, the process-management and file-destroying functions code_eval disables are set to
#     None, `exit`/`quit`/`help` are removed, and a few modules are made unimportable;
#   * the verdict is "passed", "timed out" or "failed: <str(exception)>" — any BaseException counts, so
#     `sys.exit(0)` fails, and a program that ends the process itself leaves no verdict ("timed out" there).
# The verdict goes to the original stdout as one JSON line carrying a nonce read from stdin first, so that the
# program's own output can neither hide nor forge it.
# argv: PROGRAM_FILE TIMEOUT_SECONDS
import contextlib
import io
import json
import os
import signal
import sys


def main():
    nonce = sys.stdin.readline().strip()
    path, timeout = sys.argv[1], float(sys.argv[2])
    with open(path, encoding="utf-8") as f:
        program = f.read()
    out = os.fdopen(os.dup(1), "w")
    verdict = run(program, timeout)
    out.write(json.dumps({"nonce": nonce, "result": verdict}) + "\n")
    out.flush()
    os._exit(0)


class _TimedOut(Exception):
    pass


class _Sink(io.StringIO):
    # Accepts writes, refuses reads (input() and sys.stdin.read() raise OSError).
    def read(self, *args, **kwargs):
        raise OSError

    def readline(self, *args, **kwargs):
        raise OSError

    def readlines(self, *args, **kwargs):
        raise OSError

    def readable(self, *args, **kwargs):
        return False


class _StdinTo(contextlib._RedirectStream):
    _stream = "stdin"


def _on_alarm(signum, frame):
    raise _TimedOut("Timed out!")


# What code_eval's guard takes away (facts of its behaviour, listed by name).
_OS_DISABLED = (
    "kill system putenv remove removedirs rmdir fchdir setuid fork forkpty killpg rename renames truncate "
    "replace unlink fchmod fchown chmod chown chroot lchflags lchmod lchown getcwd chdir"
).split()
_SHUTIL_DISABLED = ("rmtree", "move", "chown")
_MODULES_BLOCKED = ("ipdb", "joblib", "resource", "psutil", "tkinter")


def _guard():
    import builtins
    import faulthandler
    import shutil
    import subprocess

    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in _OS_DISABLED:
        setattr(os, name, None)
    for name in _SHUTIL_DISABLED:
        setattr(shutil, name, None)
    subprocess.Popen = None
    builtins.help = None
    for name in _MODULES_BLOCKED:
        sys.modules[name] = None


def run(program, timeout):
    import tempfile

    work = tempfile.mkdtemp()
    os.chdir(work)
    _guard()
    try:
        sink = _Sink()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _StdinTo(sink):
            signal.setitimer(signal.ITIMER_REAL, timeout)
            signal.signal(signal.SIGALRM, _on_alarm)
            try:
                exec(program, {})
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        return "passed"
    except _TimedOut:
        return "timed out"
    except BaseException as e:  # noqa: B036 — code_eval counts every exception, SystemExit included
        return "failed: " + str(e)


if __name__ == "__main__":
    main()
