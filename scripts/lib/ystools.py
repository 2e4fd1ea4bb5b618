"""Helpers shared by the Python scripts (parity-lm-eval, bench-mmlu, …): where the repository, the cache and the
shared data are, the peers' environment (~/.cache/yardstick/peers.env), re-executing under the peers' Python,
logging, command formatting, free ports and log tails.

A script imports it with:

    sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
    import ystools
"""
import os
import shlex
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
CACHE = Path(os.environ.get("YARDSTICK_CACHE") or Path.home() / ".cache" / "yardstick")


def peers_env(name):
    """`$name`, else its `export name=…` line in the cache's peers.env (written by scripts/setup-peers)."""
    v = os.environ.get(name)
    if not v and (CACHE / "peers.env").is_file():
        for line in (CACHE / "peers.env").read_text().splitlines():
            line = line.strip()
            if line.startswith(f"export {name}="):
                v = line.split("=", 1)[1].strip().strip("'\"")
    return v


def reexec_with_peer_python(prog, script):
    """Run `script` again under the peers' Python (lm-eval's virtualenv) unless already there."""
    flag = "_YS_REEXEC_" + prog.upper().replace("-", "_")
    if os.environ.get(flag) == "1":
        return
    py = peers_env("YARDSTICK_PEER_PYTHON")
    if not py or not os.access(py, os.X_OK):
        sys.exit(f"{prog}: no peer python: set YARDSTICK_PEER_PYTHON or run scripts/setup-peers "
                 f"(it writes {CACHE / 'peers.env'})")
    if Path(sys.prefix).resolve() == Path(py).parent.parent.resolve():
        return
    os.environ[flag] = "1"
    os.environ["YARDSTICK_PEER_PYTHON"] = py
    os.execv(py, [py, str(Path(script).resolve())] + sys.argv[1:])


def shared_data() -> Path:
    """`$YARDSTICK_SHARED_DATA`, else `$YARDSTICK_SHARED/data`, else `../shared/data` beside the repository."""
    if os.environ.get("YARDSTICK_SHARED_DATA"):
        return Path(os.environ["YARDSTICK_SHARED_DATA"])
    if os.environ.get("YARDSTICK_SHARED"):
        return Path(os.environ["YARDSTICK_SHARED"]) / "data"
    return REPO.parent / "shared" / "data"


def logger(prog):
    """A `log(msg)` that prints `[prog] msg` on stderr."""
    def log(msg):
        print(f"[{prog}] {msg}", file=sys.stderr, flush=True)
    return log


def fmt_cmd(cmd):
    return " ".join(shlex.quote(str(c)) for c in cmd)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(p: Path, n=40) -> str:
    """The last `n` lines of a log; a tqdm bar (one long \\r-separated line) keeps its last state only."""
    try:
        lines = p.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(ln.rsplit("\r", 1)[-1] for ln in lines[-n:])
