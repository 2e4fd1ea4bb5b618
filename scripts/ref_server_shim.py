#!/usr/bin/env python3
"""ref_server.py with a request log: runs shared/tools/ref_server.py unchanged, after wrapping the HTTP handler
so that every request is appended, as it arrives, to a JSON-lines log:

  {"t": <unix time, float>, "method": "POST", "path": "/v1/completions", "bytes": N[, "body": "<raw body>"]}

"t" is taken when the request line and headers have been parsed (before the body is read and before the
server's model lock), so it is the arrival time of the request at the server. Used by scripts/bench-mmlu for
launch-to-first-request and to capture the exact request bodies each harness sends.

  YARDSTICK_REQUEST_LOG=/path/log.jsonl [YARDSTICK_REQUEST_LOG_BODIES=1] \\
  YARDSTICK_REF_SERVER=scripts/ref_server_logged.py scripts/serve-ref MODEL PORT ...

The real server script: $YARDSTICK_REF_SERVER_REAL, else $YARDSTICK_SHARED/tools/ref_server.py, else
<repo>/../shared/tools/ref_server.py. Arguments are passed to it unchanged. Cost per request: one os.write.
"""
import http.server
import json
import os
import runpy
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def real_server() -> Path:
    if os.environ.get("YARDSTICK_REF_SERVER_REAL"):
        return Path(os.environ["YARDSTICK_REF_SERVER_REAL"])
    if os.environ.get("YARDSTICK_SHARED"):
        return Path(os.environ["YARDSTICK_SHARED"]) / "tools" / "ref_server.py"
    return REPO.parent / "shared" / "tools" / "ref_server.py"


class _Prefixed:
    """rfile stand-in that first returns an already-read body, then reads from the socket file again."""

    def __init__(self, body: bytes, inner):
        self._body, self._inner = body, inner

    def read(self, n=-1):
        if self._body:
            if n is None or n < 0 or n >= len(self._body):
                out, self._body = self._body, b""
                if n is not None and n > len(out):
                    out += self._inner.read(n - len(out))
                return out
            out, self._body = self._body[:n], self._body[n:]
            return out
        return self._inner.read(n)

    def readline(self, *a):
        if self._body:
            raise RuntimeError("readline before the body was consumed")
        return self._inner.readline(*a)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def install(log_path: str, bodies: bool):
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    lock = threading.Lock()
    orig_parse = http.server.BaseHTTPRequestHandler.parse_request

    def parse_request(self):
        # a keep-alive connection: restore the socket file a previous request's _Prefixed wrapped
        if isinstance(self.rfile, _Prefixed):
            self.rfile = self.rfile._inner
        ok = orig_parse(self)
        if not ok:
            return ok
        t = time.time()
        n = int(self.headers.get("content-length", 0) or 0)
        rec = {"t": t, "method": self.command, "path": self.path, "bytes": n}
        if bodies and n:
            body = self.rfile.read(n)
            self.rfile = _Prefixed(body, self.rfile)
            rec["body"] = body.decode("utf-8", errors="replace")
        line = (json.dumps(rec) + "\n").encode()
        with lock:
            os.write(fd, line)
        return ok

    http.server.BaseHTTPRequestHandler.parse_request = parse_request


def main():
    log_path = os.environ.get("YARDSTICK_REQUEST_LOG")
    if not log_path:
        sys.exit("ref_server_logged.py: set YARDSTICK_REQUEST_LOG to the JSON-lines file to append requests to")
    install(log_path, os.environ.get("YARDSTICK_REQUEST_LOG_BODIES") == "1")
    server = real_server()
    if not server.is_file():
        sys.exit(f"ref_server_logged.py: the real ref_server.py is not at {server} (set YARDSTICK_REF_SERVER_REAL)")
    sys.argv = [str(server)] + sys.argv[1:]
    runpy.run_path(str(server), run_name="__main__")


if __name__ == "__main__":
    main()
