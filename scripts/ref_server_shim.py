#!/usr/bin/env python3
"""Runs shared/tools/ref_server.py unchanged, with three additions made from outside (monkeypatching before the
script runs): a fix for a data race in it, TCP_NODELAY, and an optional request log. Start it through scripts/serve-ref:

  YARDSTICK_REF_SERVER=scripts/ref_server_shim.py [YARDSTICK_REQUEST_LOG=/path/log.jsonl] \\
      [YARDSTICK_REQUEST_LOG_BODIES=1] scripts/serve-ref MODEL PORT [--threads N] [--ctx N]

1. The race (ref_server.py as of this writing): `rows = np.asarray(llm.scores[lo : n - 1], dtype=np.float32)`
   is taken inside the model lock, but np.asarray of a float32 slice of llama-cpp-python's `Llama.scores` is a
   VIEW of the logits buffer, not a copy; the log-softmax, token_logprobs and (in a Python loop, slowest)
   top_logprobs are computed from it after the lock is released. When a second request is in flight, its
   `llm.eval` overwrites the buffer meanwhile, and the first response carries log-probabilities of the other
   prompt's rows. Seen with 2 concurrent clients: 12 of 150 replayed requests got different top_logprobs than
   in a serial replay; lm-eval and Yardstick parity runs at concurrency 2 disagreed on 19 of 480 MMLU
   log-likelihoods by up to 0.14 nats, while each value, replayed alone, was reproducible.
   Fix here: `Llama.eval` at the start of a request (n_tokens == 0, right after `llm.reset()`) gives the model
   a fresh logits buffer (np.empty_like: pages are touched only for the rows written), so a view held by an
   earlier request keeps its own data. Numbers are unchanged; only the aliasing goes. YARDSTICK_REF_RACE_FIX=0
   turns the fix off (to reproduce the race). The real fix belongs in ref_server.py: `np.array(...)` (a
   copy) instead of `np.asarray(...)`, or computing the response inside the lock.
2. TCP_NODELAY on every connection (YARDSTICK_REF_NODELAY=0 turns it off). http.server sends a response's
   headers and body in two writes; with Nagle's algorithm on, the second waits for the client's delayed ACK, so
   every request on a keep-alive connection took ~40 ms longer than its work (measured: a trivial /tokenize
   took 44-52 ms on a kept-alive connection, ~1 ms on a fresh one). Servers used in practice (vLLM's uvicorn,
   llama-server) set TCP_NODELAY; without it the server's cost per request, not the harness, would be measured.
3. The request log (when YARDSTICK_REQUEST_LOG is set): every request is appended, as it arrives, as
     {"t": <unix time>, "method": "POST", "path": "/v1/completions", "bytes": N[, "body": "<raw body>"]}
   "t" is taken when the request line and headers have been parsed (before the body is read and before the
   model lock): the request's arrival time. Bodies only with YARDSTICK_REQUEST_LOG_BODIES=1. One os.write per
   request. scripts/bench-mmlu uses it for launch-to-first-request and to replay each harness's exact requests.

The real server script: $YARDSTICK_REF_SERVER_REAL, else $YARDSTICK_SHARED/tools/ref_server.py, else
<repo>/../shared/tools/ref_server.py; arguments are passed to it unchanged.
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


def install_race_fix():
    import llama_cpp
    import numpy as np

    orig_eval = llama_cpp.Llama.eval

    def eval_with_own_buffer(self, tokens):
        if self.n_tokens == 0:
            # a new request: its own logits buffer, so earlier requests' views of the old one stay intact
            self.scores = np.empty_like(self.scores)
        return orig_eval(self, tokens)

    llama_cpp.Llama.eval = eval_with_own_buffer


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
            raise RuntimeError("readline before the request body was consumed")
        return self._inner.readline(*a)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def install_request_log(log_path: str, bodies: bool):
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    lock = threading.Lock()
    orig_parse = http.server.BaseHTTPRequestHandler.parse_request

    def parse_request(self):
        if isinstance(self.rfile, _Prefixed):  # keep-alive: unwrap what the previous request wrapped
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


def install_nodelay():
    # socketserver.StreamRequestHandler sets TCP_NODELAY on each accepted connection when this is true
    http.server.BaseHTTPRequestHandler.disable_nagle_algorithm = True


def main():
    if os.environ.get("YARDSTICK_REF_RACE_FIX", "1") != "0":
        install_race_fix()
    if os.environ.get("YARDSTICK_REF_NODELAY", "1") != "0":
        install_nodelay()
    if os.environ.get("YARDSTICK_REQUEST_LOG"):
        install_request_log(os.environ["YARDSTICK_REQUEST_LOG"], os.environ.get("YARDSTICK_REQUEST_LOG_BODIES") == "1")
    server = real_server()
    if not server.is_file():
        sys.exit(f"ref_server_shim.py: the real ref_server.py is not at {server} (set YARDSTICK_REF_SERVER_REAL)")
    sys.argv = [str(server)] + sys.argv[1:]
    runpy.run_path(str(server), run_name="__main__")


if __name__ == "__main__":
    main()
